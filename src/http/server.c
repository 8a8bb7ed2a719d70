/*
 * HTTP server over libmicrohttpd (see server.h).
 *
 * libmicrohttpd calls the access handler several times per request: once
 * with the headers, once per chunk of body, and once with no data when the
 * body is complete. The first call creates the yw_req and matches the route
 * (so the route's body limit applies while the body arrives); body chunks
 * are appended to a buffer that stops growing at the limit; the last call
 * runs the pipeline and queues the response. The completion callback writes
 * the access log and metrics and frees the request.
 *
 * Request lifecycle:
 *   first call ─▶ [too large by Content-Length? reply 413]
 *   body chunks ─▶ append (or mark too large)
 *   last call ─▶ builtin? ─▶ route ─▶ authenticate ─▶ password-change gate ─▶ handler ─▶ queue
 *   completed ─▶ access log, metrics, free
 */
#include "http/server.h"
#include "http/ratelimit.h"

#include "core/buf.h"
#include "core/histogram.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "sec/token.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_STATUS_SLOTS 12

/* Metrics of one route: one slot per status seen. */
typedef struct {
    _Atomic int status;
    _Atomic uint64_t requests;
    yw_histogram latency;
} status_slot;

typedef struct {
    const char *method, *pattern;
    status_slot slots[MAX_STATUS_SLOTS];
} route_metrics;

struct yw_server {
    struct MHD_Daemon *daemon;
    yw_router *router;
    yw_server_config cfg;
    int port;
    char id_prefix[9];
    _Atomic uint64_t id_counter;
    _Atomic int in_flight;
    route_metrics *metrics; /* one per router route, then one for unmatched paths */
    size_t nmetrics;
    yw_ratelimit *rate; /* NULL: no limit */
};

/* A streamed reply as libmicrohttpd holds it; freed by its release callback. */
typedef struct {
    yw_body_source source;
    struct MHD_Response *response;
} stream_reply;

/* Per-request state around the yw_req while the body streams in. */
typedef struct {
    yw_req req;
    char *body;
    size_t body_len, body_cap, limit;
    bool too_large;
    bool streaming; /* admitted to a stream route: the body goes to it piece by piece */
    int64_t start_ns;
    const char *allow;
    yw_match_result match;
    /* a deferred reply: the connection is suspended until the work it waits for is done */
    pthread_mutex_t defer_lock;
    bool suspended, resumed;
    /* flow control of a streaming route (yw_req_pause, yw_req_wake), under defer_lock */
    bool paused, wake_pending;
    stream_reply *stream; /* the streamed reply once queued */
} req_state;

/* ---- metrics ---- */

static void metrics_observe(yw_server *s, const yw_route *route, int status, int64_t ns)
{
    size_t idx = s->nmetrics - 1;
    for (size_t i = 0; route && i + 1 < s->nmetrics; i++)
        if (yw_router_at(s->router, i) == route)
            idx = i;
    route_metrics *m = &s->metrics[idx];
    for (int i = 0; i < MAX_STATUS_SLOTS; i++) {
        int cur = atomic_load(&m->slots[i].status);
        if (cur == 0) {
            int zero = 0;
            if (!atomic_compare_exchange_strong(&m->slots[i].status, &zero, status))
                cur = zero;
            else
                cur = status;
        }
        if (cur == status) {
            atomic_fetch_add_explicit(&m->slots[i].requests, 1, memory_order_relaxed);
            yw_hist_observe(&m->slots[i].latency, ns);
            return;
        }
    }
}

