/*
 * Operational monitoring of mediated calls, and the calls themselves.
 *
 *   /metrics                                   per service and consumer, since start:
 *                                              calls, errors, bytes each way, latency histogram
 *   GET /api/v1/services/{id}/stats            ?since= (default: 24 hours ago) &until=, from the
 *                                              stored calls: per consumer and in all, calls,
 *                                              errors, bytes, latency p50/p90/p99/max (ms);
 *                                              the provider's people and the data bureau
 *   GET /api/v1/services/{id}/calls            the provider sees every call, a consumer its own;
 *                                              ?consumer_org= &outcome= &since= &until=
 *   GET /api/v1/services/{id}/calls/{call}
 *   GET /api/v1/services/{id}/calls/{call}/proof   inclusion proof of the call's audit entry
 *                                              against the latest signed tree head
 *
 * An error is a call that failed at the provider or on the way: a 5xx
 * answer, or no answer. The counters of /metrics live in memory (one node);
 * the API reads the service_calls rows every node writes.
 */
#include "access/access.h"
#include "access/handlers.h"

#include "app/app.h"
#include "audit/merkle.h"
#include "authz/policy.h"
#include "core/error.h"
#include "core/histogram.h"
#include "core/time.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define MAX_CONSUMERS_SHOWN 200

typedef struct {
    char service[16], consumer[32];
    uint64_t calls, errors, bytes_in, bytes_out;
    yw_histogram latency;
} stats_entry;

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static stats_entry **stats;
static size_t nstats, capstats;

void access_stats_observe(const char *service_id, const char *consumer_org, int status, bool error, int64_t ns,
                          uint64_t bytes_in, uint64_t bytes_out)
{
    (void)status;
    pthread_mutex_lock(&stats_lock);
    stats_entry *e = NULL;
    for (size_t i = 0; i < nstats && !e; i++)
        if (strcmp(stats[i]->service, service_id) == 0 && strcmp(stats[i]->consumer, consumer_org) == 0)
            e = stats[i];
    if (!e) {
        if (nstats == capstats) {
            capstats = capstats ? capstats * 2 : 16;
            stats = realloc(stats, capstats * sizeof *stats);
            if (!stats)
                abort();
        }
        e = calloc(1, sizeof *e);
        if (!e)
            abort();
        snprintf(e->service, sizeof e->service, "%s", service_id);
        snprintf(e->consumer, sizeof e->consumer, "%s", consumer_org);
        stats[nstats++] = e;
    }
    e->calls++;
    e->errors += error;
    e->bytes_in += bytes_in;
    e->bytes_out += bytes_out;
    yw_hist_observe(&e->latency, ns);
    pthread_mutex_unlock(&stats_lock);
}

void access_stats_render(yw_buf *out)
{
    static const struct {
        const char *name, *help;
        size_t offset;
    } counters[] = {
        {"yiwang_service_calls_total", "Mediated calls by service and consumer org.", offsetof(stats_entry, calls)},
        {"yiwang_service_errors_total", "Mediated calls that failed at or on the way to the provider.",
         offsetof(stats_entry, errors)},
        {"yiwang_service_request_bytes_total", "Request body bytes sent to providers.",
         offsetof(stats_entry, bytes_in)},
        {"yiwang_service_response_bytes_total", "Response body bytes received from providers.",
         offsetof(stats_entry, bytes_out)},
    };
    pthread_mutex_lock(&stats_lock);
    for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
        yw_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", counters[k].name, counters[k].help, counters[k].name);
        for (size_t i = 0; i < nstats; i++)
            yw_buf_printf(out, "%s{service=\"%s\",consumer=\"%s\"} %llu\n", counters[k].name, stats[i]->service,
                          stats[i]->consumer,
                          (unsigned long long)*(uint64_t *)((char *)stats[i] + counters[k].offset));
    }
    yw_buf_puts(out, "# HELP yiwang_service_call_duration_seconds Time of a mediated call, first byte to last.\n"
                     "# TYPE yiwang_service_call_duration_seconds histogram\n");
    for (size_t i = 0; i < nstats; i++) {
        char labels[96];
        snprintf(labels, sizeof labels, "service=\"%s\",consumer=\"%s\"", stats[i]->service, stats[i]->consumer);
        yw_hist_write(&stats[i]->latency, "yiwang_service_call_duration_seconds", labels, out);
    }
    pthread_mutex_unlock(&stats_lock);
}

