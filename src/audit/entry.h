/*
 * Audit entries: the fields of one event, their canonical serialization
 * (the bytes the Merkle leaf hashes), and their storage as a row.
 *
 * The canonical form is a JSON object with every key present, sorted by
 * byte order, no whitespace, UTF-8, escaping exactly as jansson does with
 * JSON_COMPACT | JSON_SORT_KEYS (docs/audit.md). It is written here by hand
 * because it is on the hot path of every audited request: no allocation,
 * one pass.
 */
#ifndef YW_AUDIT_ENTRY_H
#define YW_AUDIT_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/db.h"

typedef struct {
    const char *actor;       /* username, client id, or a system name; NULL: anonymous */
    const char *actor_kind;  /* user | client | system | anonymous */
    const char *actor_org;
    const char *action;      /* "auth.login", "user.create", ... */
    const char *stage;       /* collect | store | transmit | use | share | destroy, or NULL */
    const char *object_type;
    const char *object_ids;  /* canonical JSON array of strings, NULL for [] */
    const char *items;       /* names of the items disclosed (never values); array text, NULL for [] */
    const char *purpose;     /* purpose or grant id */
    int status;              /* HTTP status; result is derived from it */
    const char *request_id, *client;
    const char *request_sha256, *response_sha256; /* hex, where data flows */
} yw_audit_event;

/* "ok" below 400, "denied" for 401, 403, 404 and 429, "error" otherwise. */
const char *yw_audit_result(int status);

/* Appends the canonical serialization of e as entry seq at time_ms to out. */
void yw_audit_entry_write(const yw_audit_event *e, uint64_t seq, int64_t time_ms, yw_buf *out);

/* Appends a JSON string literal of s (NULL: null), escaped as the canonical form requires. */
void yw_audit_json_string(const char *s, yw_buf *out);

/* Appends a canonical JSON array of the strings in arr (a jansson array; NULL: []). */
struct json_t;
void yw_audit_json_array(const struct json_t *arr, yw_buf *out);

/* Columns of audit_log in the order yw_audit_row_read expects. */
#define YW_AUDIT_COLUMNS                                                                           \
    "seq, time_ms, actor, actor_kind, actor_org, action, stage, object_type, object_ids, items,"  \
    " purpose, status, request_id, client, request_sha256, response_sha256, leaf"

/*
 * Reads a row selected with YW_AUDIT_COLUMNS into e, seq and time (strings
 * point into the statement: valid until the next step) and writes its
 * canonical entry to out (reset first).
 */
void yw_audit_row_read(yw_stmt *s, yw_audit_event *e, uint64_t *seq, int64_t *time_ms, yw_buf *out);

#endif