static void metrics_render(yw_server *s, yw_buf *out)
{
    yw_buf_puts(out, "# HELP yiwang_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE yiwang_http_requests_total counter\n");
    for (size_t i = 0; i < s->nmetrics; i++) {
        route_metrics *m = &s->metrics[i];
        for (int k = 0; k < MAX_STATUS_SLOTS && atomic_load(&m->slots[k].status); k++)
            yw_buf_printf(out, "yiwang_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
                          m->method, m->pattern, atomic_load(&m->slots[k].status),
                          (unsigned long long)atomic_load(&m->slots[k].requests));
    }
    yw_buf_puts(out, "# HELP yiwang_http_request_duration_seconds Time from request to response.\n"
                     "# TYPE yiwang_http_request_duration_seconds histogram\n");
    char labels[512];
    for (size_t i = 0; i < s->nmetrics; i++) {
        route_metrics *m = &s->metrics[i];
        for (int k = 0; k < MAX_STATUS_SLOTS && atomic_load(&m->slots[k].status); k++) {
            snprintf(labels, sizeof labels, "method=\"%s\",route=\"%s\",status=\"%d\"", m->method, m->pattern,
                     atomic_load(&m->slots[k].status));
            yw_hist_write(&m->slots[k].latency, "yiwang_http_request_duration_seconds", labels, out);
        }
    }
    yw_writer_stats ws;
    yw_writer_get_stats(yw_store_writer(s->cfg.store), &ws);
    yw_buf_printf(out,
                  "# HELP yiwang_writer_queue_depth Write jobs waiting for the writer.\n"
                  "# TYPE yiwang_writer_queue_depth gauge\nyiwang_writer_queue_depth %zu\n"
                  "# HELP yiwang_writer_commits_total Group commits.\n"
                  "# TYPE yiwang_writer_commits_total counter\nyiwang_writer_commits_total %llu\n"
                  "# HELP yiwang_writer_jobs_total Write jobs committed.\n"
                  "# TYPE yiwang_writer_jobs_total counter\nyiwang_writer_jobs_total %llu\n"
                  "# HELP yiwang_writer_commit_duration_seconds Time of one group commit.\n"
                  "# TYPE yiwang_writer_commit_duration_seconds histogram\n",
                  ws.queue_depth, (unsigned long long)ws.commits, (unsigned long long)ws.jobs);
    yw_hist_write(ws.commit_latency, "yiwang_writer_commit_duration_seconds", "", out);
    yw_buf_printf(out, "# HELP yiwang_http_in_flight Requests being served.\n"
                       "# TYPE yiwang_http_in_flight gauge\nyiwang_http_in_flight %d\n",
                  atomic_load(&s->in_flight));
    if (s->cfg.metrics_extra)
        s->cfg.metrics_extra(out);
}

/* ---- request accessors and replies ---- */

const char *yw_req_param(const yw_req *req, const char *name)
{
    for (int i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}

const char *yw_req_query(const yw_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct {
    void (*fn)(void *arg, const char *key, const char *value);
    void *arg;
} query_visit;

static enum MHD_Result visit_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    query_visit *v = cls;
    v->fn(v->arg, key, value);
    return MHD_YES;
}

void yw_req_query_each(const yw_req *req, void (*fn)(void *arg, const char *key, const char *value), void *arg)
{
    query_visit v = {fn, arg};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, visit_query, &v);
}