void access_stats_reset(void)
{
    pthread_mutex_lock(&stats_lock);
    for (size_t i = 0; i < nstats; i++)
        free(stats[i]);
    free(stats);
    stats = NULL;
    nstats = capstats = 0;
    pthread_mutex_unlock(&stats_lock);
}

/* ---- statistics through the API ---- */

/*
 * The calls recorded from since (inclusive) to until (exclusive), from the
 * query's RFC 3339 times; since defaults to dflt_since, until to no end.
 * False after replying 400.
 */
static bool window_or_reply(yw_req *req, int64_t dflt_since, int64_t *since, int64_t *until)
{
    *since = dflt_since;
    *until = INT64_MAX;
    const char *names[] = {"since", "until"};
    int64_t *into[] = {since, until};
    for (int i = 0; i < 2; i++) {
        const char *text = yw_req_query(req, names[i]);
        if (text && yw_time_parse(text, into[i]) < 0) {
            yw_reply_problem(req, 400, "invalid_request", "%s is an RFC 3339 time, like 2026-11-01T00:00:00+08:00",
                             names[i]);
            return false;
        }
    }
    return true;
}

/* The p-th percentile (0..100) of the durations of the calls sql selects; -1 when there are none. */
static int percentile(yw_db *db, const char *service, const char *consumer, int64_t since, int64_t until,
                      int64_t count, int p, int64_t *out)
{
    *out = -1;
    if (count == 0)
        return 0;
    int64_t offset = (count * p + 99) / 100 - 1;
    if (offset < 0)
        offset = 0;
    return yw_db_int(db, out,
                     "SELECT duration_ms FROM service_calls WHERE service = $1 AND created_at >= $2"
                     " AND created_at < $3 AND ($4 IS NULL OR consumer_org = $4) ORDER BY duration_ms LIMIT 1 OFFSET $5",
                     "tiiti", service, since, until, consumer, offset) < 0
               ? -1
               : 0;
}

/* calls, errors, bytes and latency of the calls of service (by consumer, or all when consumer is NULL). */
static json_t *figures(yw_db *db, const char *service, const char *consumer, int64_t since, int64_t until,
                       bool *failed)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT count(*), coalesce(sum(status >= 500 OR outcome <> 'ok'), 0),"
                         " coalesce(sum(request_bytes), 0), coalesce(sum(response_bytes), 0),"
                         " coalesce(max(duration_ms), 0) FROM service_calls"
                         " WHERE service = $1 AND created_at >= $2 AND created_at < $3"
                         " AND ($4 IS NULL OR consumer_org = $4)",
                         "tiit", service, since, until, consumer);
    if (rc < 0 || yw_stmt_step(s) != YW_DB_ROW) {
        if (rc >= 0)
            yw_stmt_release(s);
        *failed = true;
        return NULL;
    }
    int64_t calls = yw_stmt_int(s, 0);
    json_t *v = json_pack("{s:I, s:I, s:I, s:I}", "calls", (json_int_t)calls, "errors", (json_int_t)yw_stmt_int(s, 1),
                          "request_bytes", (json_int_t)yw_stmt_int(s, 2), "response_bytes",
                          (json_int_t)yw_stmt_int(s, 3));
    int64_t max = yw_stmt_int(s, 4);
    yw_stmt_release(s);
    json_t *lat = json_object();
    static const int ps[] = {50, 90, 99};
    static const char *const names[] = {"p50", "p90", "p99"};
    for (int i = 0; i < 3; i++) {
        int64_t d;
        if (percentile(db, service, consumer, since, until, calls, ps[i], &d) < 0)
            *failed = true;
        json_object_set_new(lat, names[i], d >= 0 ? json_integer(d) : json_null());
    }
    json_object_set_new(lat, "max", calls ? json_integer(max) : json_null());
    json_object_set_new(v, "latency_ms", lat);
    return v;
}

