/*
 * The application context shared by the domain modules, and the module
 * table through which each module hands its routes to the server.
 *
 * Handlers reach the store through the request: yw_app_reader_or_reply
 * gives this thread's read connection, yw_app_write runs a function inside
 * the writer's group commit and waits until it is durable.
 */
#ifndef YW_APP_APP_H
#define YW_APP_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "audit/log.h"
#include "authz/policy.h"
#include "core/calendar.h"
#include "sec/egress.h"
#include "core/config.h"
#include "http/router.h"
#include "sec/keyring.h"
#include "store/store.h"

typedef struct {
    const yw_config *config;
    yw_store *store;
    yw_audit *audit;
    yw_keyring *keys;
    const yw_calendar *calendar; /* working days, for time limits */
    const yw_egress *egress;     /* where outbound calls may go */
} yw_app;

/*
 * A column where a module keeps values sealed under the data keys
 * (sec/keyring.h). After a key rotation the server re-seals every such
 * value under the new key in the background (data/reencrypt.h), so that
 * an old key can be retired.
 */
typedef struct {
    const char *table; /* a table with rowids */
    const char *column;
    /*
     * SQL over the row: the value's sealing context; for a column holding
     * a JSON object of sealed values (members), what comes before "/" and
     * the member's name in each value's context.
     */
    const char *context;
    bool members;
    bool clear_too; /* a value found in clear (written before the column was sealed) is sealed as well */
} yw_sealed_column;

typedef struct {
    const char *name;
    const yw_route *routes;
    size_t nroutes;
    const yw_sealed_column *sealed; /* ended by {0}; NULL: none */
} yw_module;

/* Every domain module, in the order their routes are matched. */
extern const yw_module *const yw_modules[];

/* Registers every module's routes. */
void yw_app_add_routes(yw_router *r);

yw_app *yw_req_app(const yw_req *req);

/*
 * This thread's read connection inside a read transaction, or NULL after
 * replying 503. Every read a handler makes sees one snapshot of the
 * database, until the handler writes (yw_app_write ends the snapshot, so a
 * read after a write sees the write) or returns (yw_app_handler_done).
 */
yw_db *yw_app_reader_or_reply(yw_req *req);

/* Ends the handler's read snapshot; the server calls it after every handler. */
void yw_app_handler_done(yw_req *req);

/*
 * Tables whose rows request threads keep copies of (credentials, grants,
 * resources as records see them, ...): the writer watches them
 * (yw_writer_watch_tables), and a change ends every copy.
 */
extern const char *const yw_app_cached_tables[];

/*
 * The writer generation (store/writer.h) that what this thread reads next
 * is at least as new as: a copy made from that read serves while
 * yw_app_generation still gives the same number. Call before the read.
 */
uint64_t yw_app_read_generation(yw_req *req);
uint64_t yw_app_generation(yw_req *req);

/*
 * Runs fn(db, arg) in the writer's group commit and waits until it is
 * durable (see yw_writer_run). When fn succeeds and the request is audited,
 * its audit entry — with the given HTTP status — is appended in the same
 * transaction, so the change and its record commit together or not at all.
 * When the request discloses data (audit.hash_bodies), the entry carries the
 * SHA-256 of the request body and of the reply already made: a handler that
 * discloses replies first, then writes, and replaces its reply if the write fails.
 */
int yw_app_write(yw_req *req, yw_write_fn fn, void *arg, int status);

/*
 * yw_app_write in two halves, so a request can prepare its next write while
 * this one commits (a bulk import). The audit entry is described at submit.
 * t must stay alive, and fn's arg unchanged, until the wait returns.
 */
typedef struct {
    yw_write_ticket ticket;
    yw_req *req;
    yw_write_fn fn; /* NULL: the entry alone */
    void *arg;
    int status;
    const char *request_sha256, *response_sha256;
    bool prepared;        /* event was filled at submit */
    yw_audit_event event;
    int64_t seq;          /* the entry written, or -1 */
} yw_app_write_ticket;

void yw_app_write_submit(yw_req *req, yw_app_write_ticket *t, yw_write_fn fn, void *arg, int status);
int yw_app_write_wait(yw_req *req, yw_app_write_ticket *t);

/*
 * yw_app_write without holding the worker: the request's connection waits
 * while fn and the audit entry commit, and then(req, rc) runs on a worker to
 * finish the reply (rc as yw_app_write returns it; the X-Yiwang-Audit-Seq
 * header is already set on success). The handler returns right after this
 * call, having made its reply or not; arg must live in the request arena.
 */
void yw_app_write_defer(yw_req *req, yw_write_fn fn, void *arg, int status, void (*then)(yw_req *req, int rc));

/* The server's recorder: appends the request's entry on its own (see yw_audit_recorder). */
void yw_app_record(yw_req *req);
/* The same, deferring the reply until the entry is durable (see yw_audit_deferred_recorder). */
void yw_app_record_deferred(yw_req *req);

/* The audit event describing req with the given status. */
void yw_app_audit_event(yw_req *req, int status, yw_audit_event *e);

/*
 * Replies with the problem that fits a storage failure code (409 for a
 * conflict, 503 when busy, 500 otherwise).
 */
void yw_reply_store_error(yw_req *req, int rc, const char *what);

/*
 * What every list route checks first: the caller may do action, ?limit=
 * (default 50, 1..1000) and ?cursor= are well formed. False after replying.
 */
bool yw_app_list_or_reply(yw_req *req, yw_action action, int *limit, const char **cursor);

/*
 * Runs sql with its one text parameter key and returns the first row as
 * JSON made by to_json (kept by the request: do not decref), or NULL when
 * there is none. On a database error replies and sets *failed.
 */
json_t *yw_app_load_one(yw_req *req, yw_db *db, const char *sql, const char *key, json_t *(*to_json)(yw_stmt *),
                        bool *failed);

/*
 * After a write, the object as stored now: the row of sql (one text
 * parameter, key) as to_json makes it, kept by the request; NULL after
 * replying (a store error, or 404 "no such <what>" when the row is gone).
 */
json_t *yw_app_load_written(yw_req *req, const char *sql, const char *key, json_t *(*to_json)(yw_stmt *),
                            const char *what);

/*
 * Replies with one page of a list: rows of s (fetched with LIMIT limit+1)
 * turned into JSON by to_json; when a row beyond limit exists, next_cursor
 * resumes after the key_field member of the last item. Releases s.
 */
void yw_reply_page(yw_req *req, yw_stmt *s, int limit, json_t *(*to_json)(yw_stmt *), const char *key_field);

/*
 * Why url, given in field, may not be registered as a place the hub calls
 * (its host an address the egress policy denies), or NULL when it may.
 */
const char *yw_app_egress_refusal(yw_req *req, const char *field, const char *url);

#endif
