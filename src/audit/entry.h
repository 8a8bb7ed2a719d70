/*
 * Audit entries: the fields of one event, their canonical serialization
 * (the bytes the Merkle leaf hashes), and their stored form.
 *
 * The canonical form is a JSON object with every key present, sorted by
 * byte order, no whitespace, UTF-8, escaping exactly as jansson does with
 * JSON_COMPACT | JSON_SORT_KEYS (docs/audit.md). It is written here by hand
 * because it is on the hot path of every audited request: no allocation,
 * one pass.
 *
 * The stored form keeps only what the canonical form does not imply: the
 * JSON array of the values in key order, without the key names, without
 * "result" (a function of "status"), without "seq" (the entry's position in
 * the log) and with "time" as milliseconds since the epoch:
 *
 *   [action,actor,actor_kind,actor_org,client,items,object_ids,object_type,
 *    purpose,request_id,request_sha256,response_sha256,stage,status,time_ms]
 *
 * Each value is copied byte for byte from the canonical form, so the
 * canonical form is rebuilt from the stored one by putting the keys back
 * (yw_audit_values_canonical), about half the bytes of the canonical form.
 */
#ifndef YW_AUDIT_ENTRY_H
#define YW_AUDIT_ENTRY_H

#include <stdbool.h>
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

/*
 * Appends the canonical serialization of e to canonical and, in the same
 * pass, its stored form to stored.
 */
void yw_audit_entry_encode(const yw_audit_event *e, uint64_t seq, int64_t time_ms, yw_buf *canonical, yw_buf *stored);

/* Appends a JSON string literal of s (NULL: null), escaped as the canonical form requires. */
void yw_audit_json_string(const char *s, yw_buf *out);

/* Appends a canonical JSON array of the strings in arr (a jansson array; NULL: []). */
struct json_t;
void yw_audit_json_array(const struct json_t *arr, yw_buf *out);

/* The values of the stored form, in its order. */
enum {
    YW_AUDIT_ACTION,
    YW_AUDIT_ACTOR,
    YW_AUDIT_ACTOR_KIND,
    YW_AUDIT_ACTOR_ORG,
    YW_AUDIT_CLIENT,
    YW_AUDIT_ITEMS,
    YW_AUDIT_OBJECT_IDS,
    YW_AUDIT_OBJECT_TYPE,
    YW_AUDIT_PURPOSE,
    YW_AUDIT_REQUEST_ID,
    YW_AUDIT_REQUEST_SHA256,
    YW_AUDIT_RESPONSE_SHA256,
    YW_AUDIT_STAGE,
    YW_AUDIT_STATUS,
    YW_AUDIT_TIME_MS,
    YW_AUDIT_NVALUES
};

/* One stored entry split into its values: each the JSON text of the value, pointing into the stored bytes. */
typedef struct {
    const char *at[YW_AUDIT_NVALUES];
    size_t len[YW_AUDIT_NVALUES];
    int64_t status, time_ms;
} yw_audit_values;

/*
 * Parses the stored entry at the start of p (len bytes): exactly the array
 * yw_audit_entry_encode writes, each value of its kind (string or null,
 * array, integer). Returns the bytes it spans, or -1 when malformed.
 */
long yw_audit_values_parse(const char *p, size_t len, yw_audit_values *v);

/* Appends the canonical form of the parsed entry v as entry seq to out. */
void yw_audit_values_canonical(const yw_audit_values *v, uint64_t seq, yw_buf *out);

/* Is value i the JSON string literal lit (as yw_audit_json_string writes it)? */
bool yw_audit_value_is(const yw_audit_values *v, int i, const char *lit, size_t lit_len);

/* Does the array value i (items or object_ids) hold the string literal lit? */
bool yw_audit_value_contains(const yw_audit_values *v, int i, const char *lit, size_t lit_len);

/*
 * The one-row-per-entry table of before migration 0008 (audit_log_v1), read
 * to convert it and to verify a data directory not yet converted: its
 * columns in the order yw_audit_legacy_row_read expects (leaf is column 16).
 */
#define YW_AUDIT_LEGACY_COLUMNS                                                                    \
    "seq, time_ms, actor, actor_kind, actor_org, action, stage, object_type, object_ids, items,"  \
    " purpose, status, request_id, client, request_sha256, response_sha256, leaf"

/* Reads such a row into e, seq and time (strings point into the statement: valid until the next step). */
void yw_audit_legacy_row_read(yw_stmt *s, yw_audit_event *e, uint64_t *seq, int64_t *time_ms);

#endif