void services_stats(yw_req *req)
{
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *svc = db ? service_or_reply(req, db) : NULL;
    if (!svc || !yw_authz_or_reply(req, YW_ACT_SERVICE_MONITOR, yw_json_str(svc, "provider_org"), NULL))
        return;
    int64_t since, until;
    if (!window_or_reply(req, yw_now_ms() - DAY_MS, &since, &until))
        return;
    const char *id = yw_json_str(svc, "id");
    bool failed = false;
    json_t *total = figures(db, id, NULL, since, until, &failed);
    json_t *consumers = json_array();
    yw_stmt *s;
    int rc = failed ? -1
                    : yw_db_query(db, &s,
                                  "SELECT DISTINCT consumer_org FROM service_calls"
                                  " WHERE service = $1 AND created_at >= $2 AND created_at < $3"
                                  " ORDER BY consumer_org LIMIT $4",
                                  "tiii", id, since, until, (int64_t)MAX_CONSUMERS_SHOWN);
    if (rc >= 0) {
        while (!failed && (rc = yw_stmt_step(s)) == YW_DB_ROW) {
            const char *consumer = yw_stmt_text(s, 0);
            json_t *f = figures(db, id, consumer, since, until, &failed);
            if (f) {
                json_object_set_new(f, "consumer_org", json_string(consumer));
                json_array_append_new(consumers, f);
            }
        }
        yw_stmt_release(s);
    }
    if (rc < 0 || failed) {
        json_decref(total);
        json_decref(consumers);
        yw_reply_store_error(req, rc < 0 ? rc : YW_EDB, "service statistics");
        return;
    }
    yw_reply_json_new(req, 200, json_pack("{s:s, s:o, s:o, s:o, s:o}", "service", id, "since", yw_json_time(since),
                                          "until", until == INT64_MAX ? json_null() : yw_json_time(until), "total",
                                          total, "consumers", consumers));
}

/* ---- calls ---- */

#define CALL_COLUMNS                                                                                               \
    "id, service, provider_org, consumer_org, client_id, grant_id, operation, method, status, outcome,"          \
    " request_bytes, response_bytes, request_sha256, response_sha256, duration_ms, audit_seq, created_at"

static json_t *call_json(yw_stmt *s)
{
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:i, s:s, s:I, s:I, s:s, s:s, s:I, s:I}", "id",
                          yw_stmt_text(s, 0), "service", yw_stmt_text(s, 1), "provider_org", yw_stmt_text(s, 2),
                          "consumer_org", yw_stmt_text(s, 3), "client_id", yw_stmt_text(s, 4), "grant_id",
                          yw_stmt_text(s, 5), "operation", yw_stmt_text(s, 6), "method", yw_stmt_text(s, 7),
                          "status", (int)yw_stmt_int(s, 8), "outcome", yw_stmt_text(s, 9), "request_bytes",
                          (json_int_t)yw_stmt_int(s, 10), "response_bytes", (json_int_t)yw_stmt_int(s, 11),
                          "request_sha256", yw_stmt_text(s, 12), "response_sha256", yw_stmt_text(s, 13),
                          "duration_ms", (json_int_t)yw_stmt_int(s, 14), "audit_seq", (json_int_t)yw_stmt_int(s, 15));
    if (!json_object_get(v, "grant_id"))
        json_object_set_new(v, "grant_id", json_null());
    if (!json_object_get(v, "operation"))
        json_object_set_new(v, "operation", json_null());
    json_object_set_new(v, "created_at", yw_json_time(yw_stmt_int(s, 16)));
    return v;
}

/*
 * Whose calls of svc the caller sees: every one (returns NULL in *consumer)
 * as the provider or the data bureau, its own org's as a consumer. False
 * after replying 403 (no role for calls at all).
 */
static bool calls_scope_or_reply(yw_req *req, const json_t *svc, const char **consumer)
{
    *consumer = NULL;
    if (yw_authz(&req->principal, YW_ACT_SERVICE_CALLS, yw_json_str(svc, "provider_org"), NULL) == YW_AUTHZ_ALLOW)
        return true;
    if (!yw_authz_or_reply(req, YW_ACT_SERVICE_CALLS, NULL, NULL))
        return false;
    *consumer = req->principal.org_code;
    return true;
}