const char *yw_req_header(const yw_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void yw_reply_raw(yw_req *req, int status, const char *content_type, const char *body, size_t len)
{
    req->status = status;
    req->reply_type = content_type;
    req->reply_body = yw_arena_strndup(req->arena, body ? body : "", body ? len : 0);
    req->reply_len = body ? len : 0;
}

void yw_reply_header(yw_req *req, const char *name, const char *value)
{
    if (req->nreply_headers < 8) {
        req->reply_headers[req->nreply_headers][0] = name;
        req->reply_headers[req->nreply_headers][1] = value;
        req->nreply_headers++;
    }
}

static void reply_json_typed(yw_req *req, int status, const json_t *v, const char *type)
{
    yw_buf text = YW_BUF_INIT;
    yw_json_write(&text, v);
    yw_reply_raw(req, status, type, text.data, text.len);
    yw_buf_wipe(&text); /* an answer may hold decrypted values: only the arena's copy stays, wiped with it */
}

void yw_reply_json(yw_req *req, int status, const json_t *v)
{
    reply_json_typed(req, status, v, "application/json");
}

void yw_reply_json_new(yw_req *req, int status, json_t *v)
{
    yw_reply_json(req, status, v);
    json_decref(v);
}

static const char *status_title(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

void yw_reply_problem(yw_req *req, int status, const char *code, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    char type[160];
    snprintf(type, sizeof type, "https://yiwang.dev/problems/%s", code);
    json_t *p = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "type", type, "title", status_title(status),
                          "status", status, "detail", detail, "code", code, "request_id", req->request_id);
    reply_json_typed(req, status, p, "application/problem+json");
    json_decref(p);
}

static void decref_cb(void *v)
{
    json_decref(v);
}

static void record_audit(yw_server *s, yw_req *req);
static enum MHD_Result queue_reply(struct MHD_Connection *conn, yw_req *req);

void yw_req_defer(yw_req *req, void (*then)(yw_req *req), void *arg)
{
    req->deferred = then;
    req->deferred_arg = arg;
}

void yw_req_resume(yw_req *req)
{
    req_state *st = (req_state *)req; /* the request is the state's first member */
    struct MHD_Connection *conn = req->conn;
    pthread_mutex_lock(&st->defer_lock);
    st->resumed = true;
    bool suspended = st->suspended;
    pthread_mutex_unlock(&st->defer_lock);
    /* Last: once resumed, a worker may finish the request and free st at any moment. */
    if (suspended)
        MHD_resume_connection(conn);
}

/*
 * After a handler deferred its reply: suspends the connection until
 * yw_req_resume, unless that came already. True when suspended.
 */
static bool suspend_deferred(struct MHD_Connection *conn, req_state *st)
{
    pthread_mutex_lock(&st->defer_lock);
    bool wait = !st->resumed;
    if (wait) {
        MHD_suspend_connection(conn);
        st->suspended = true;
    }
    pthread_mutex_unlock(&st->defer_lock);
    return wait;
}

/* Makes the reply of a deferred request, now resumed, and queues it. */
static enum MHD_Result finish_deferred(yw_server *s, struct MHD_Connection *conn, req_state *st)
{
    void (*then)(yw_req *) = st->req.deferred;
    st->req.deferred = NULL;
    then(&st->req);
    if (s->cfg.handler_done)
        s->cfg.handler_done(&st->req);
    if (!st->req.status)
        yw_reply_problem(&st->req, 500, "internal", "the request could not be completed");
    record_audit(s, &st->req);
    return queue_reply(conn, &st->req);
}

void yw_req_pause(yw_req *req)
{
    req_state *st = (req_state *)req;
    pthread_mutex_lock(&st->defer_lock);
    if (st->wake_pending) {
        st->wake_pending = false; /* woken already: ask again at once */
    } else {
        MHD_suspend_connection(req->conn);
        st->paused = true;
    }
    pthread_mutex_unlock(&st->defer_lock);
}

void yw_req_wake(yw_req *req)
{
    req_state *st = (req_state *)req;
    pthread_mutex_lock(&st->defer_lock);
    if (st->paused) {
        st->paused = false;
        MHD_resume_connection(req->conn);
    } else {
        st->wake_pending = true;
    }
    pthread_mutex_unlock(&st->defer_lock);
}

void yw_reply_stream(yw_req *req, int status, const char *content_type, const yw_body_source *source)
{
    req->status = status;
    req->reply_type = content_type;
    req->reply_body = NULL;
    req->reply_len = 0;
    req->reply_source = yw_arena_alloc(req->arena, sizeof *req->reply_source);
    *req->reply_source = *source;
}

void yw_reply_trailer(yw_req *req, const char *name, const char *value)
{
    req_state *st = (req_state *)req;
    if (st->stream)
        MHD_add_response_footer(st->stream->response, name, value);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream_reply *r = cls;
    long n = r->source.read(r->source.arg, buf, max);
    if (n == YW_BODY_END)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

static void stream_release(void *cls)
{
    stream_reply *r = cls;
    if (r->source.release)
        r->source.release(r->source.arg);
    free(r);
}

void yw_req_audit_object(yw_req *req, const char *type, const char *id)
{
    req->audit.object_type = type;
    req->audit.object_ids = yw_req_keep(req, json_pack("[s]", id ? id : ""));
}

json_t *yw_req_keep(yw_req *req, json_t *v)
{
    if (v)
        yw_arena_on_free(req->arena, decref_cb, v);
    return v;
}

json_t *yw_req_json_or_reply(yw_req *req, const yw_json_field *fields, size_t n)
{
    const char *ct = yw_req_header(req, "Content-Type");
    size_t ctlen = ct ? strcspn(ct, "; ") : 0;
    if (!ct || ctlen != 16 || strncasecmp(ct, "application/json", 16) != 0) {
        yw_reply_problem(req, 415, "unsupported_media_type", "send the body as application/json");
        return NULL;
    }
    if (!req->body) {
        yw_reply_problem(req, 400, "invalid_request", "a JSON body is required");
        return NULL;
    }
    char err[256];
    json_t *v = yw_json_parse(req->body, req->body_len, YW_JSON_MAX_DEPTH, err, sizeof err);
    if (!v) {
        yw_reply_problem(req, 400, "malformed_json", "%s", err);
        return NULL;
    }
    yw_req_keep(req, v);
    if (yw_json_check(v, fields, n, err, sizeof err) < 0) {
        yw_reply_problem(req, 400, "invalid_request", "%s", err);
        return NULL;
    }
    return v;
}

int yw_req_limit_or_reply(yw_req *req, int *limit)
{
    const char *v = yw_req_query(req, "limit");
    *limit = 50;
    if (!v)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 1 || n > 1000) {
        yw_reply_problem(req, 400, "invalid_request", "limit must be an integer from 1 to 1000");
        return -1;
    }
    *limit = (int)n;
    return 0;
}

int yw_req_cursor_or_reply(yw_req *req, const char **key)
{
    const char *v = yw_req_query(req, "cursor");
    *key = NULL;
    if (!v || !*v)
        return 0;
    size_t n = strlen(v);
    unsigned char *out = yw_arena_alloc(req->arena, n + 1);
    size_t len = 0;
    if (n > 1024 || sodium_base642bin(out, n, v, n, NULL, &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        memchr(out, 0, len)) {
        yw_reply_problem(req, 400, "invalid_request", "cursor is not one this server issued");
        return -1;
    }
    out[len] = '\0';
    *key = (const char *)out;
    return 0;
}

const char *yw_cursor_encode(yw_req *req, const char *key)
{
    size_t n = strlen(key);
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = yw_arena_alloc(req->arena, cap);
    sodium_bin2base64(out, cap, (const unsigned char *)key, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

/* ---- pipeline ---- */

static bool sane_request_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return false;
    }
    return true;
}

static void serve_builtin(yw_server *s, yw_req *req)
{
    if (strcmp(req->path, "/healthz") == 0) {
        yw_reply_raw(req, 200, "application/json", "{\"status\":\"ok\"}", 15);
    } else if (strcmp(req->path, "/readyz") == 0) {
        yw_db *db = yw_store_reader(s->cfg.store);
        int64_t one = 0;
        if (db && yw_db_int(db, &one, "SELECT 1", "") == YW_DB_ROW)
            yw_reply_raw(req, 200, "application/json", "{\"status\":\"ready\"}", 18);
        else
            yw_reply_problem(req, 503, "not_ready", "the database cannot be read");
    } else {
        yw_buf out = YW_BUF_INIT;
        metrics_render(s, &out);
        yw_reply_raw(req, 200, "text/plain; version=0.0.4", out.data, out.len);
        yw_buf_free(&out);
    }
}

static bool is_builtin(const char *method, const char *path)
{
    return (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
           (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 || strcmp(path, "/metrics") == 0);
}

static bool safe_method(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/*
 * The console's session rides in an HttpOnly cookie instead of a bearer
 * header. A browser sends cookies with requests other sites make it send,
 * so a request that changes anything must also prove it comes from a page
 * of this server: the X-CSRF-Token header must carry the proof derived from
 * the session token (yw_token_csrf), which the console reads from the
 * yw_csrf cookie and no other site can read or compute.
 */
static void authenticate_cookie(yw_server *s, yw_req *req, const char *secret)
{
    const char *why = "the console session is invalid, expired or was ended; sign in again";
    size_t len = strlen(secret);
    if (!s->cfg.authenticate || s->cfg.authenticate(req, secret, len, &why) < 0 ||
        req->principal.kind != YW_PRINCIPAL_USER) {
        memset(&req->principal, 0, sizeof req->principal);
        yw_reply_header(req, "WWW-Authenticate", "Bearer realm=\"yiwang\", error=\"invalid_token\"");
        yw_reply_problem(req, 401, "invalid_token", "%s", why);
        return;
    }
    if (safe_method(req->method))
        return;
    char expected[YW_TOKEN_MAX];
    yw_token_csrf(secret, len, expected);
    const char *proof = yw_req_header(req, "X-CSRF-Token");
    if (!proof || strlen(proof) != strlen(expected) || !yw_token_equal(proof, expected, strlen(expected))) {
        memset(&req->principal, 0, sizeof req->principal);
        yw_reply_problem(req, 403, "csrf_failed",
                         "a request signed in by the console cookie must carry X-CSRF-Token with the value of the "
                         "yw_csrf cookie; reload the console and try again");
    }
}

static void authenticate(yw_server *s, yw_req *req)
{
    const char *auth = yw_req_header(req, "Authorization");
    const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, YW_SESSION_COOKIE);
    if (!auth && cookie && *cookie) {
        authenticate_cookie(s, req, cookie);
        return;
    }
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
        yw_reply_header(req, "WWW-Authenticate", "Bearer realm=\"yiwang\"");
        yw_reply_problem(req, 401, "unauthenticated", "send Authorization: Bearer <token>");
        return;
    }
    const char *secret = auth + 7;
    while (*secret == ' ')
        secret++;
    const char *why = "the token is invalid, expired or revoked";
    if (!s->cfg.authenticate || s->cfg.authenticate(req, secret, strlen(secret), &why) < 0) {
        memset(&req->principal, 0, sizeof req->principal);
        yw_reply_header(req, "WWW-Authenticate", "Bearer realm=\"yiwang\", error=\"invalid_token\"");
        yw_reply_problem(req, 401, "invalid_token", "%s", why);
    }
}

/*
 * Everything a request must pass before its route runs: size, path, method,
 * credential, pending password change. False after replying.
 */
static bool admit(yw_server *s, req_state *st)
{
    yw_req *req = &st->req;
    if (st->too_large) {
        yw_reply_problem(req, 413, "body_too_large", "the body exceeds %zu bytes", st->limit);
        return false;
    }
    if (is_builtin(req->method, req->path)) {
        serve_builtin(s, req);
        return false;
    }
    if (st->match == YW_MATCH_NO_PATH) {
        yw_reply_problem(req, 404, "not_found", "no resource at %.200s", req->path);
        return false;
    }
    if (st->match == YW_MATCH_NO_METHOD) {
        yw_reply_header(req, "Allow", st->allow);
        yw_reply_problem(req, 405, "method_not_allowed", "%s is not allowed here; use %s", req->method, st->allow);
        return false;
    }
    const yw_route *route = req->route;
    if (!(route->flags & YW_ROUTE_PUBLIC)) {
        authenticate(s, req);
        if (req->status)
            return false;
        int wait = yw_ratelimit_take(s->rate, req->principal.id, yw_mono_ns());
        if (wait > 0) {
            yw_reply_header(req, "Retry-After", yw_arena_printf(req->arena, "%d", wait));
            yw_reply_problem(req, 429, "rate_limited", "more than %d requests a second from %s: slow down",
                             s->cfg.rate_limit, req->principal.id);
            return false;
        }
        if (req->principal.must_change_password && !(route->flags & YW_ROUTE_DURING_PW_CHANGE)) {
            yw_reply_problem(req, 403, "password_change_required",
                             "change your password first: POST /api/v1/users/%s/password", req->principal.id);
            return false;
        }
    }
    return true;
}

/* Runs route code (a handler, or a streamed piece of the body) and ends its read snapshot. */
static void run_route(yw_server *s, yw_req *req, const char *data, size_t len, bool finish)
{
    if (finish)
        req->route->handler(req);
    else
        req->route->stream(req, data, len);
    if (s->cfg.handler_done)
        s->cfg.handler_done(req);
}

static void dispatch(yw_server *s, req_state *st)
{
    yw_req *req = &st->req;
    req->body = st->body;
    req->body_len = st->body_len;
    if (!admit(s, st))
        return;
    run_route(s, req, NULL, 0, true);
    if (!req->status && !req->deferred)
        yw_reply_problem(req, 500, "internal", "the request could not be completed");
}

/* Writes the audit entry of an audited request that has none yet. */
static void record_audit(yw_server *s, yw_req *req)
{
    if (!req->audit.action || req->audit.recorded || !s->cfg.record)
        return;
    s->cfg.record(req);
    if (req->audit.seq >= 0)
        yw_reply_header(req, "X-Yiwang-Audit-Seq", yw_arena_printf(req->arena, "%lld", (long long)req->audit.seq));
}

static enum MHD_Result queue_reply(struct MHD_Connection *conn, yw_req *req)
{
    struct MHD_Response *resp;
    if (req->reply_source) {
        req_state *st = (req_state *)req;
        stream_reply *r = calloc(1, sizeof *r);
        if (!r)
            abort();
        r->source = *req->reply_source;
        req->reply_source = NULL; /* released by libmicrohttpd from now on */
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, r, stream_release);
        if (!resp) {
            stream_release(r);
            return MHD_NO;
        }
        r->response = resp;
        st->stream = r;
    } else {
        resp = MHD_create_response_from_buffer(req->reply_len, req->reply_body, MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    if (req->status != 204 && req->status != 304)
        MHD_add_response_header(resp, "Content-Type", req->reply_type ? req->reply_type : "application/json");
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    bool cache_set = false; /* static console files say how they may be cached */
    for (int i = 0; i < req->nreply_headers; i++)
        cache_set |= strcasecmp(req->reply_headers[i][0], "Cache-Control") == 0;
    if (!cache_set)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (int i = 0; i < req->nreply_headers; i++)
        MHD_add_response_header(resp, req->reply_headers[i][0], req->reply_headers[i][1]);
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)req->status, resp);
    MHD_destroy_response(resp);
    return r;
}

static req_state *begin_request(yw_server *s, struct MHD_Connection *conn, const char *url, const char *method)
{
    req_state *st = calloc(1, sizeof *st);
    if (st)
        pthread_mutex_init(&st->defer_lock, NULL);
    if (!st)
        return NULL;
    st->start_ns = yw_mono_ns();
    yw_req *req = &st->req;
    req->arena = yw_arena_new(8192);
    req->server = s;
    req->app = s->cfg.app;
    req->conn = conn;
    req->method = yw_arena_strdup(req->arena, method);
    req->path = yw_arena_strdup(req->arena, url);
    const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (sane_request_id(rid))
        snprintf(req->request_id, sizeof req->request_id, "%s", rid);
    else
        snprintf(req->request_id, sizeof req->request_id, "%s%012llx", s->id_prefix,
                 (unsigned long long)atomic_fetch_add(&s->id_counter, 1));
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[INET6_ADDRSTRLEN] = "";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof addr);
    }
    req->client_addr = yw_arena_strdup(req->arena, addr);
    st->match = yw_router_match(s->router, req, method, url, &st->allow);
    req->audit.seq = -1;
    if (st->match == YW_MATCH_OK && (req->route->flags & YW_ROUTE_AUDIT))
        req->audit.action = req->route->action;
    st->limit = (st->match == YW_MATCH_OK && req->route->body_limit) ? req->route->body_limit : s->cfg.body_limit;
    atomic_fetch_add(&s->in_flight, 1);
    return st;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    yw_server *s = cls;
    req_state *st = *con_cls;
    if (!st) {
        st = begin_request(s, conn, url, method);
        if (!st)
            return MHD_NO;
        *con_cls = st;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > st->limit) {
            /* Answer before reading the body; libmicrohttpd then closes the connection. */
            st->too_large = true;
            dispatch(s, st);
            record_audit(s, &st->req);
            return queue_reply(conn, &st->req);
        }
        if (st->match == YW_MATCH_OK && st->req.route->stream) {
            st->streaming = admit(s, st);
            if (st->streaming)
                run_route(s, &st->req, NULL, 0, false);
            if (st->req.status) { /* refused before the body: answer now */
                record_audit(s, &st->req);
                return queue_reply(conn, &st->req);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->too_large || st->body_len + n > st->limit) {
            st->too_large = true;
            return MHD_YES;
        }
        if (st->streaming) {
            if (!st->req.status) {
                st->req.stream_taken = n;
                run_route(s, &st->req, upload_data, n, false);
                if (!st->req.status && st->req.stream_taken < n) { /* paused: the rest comes again */
                    *upload_data_size = n - st->req.stream_taken;
                    n = st->req.stream_taken;
                }
            }
            st->body_len += n; /* counted against the limit, not kept */
            return MHD_YES;
        }
        if (st->body_len + n + 1 > st->body_cap) {
            size_t cap = st->body_cap ? st->body_cap : 4096;
            while (cap < st->body_len + n + 1)
                cap *= 2;
            char *p = yw_arena_alloc(st->req.arena, cap);
            if (st->body_len)
                memcpy(p, st->body, st->body_len);
            st->body = p;
            st->body_cap = cap;
        }
        memcpy(st->body + st->body_len, upload_data, n);
        st->body_len += n;
        st->body[st->body_len] = '\0';
        return MHD_YES;
    }
    if (st->req.deferred) { /* resumed: the work it waited for is done */
        if (!st->resumed)
            return MHD_YES;
        return finish_deferred(s, conn, st);
    }
    if (st->streaming) {
        if (st->too_large && !st->req.status)
            yw_reply_problem(&st->req, 413, "body_too_large", "the body exceeds %zu bytes", st->limit);
        if (!st->req.status)
            run_route(s, &st->req, NULL, 0, true);
        if (!st->req.status && st->req.deferred) /* the route answers once its work is done */
            return suspend_deferred(conn, st) ? MHD_YES : finish_deferred(s, conn, st);
        if (!st->req.status)
            yw_reply_problem(&st->req, 500, "internal", "the request could not be completed");
        record_audit(s, &st->req);
        return queue_reply(conn, &st->req);
    }
    if (st->req.status) /* already answered */
        return MHD_YES;
    dispatch(s, st);
    yw_req *req = &st->req;
    if (!req->deferred && req->audit.action && !req->audit.recorded && s->cfg.record && s->cfg.record_deferred)
        s->cfg.record_deferred(req); /* the entry commits while the connection waits */
    if (req->deferred)
        return suspend_deferred(conn, st) ? MHD_YES : finish_deferred(s, conn, st);
    record_audit(s, req);
    return queue_reply(conn, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    yw_server *s = cls;
    req_state *st = *con_cls;
    if (!st)
        return;
    *con_cls = NULL;
    yw_req *req = &st->req;
    int64_t ns = yw_mono_ns() - st->start_ns;
    int status = req->status ? req->status : 499; /* the client went away first */
    metrics_observe(s, req->route, status, ns);
    if (yw_log_get_level() <= YW_LOG_INFO) {
        /* A path with a record key in it is logged as its route: the key is personal data. */
        const char *logged = req->route && (req->route->flags & YW_ROUTE_SECRET_PATH) ? req->route->pattern : req->path;
        json_t *f = json_pack("{s:s, s:s, s:s, s:i, s:f, s:s, s:s}", "method", req->method, "path", logged,
                              "route", req->route ? req->route->pattern : "", "status", status, "ms",
                              (double)ns / 1e6, "request_id", req->request_id, "client", req->client_addr);
        if (req->principal.id)
            json_object_set_new(f, "principal", json_string(req->principal.id));
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
            json_object_set_new(f, "aborted", json_true());
        yw_log(YW_LOG_INFO, "request", f);
    }
    if (req->reply_source && req->reply_source->release) /* made but never sent */
        req->reply_source->release(req->reply_source->arg);
    yw_arena_free(req->arena);
    pthread_mutex_destroy(&st->defer_lock);
    free(st);
    atomic_fetch_sub(&s->in_flight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    yw_log(YW_LOG_WARN, msg, json_pack("{s:s}", "source", "libmicrohttpd"));
}

static int parse_listen(const char *listen, struct sockaddr_in *sa)
{
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return -1;
    char host[64];
    size_t hl = (size_t)(colon - listen);
    if (hl == 0 || hl >= sizeof host)
        return -1;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return -1;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

yw_server *yw_server_start(const yw_server_config *cfg, yw_router *router, char *err, size_t errlen)
{
    struct sockaddr_in sa;
    if (parse_listen(cfg->listen, &sa) < 0) {
        snprintf(err, errlen, "listen address must be IPv4ADDR:PORT, not '%s'", cfg->listen);
        return NULL;
    }
    yw_server *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->cfg = *cfg;
    s->router = router;
    s->nmetrics = yw_router_count(router) + 1;
    s->metrics = calloc(s->nmetrics, sizeof *s->metrics);
    s->rate = yw_ratelimit_new(cfg->rate_limit, 2.0 * cfg->rate_limit);
    for (size_t i = 0; i + 1 < s->nmetrics; i++) {
        s->metrics[i].method = yw_router_at(router, i)->method;
        s->metrics[i].pattern = yw_router_at(router, i)->pattern;
    }
    s->metrics[s->nmetrics - 1].method = "";
    s->metrics[s->nmetrics - 1].pattern = "unmatched";
    unsigned char rnd[4];
    randombytes_buf(rnd, sizeof rnd);
    snprintf(s->id_prefix, sizeof s->id_prefix, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);

    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (cfg->tls_cert)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[16];
    int n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &sa};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
    /* Headers and the read buffer share this; it bounds header sizes. */
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 16 * 1024, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, 4096, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
    if (cfg->tls_cert) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->tls_cert};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->tls_key};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot serve on %s (address in use, or bad TLS certificate/key)", cfg->listen);
        yw_ratelimit_free(s->rate);
        free(s->metrics);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : ntohs(sa.sin_port);
    return s;
}

int yw_server_port(const yw_server *s)
{
    return s->port;
}

void yw_server_stop(yw_server *s, int timeout_ms)
{
    if (!s)
        return;
    MHD_socket listen_fd = MHD_quiesce_daemon(s->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    for (int waited = 0; atomic_load(&s->in_flight) > 0 && waited < timeout_ms; waited += 10)
        usleep(10 * 1000);
    MHD_stop_daemon(s->daemon);
    yw_ratelimit_free(s->rate);
    free(s->metrics);
    free(s);
}