void services_calls(yw_req *req)
{
    int limit;
    const char *cursor, *consumer;
    int64_t since, until;
    if (yw_req_limit_or_reply(req, &limit) < 0 || yw_req_cursor_or_reply(req, &cursor) < 0 ||
        !window_or_reply(req, 0, &since, &until))
        return;
    const char *consumer_org = yw_req_query(req, "consumer_org"), *outcome = yw_req_query(req, "outcome");
    if (outcome && !access_outcome_known(outcome)) {
        yw_buf names = YW_BUF_INIT;
        access_outcomes_list(&names);
        yw_reply_problem(req, 400, "invalid_request", "outcome is one of %s", names.data);
        yw_buf_free(&names);
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *svc = db ? service_or_reply(req, db) : NULL;
    if (!svc || !calls_scope_or_reply(req, svc, &consumer))
        return;
    /* In the order they were recorded: the cursor is the created_at and seq of the last one shown. */
    long long after_time = -1, after_seq = -1;
    if (cursor && (sscanf(cursor, "%lld,%lld", &after_time, &after_seq) != 2 || after_time < 0 || after_seq < 0)) {
        yw_reply_problem(req, 400, "invalid_request", "cursor is not one this server issued");
        return;
    }
    /* A consumer asking for another org's calls sees none: its scope and the filter both apply. */
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " CALL_COLUMNS ", seq FROM service_calls WHERE service = $1"
                         " AND ($2 IS NULL OR consumer_org = $2) AND ($3 IS NULL OR consumer_org = $3)"
                         " AND ($4 IS NULL OR outcome = $4) AND created_at >= $5 AND created_at < $6"
                         " AND (created_at, seq) > ($7, $8) ORDER BY created_at, seq LIMIT $9",
                         "ttttiiiii", yw_json_str(svc, "id"), consumer, consumer_org, outcome, since, until,
                         (int64_t)after_time, (int64_t)after_seq, (int64_t)limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "service call");
        return;
    }
    json_t *items = yw_req_keep(req, json_array());
    const char *next = NULL;
    long long last_time = 0, last_seq = 0;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        if ((int)json_array_size(items) == limit) {
            next = yw_cursor_encode(req, yw_arena_printf(req->arena, "%lld,%lld", last_time, last_seq));
            break;
        }
        json_array_append_new(items, call_json(s));
        last_time = yw_stmt_int(s, 16);
        last_seq = yw_stmt_int(s, 17);
    }
    yw_stmt_release(s);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "service call");
        return;
    }
    yw_reply_json_new(req, 200, json_pack("{s:O, s:s?}", "items", items, "next_cursor", next));
}

/* The call named by the path, if the caller took part in it; else replies. Kept by the request. */
static json_t *call_or_reply(yw_req *req, yw_db *db)
{
    const char *consumer;
    json_t *svc = service_or_reply(req, db);
    if (!svc || !calls_scope_or_reply(req, svc, &consumer))
        return NULL;
    /* A caller may have sent its own request id: the newest call of that id the caller may see. */
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " CALL_COLUMNS " FROM service_calls WHERE service = $1 AND id = $2"
                         " AND ($3 IS NULL OR consumer_org = $3) ORDER BY seq DESC LIMIT 1",
                         "ttt", yw_json_str(svc, "id"), yw_req_param(req, "call"), consumer);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "service call");
        return NULL;
    }
    json_t *call = (rc = yw_stmt_step(s)) == YW_DB_ROW ? yw_req_keep(req, call_json(s)) : NULL;
    yw_stmt_release(s);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "service call");
        return NULL;
    }
    if (!call)
        yw_reply_problem(req, 404, "not_found", "no such service call");
    return call;
}

void services_call_get(yw_req *req)
{
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *call = db ? call_or_reply(req, db) : NULL;
    if (call)
        yw_reply_json(req, 200, call);
}

void services_call_proof(yw_req *req)
{
    req->audit.object_type = "service_call";
    req->audit.object_ids = yw_req_keep(req, json_pack("[s]", yw_req_param(req, "call")));
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *call = db ? call_or_reply(req, db) : NULL;
    if (!call)
        return;
    int64_t seq = json_integer_value(json_object_get(call, "audit_seq"));
    yw_buf text = YW_BUF_INIT;
    yw_hash leaf;
    int rc = yw_audit_entry_at(db, (uint64_t)seq, &text, leaf, NULL);
    const char *entry = rc == 1 ? yw_arena_strdup(req->arena, text.data) : NULL;
    yw_buf_free(&text);
    if (!entry) {
        yw_reply_store_error(req, rc < 0 ? rc : YW_EDB, "audit entry");
        return;
    }
    yw_tree_head h;
    rc = yw_audit_latest_head(db, &h);
    if (rc == 0 || (rc > 0 && h.tree_size <= (uint64_t)seq)) {
        yw_reply_problem(req, 409, "not_yet_signed",
                         "the call's entry %lld is not inside a signed tree yet;"
                         " heads are signed every second, try again",
                         (long long)seq);
        return;
    }
    json_t *proof = rc < 0 ? NULL : yw_audit_inclusion_json(yw_req_app(req)->audit, db, (uint64_t)seq, entry, leaf, &h, &rc);
    if (!proof) {
        yw_reply_store_error(req, rc, "audit proof");
        return;
    }
    yw_reply_json_new(req, 200, proof);
}
