/*
 * Mediated calls: ANY /x/{org}/{service}/{path} (统一接入), and the thread
 * that carries them to providers.
 *
 * The consumer's system authenticates with its client credential (the
 * server does that before the route runs); the call must fall under an
 * active grant of the service's resource (item "service", or the item of
 * the operation whose method and path template match). The hub forwards
 * to base_url/path?query with
 *
 *   X-Yiwang-Client: the consumer's client id     X-Yiwang-Id: the request id
 *   X-Yiwang-Request-Hash: SHA-256 (hex) of the request body
 *
 * and a few content headers of the consumer's (never its Authorization).
 * The answer comes back with X-Yiwang-Response-Hash and X-Yiwang-Audit-Seq.
 *
 * Both bodies stream in constant memory: each side of a call has a ring of
 * RING_CAP bytes between libmicrohttpd and libcurl, and whichever side is
 * ahead waits — the consumer's connection suspended (yw_req_pause), the
 * provider's transfer paused (CURL_READFUNC_PAUSE, CURL_WRITEFUNC_PAUSE) —
 * holding no thread. A body of at most PREFIX_MAX bytes is held whole
 * before it is passed on, so its hash goes in a header; a longer one is
 * sent chunked and its hash follows as a trailer of the same name.
 *
 * One thread drives every transfer through libcurl's multi socket
 * interface over its own epoll set. Workers hand it commands (add,
 * unpause, abort) through a queue and an eventfd; it never calls into
 * libcurl while holding a call's lock, since libcurl may call back at once.
 *
 * A call, from the consumer's side (each step on a request worker):
 *
 *   headers ─access_call_begin(NULL)─▶ right, health, limit checked; a call made
 *   body pieces ─access_call_begin(data)─▶ into the upload ring (paused when full);
 *                                          past PREFIX_MAX the transfer starts, chunked
 *   body end ─access_call_end─▶ transfer starts (if not yet); the reply is deferred
 *   ready ─reply_then─▶ whole: the answer with its hash and audit seq, after the entry
 *                        streamed: headers now, body from the download ring, then
 *                        trailers once the entry is durable
 *
 * When the transfer ends, the call's audit entry (action service.call,
 * stage transmit, both body hashes, the provider's status, the sizes and
 * the duration among its object ids) and its service_calls row commit
 * together; no answer is complete before that. Provider failures are
 * problems of their own: provider_unreachable (502), provider_timeout
 * (504), provider_down (503, fast, while health checks fail),
 * provider_response_too_large (502); the hub's own are unavailable (503).
 *
 * Health: every --access-health-interval seconds each service's
 * base_url + health_path is fetched (2 s at most); an answer below 500 is
 * healthy. Two failures in a row (a call that cannot reach the provider
 * counts as one) mark it down; one success marks it up again, unless a
 * call failed after that check began.
 */
#include "access/access.h"
#include "access/handlers.h"

#include "app/app.h"
#include "authz/policy.h"
#include "core/error.h"
#include "core/log.h"
#include "core/memo.h"
#include "core/time.h"
#include "sec/digest.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PREFIX_MAX (64 * 1024)
#define RING_CAP (256 * 1024)
#define RING_FIRST (16 * 1024)
#define SPARE_HANDLES 64
#define MAX_IDLE_CONNECTIONS 1024
#define HEALTH_TICK_MS 100
#define HEALTH_TIMEOUT_MS 2000
#define HEALTH_FAILURES_DOWN 2
#define MAX_FORWARDED_HEADERS 4

/* ---- rings ---- */

/* A ring of at most RING_CAP bytes; it starts small, so that a call with small bodies stays small. */
typedef struct {
    char *buf;
    size_t cap, head, len;
} ring;

static size_t ring_get(ring *r, char *out, size_t max);

static void ring_grow(ring *r, size_t want)
{
    size_t cap = r->cap ? r->cap : RING_FIRST;
    while (cap < want && cap < RING_CAP)
        cap *= 2;
    if (cap > RING_CAP)
        cap = RING_CAP;
    if (cap <= r->cap)
        return;
    char *buf = malloc(cap);
    if (!buf)
        abort();
    size_t len = r->len;
    ring_get(r, buf, len);
    free(r->buf);
    *r = (ring){.buf = buf, .cap = cap, .head = 0, .len = len};
}

static size_t ring_put(ring *r, const char *data, size_t n)
{
    if (n > r->cap - r->len)
        ring_grow(r, r->len + n);
    size_t free_space = r->cap - r->len;
    if (n > free_space)
        n = free_space;
    for (size_t done = 0; done < n;) {
        size_t at = (r->head + r->len) % r->cap;
        size_t run = r->cap - at < n - done ? r->cap - at : n - done;
        memcpy(r->buf + at, data + done, run);
        r->len += run;
        done += run;
    }
    return n;
}

static size_t ring_get(ring *r, char *out, size_t max)
{
    size_t n = r->len < max ? r->len : max;
    for (size_t done = 0; done < n;) {
        size_t run = r->cap - r->head < n - done ? r->cap - r->head : n - done;
        memcpy(out + done, r->buf + r->head, run);
        r->head = (r->head + run) % r->cap;
        r->len -= run;
        done += run;
    }
    return n;
}

/* ---- calls ---- */

typedef enum {
    OUT_OK,
    OUT_UNREACHABLE,
    OUT_TIMEOUT,
    OUT_TOO_LARGE,
    OUT_CONSUMER_GONE,
} outcome;

static const char *const outcome_names[] = {"ok", "provider_unreachable", "provider_timeout",
                                            "provider_response_too_large", "consumer_gone"};

bool access_outcome_known(const char *name)
{
    for (size_t i = 0; i < sizeof outcome_names / sizeof *outcome_names; i++)
        if (strcmp(outcome_names[i], name) == 0)
            return true;
    return false;
}

void access_outcomes_list(yw_buf *out)
{
    for (size_t i = 0; i < sizeof outcome_names / sizeof *outcome_names; i++)
        yw_buf_printf(out, "%s%s", i ? ", " : "", outcome_names[i]);
}

enum { KIND_CALL = 1, KIND_HEALTH };

typedef struct access_call {
    int kind; /* KIND_CALL: first, for CURLOPT_PRIVATE */
    pthread_mutex_t lock;
    int refs;
    access_runtime *rt;
    yw_req *req; /* NULL once the consumer's request has ended */
    /* what the call is; heap copies */
    char *id, *service_id, *provider_org, *consumer_org, *client_id, *grant_id, *operation, *method, *url, *client_addr;
    struct curl_slist *headers;
    CURL *easy;
    int64_t start_ns, duration_ms;
    uint64_t limit;
    /* the request body */
    ring up;
    bool up_eof, started, chunked, up_waiting, read_paused;
    yw_sha256_ctx up_hash;
    uint64_t up_bytes;
    char up_hex[YW_SHA256_HEX_LEN];
    /* the answer */
    ring down;
    bool headers_done, write_paused, reader_waiting, done;
    long status;
    char *fwd[MAX_FORWARDED_HEADERS][2];
    int nfwd;
    yw_sha256_ctx down_hash;
    uint64_t down_bytes;
    char down_hex[YW_SHA256_HEX_LEN];
    outcome out;
    int consumer_status;
    /* the reply */
    bool deferred, resumed, streaming, recorded;
    int record_rc;
    int64_t audit_seq;
    yw_write_ticket ticket;
    char *object_ids; /* canonical JSON array for the audit entry */
    /* commands for the transfer thread, under rt->lock */
    bool queued, want_add, want_unpause, want_abort;
    yw_egress_check egress; /* where the transfer may connect */
    struct access_call *next;
} access_call;

typedef struct {
    int kind; /* KIND_HEALTH */
    char id[16];
    char *url;
    access_health state;
    int failures;
    int64_t checked_at, next_at;
    int64_t started_at, failed_at; /* the running check began; the last failure (a check's or a call's) */
    CURL *easy;
    yw_egress_check egress;
} health_entry;

struct access_runtime {
    yw_store *store;
    yw_audit *audit;
    const yw_egress *egress; /* base URLs of services obey --egress-deny too */
    int64_t connect_ms, total_ms, health_ms;
    uint64_t body_limit;
    pthread_t thread;
    atomic_bool stop;
    CURLM *multi;
    int epfd, wake_fd;     /* the transfer thread's epoll set; the eventfd that wakes it */
    int64_t timer_at;      /* ms (monotonic) when libcurl wants its timer called, -1: never */
    int64_t next_health_tick;
    pthread_mutex_t lock; /* the command queue, the health table and the spare handles */
    access_call *commands;
    CURL *spare[SPARE_HANDLES]; /* handles of ended transfers, reset, for the next ones */
    int nspare;
    health_entry **health;
    size_t nhealth, caphealth;
    int64_t next_refresh;
};

static _Atomic(access_runtime *) current;

access_runtime *access_current(void)
{
    return atomic_load(&current);
}

static void call_unref(access_call *c)
{
    pthread_mutex_lock(&c->lock);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (!last)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->up.buf);
    free(c->down.buf);
    char **strings[] = {&c->id, &c->service_id, &c->provider_org, &c->consumer_org, &c->client_id, &c->grant_id,
                        &c->operation, &c->method, &c->url, &c->client_addr, &c->object_ids};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(*strings[i]);
    for (int i = 0; i < c->nfwd; i++) {
        free(c->fwd[i][0]);
        free(c->fwd[i][1]);
    }
    curl_slist_free_all(c->headers);
    free(c);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void wake_thread(access_runtime *rt)
{
    uint64_t one = 1;
    if (write(rt->wake_fd, &one, sizeof one) < 0) { /* the counter is full: the thread is awake anyway */
    }
}

/* Queues a command for the transfer thread (the caller holds c->lock and set the want_ flag). */
static void command(access_call *c)
{
    access_runtime *rt = c->rt;
    pthread_mutex_lock(&rt->lock);
    if (!c->queued) {
        c->queued = true;
        c->refs++; /* the queue's */
        c->next = rt->commands;
        rt->commands = c;
    }
    pthread_mutex_unlock(&rt->lock);
    wake_thread(rt);
}

/* Under c->lock: the consumer's deferred request may have its reply now. */
static void maybe_resume(access_call *c)
{
    if (!c->deferred || c->resumed || !c->req)
        return;
    bool ready = c->recorded || (c->headers_done && !c->done && (c->down.len >= PREFIX_MAX || c->write_paused));
    if (!ready)
        return;
    c->resumed = true;
    yw_req_resume(c->req);
}

/* ---- libcurl callbacks (the transfer thread) ---- */

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
    access_call *c = arg;
    pthread_mutex_lock(&c->lock);
    size_t n = ring_get(&c->up, buf, size * nitems);
    size_t rc = n;
    if (n == 0 && !c->up_eof) {
        c->read_paused = true;
        rc = CURL_READFUNC_PAUSE;
    } else if (n > 0 && c->up_waiting && c->req) {
        c->up_waiting = false;
        yw_req_wake(c->req);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static int on_trailers(struct curl_slist **list, void *arg)
{
    access_call *c = arg;
    pthread_mutex_lock(&c->lock);
    char line[96];
    snprintf(line, sizeof line, "X-Yiwang-Request-Hash: %s", c->up_hex);
    pthread_mutex_unlock(&c->lock);
    *list = curl_slist_append(*list, line);
    return CURL_TRAILERFUNC_OK;
}

/* Headers of the provider's answer that the consumer gets; the rest (Location, cookies) stay at the hub. */
static const char *const answer_headers[] = {"Content-Type", "ETag", "Last-Modified", "Content-Language", NULL};

static size_t on_header(char *line, size_t size, size_t nitems, void *arg)
{
    access_call *c = arg;
    size_t n = size * nitems;
    pthread_mutex_lock(&c->lock);
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        const char *sp = memchr(line, ' ', n);
        c->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        for (int i = 0; i < c->nfwd; i++) {
            free(c->fwd[i][0]);
            free(c->fwd[i][1]);
        }
        c->nfwd = 0;
    } else if (n <= 2 && (line[0] == '\r' || line[0] == '\n')) {
        if (c->status >= 200) {
            c->headers_done = true;
            maybe_resume(c);
        }
    } else {
        for (int i = 0; answer_headers[i] && c->nfwd < MAX_FORWARDED_HEADERS; i++) {
            size_t nl = strlen(answer_headers[i]);
            if (n > nl + 1 && strncasecmp(line, answer_headers[i], nl) == 0 && line[nl] == ':') {
                const char *v = line + nl + 1;
                size_t vl = n - nl - 1;
                while (vl && (*v == ' ' || *v == '\t'))
                    v++, vl--;
                while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
                    vl--;
                c->fwd[c->nfwd][0] = strdup(answer_headers[i]);
                c->fwd[c->nfwd][1] = strndup(v, vl);
                c->nfwd++;
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *arg)
{
    access_call *c = arg;
    size_t n = size * nmemb;
    pthread_mutex_lock(&c->lock);
    size_t rc = n;
    if (!c->req) {
        c->out = OUT_CONSUMER_GONE;
        rc = 0; /* nobody to answer: end the transfer */
    } else if (c->down_bytes + n > c->limit) {
        c->out = OUT_TOO_LARGE;
        rc = 0;
    } else if (RING_CAP - c->down.len < n) {
        c->write_paused = true; /* libcurl keeps the data and offers it again once unpaused */
        rc = CURL_WRITEFUNC_PAUSE;
        maybe_resume(c);
    } else {
        ring_put(&c->down, data, n);
        yw_sha256_update(&c->down_hash, data, n);
        c->down_bytes += n;
        if (c->reader_waiting) {
            c->reader_waiting = false;
            yw_req_wake(c->req);
        }
        maybe_resume(c);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---- starting a transfer (a worker, under c->lock) ---- */

/* A handle for a new transfer: a spare one, or a new one. */
static CURL *handle_take(access_runtime *rt)
{
    pthread_mutex_lock(&rt->lock);
    CURL *e = rt->nspare ? rt->spare[--rt->nspare] : NULL;
    pthread_mutex_unlock(&rt->lock);
    if (!e && !(e = curl_easy_init()))
        abort();
    return e;
}

/*
 * The handle of an ended transfer (the transfer thread): kept for another,
 * or freed. A handle that sent a chunked body with trailers is freed:
 * libcurl 7.88 keeps the trailer state across curl_easy_reset, and the
 * next chunked upload on it would write its first chunk header before its
 * buffer.
 */
static void handle_give_back(access_runtime *rt, CURL *e, bool chunked)
{
    if (chunked) {
        curl_easy_cleanup(e);
        return;
    }
    curl_easy_reset(e);
    pthread_mutex_lock(&rt->lock);
    if (rt->nspare < SPARE_HANDLES) {
        rt->spare[rt->nspare++] = e;
        e = NULL;
    }
    pthread_mutex_unlock(&rt->lock);
    if (e)
        curl_easy_cleanup(e);
}

static void start_transfer(access_call *c)
{
    access_runtime *rt = c->rt;
    CURL *e = handle_take(rt);
    c->easy = e;
    c->started = true;
    c->refs++; /* the transfer's, until it is over */
    c->chunked = !c->up_eof;
    char line[128];
    if (!c->chunked) {
        yw_sha256_final_hex(&c->up_hash, c->up_hex);
        snprintf(line, sizeof line, "X-Yiwang-Request-Hash: %s", c->up_hex);
        c->headers = curl_slist_append(c->headers, line);
    } else {
        c->headers = curl_slist_append(c->headers, "Transfer-Encoding: chunked");
        c->headers = curl_slist_append(c->headers, "Trailer: X-Yiwang-Request-Hash");
        curl_easy_setopt(e, CURLOPT_TRAILERFUNCTION, on_trailers);
        curl_easy_setopt(e, CURLOPT_TRAILERDATA, c);
    }
    c->headers = curl_slist_append(c->headers, "Expect:");
    c->egress.policy = rt->egress;
    yw_egress_guard(e, &c->egress);
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L); /* the path as checked, not re-resolved */
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)rt->connect_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)rt->total_ms);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL); /* bodies pass through as they are */
    bool body = c->chunked || c->up.len > 0;
    if (body) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, c);
        if (!c->chunked)
            curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->up.len);
    } else if (strcmp(c->method, "POST") == 0 || strcmp(c->method, "PUT") == 0 || strcmp(c->method, "PATCH") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
    }
    if (strcmp(c->method, "GET") != 0 || body)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
    c->want_add = true;
    command(c);
}

/* ---- the consumer's side (request workers) ---- */

/* Once the consumer's request has ended: the call forgets it, and a transfer still going is stopped. */
static void call_detach(void *arg)
{
    access_call *c = arg;
    pthread_mutex_lock(&c->lock);
    c->req = NULL;
    if (c->started && !c->done) {
        c->want_abort = true;
        command(c);
    }
    pthread_mutex_unlock(&c->lock);
    call_unref(c);
}

static void buf_putc(yw_buf *out, char ch)
{
    yw_buf_append(out, &ch, 1);
}

/* Percent-encodes what a URL path or query may not hold as it is. */
static void url_escape(yw_buf *out, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                     strchr("-._~!$'()*,;:@", ch) || (keep_slash && ch == '/');
        if (plain) {
            buf_putc(out, (char)ch);
        } else {
            buf_putc(out, '%');
            buf_putc(out, hex[ch >> 4]);
            buf_putc(out, hex[ch & 15]);
        }
    }
}

typedef struct {
    yw_buf *url;
    bool first;
} query_build;

static void add_query_arg(void *arg, const char *key, const char *value)
{
    query_build *q = arg;
    buf_putc(q->url, q->first ? '?' : '&');
    q->first = false;
    url_escape(q->url, key, false);
    if (value) {
        buf_putc(q->url, '=');
        url_escape(q->url, value, false);
    }
}

/* Headers of the consumer's request that the provider gets. */
static const char *const request_headers[] = {"Content-Type", "Accept", "Accept-Language", "If-Match",
                                              "If-None-Match", "If-Modified-Since", NULL};

/*
 * Rights as calls found them, kept per request thread (core/memo.h): which
 * grant lets a system call an operation of a resource's service, until a
 * definition changes (grants are one of app.h's cached tables, so a
 * revocation stops the very next call) or the grant runs out.
 */
static yw_memo right_memo = YW_MEMO;

/*
 * The grant under which the caller may call op (NULL: no operation
 * matched) of svc: its id in *grant (NULL for the provider's own systems).
 * 0, or a problem already replied (-1).
 */
static int right_or_reply(yw_req *req, yw_db *db, const access_service *svc, const char *op, const char **grant)
{
    *grant = NULL;
    if (strcmp(svc->provider_org, req->principal.org_code) == 0)
        return 0; /* a department calling its own service through the hub */
    /*
     * Every active grant of the resource counts (per-operation grants add
     * up), so this reads the sharing module's grants table itself, with the
     * meaning grant_find gives it: not revoked, not expired, for the org or
     * for this one system of it.
     */
    const char *key = yw_memo_key(req->arena, 4, svc->resource, req->principal.org_code, req->principal.id, op);
    const json_t *kept = yw_memo_recall(&right_memo, key, yw_app_generation(req), yw_now_ms());
    if (kept) {
        *grant = yw_arena_strdup(req->arena, json_string_value(kept));
        return 0;
    }
    uint64_t generation = yw_app_read_generation(req);
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT id, items, valid_until FROM grants WHERE resource = $1 AND consumer_org = $2"
                         " AND (client_id IS NULL OR client_id = $3) AND revoked_at IS NULL AND valid_until > $4"
                         " ORDER BY id DESC",
                         "ttti", svc->resource, req->principal.org_code, req->principal.id, yw_now_ms());
    if (rc < 0) {
        yw_reply_store_error(req, rc, "grant");
        return -1;
    }
    bool any = false;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        any = true;
        json_t *items = json_loads(yw_stmt_text(s, 1), 0, NULL);
        bool covers = json_object_get(items, ACCESS_WHOLE_SERVICE) || (op && json_object_get(items, op));
        json_decref(items);
        if (covers) {
            *grant = yw_arena_strdup(req->arena, yw_stmt_text(s, 0));
            yw_memo_keep(&right_memo, key, json_string(*grant), generation, yw_stmt_int(s, 2));
            break;
        }
    }
    yw_stmt_release(s);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "grant");
        return -1;
    }
    if (*grant)
        return 0;
    if (!any)
        yw_reply_problem(req, 403, "no_grant",
                         "no active grant of your org covers this service: file a share request for its resource %s",
                         svc->resource);
    else if (!op)
        yw_reply_problem(req, 403, "operation_not_granted",
                         "%s /%.200s is not an operation your grants of this service cover", req->method,
                         yw_req_param(req, "path"));
    else
        yw_reply_problem(req, 403, "operation_not_granted", "your grants of this service do not cover operation %s",
                         op);
    return -1;
}

/* True when path has a "." or ".." segment: it would leave the service's base path at the provider. */
static bool has_dot_segment(const char *path)
{
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return true;
        p += n;
        if (*p == '/')
            p++;
    }
    return false;
}

/* At the headers: everything that can refuse the call before its body is read; then the call. */
static void call_open(yw_req *req)
{
    access_runtime *rt = access_current();
    const char *org = yw_req_param(req, "org"), *code = yw_req_param(req, "service");
    req->audit.stage = "transmit";
    req->audit.object_type = "service";
    req->audit.object_ids = yw_req_keep(req, json_pack("[s]", code));
    if (yw_authz(&req->principal, YW_ACT_SERVICE_CALL, NULL, NULL) != YW_AUTHZ_ALLOW) {
        yw_reply_problem(req, 403, "forbidden",
                         "services are called by department systems with their client credential");
        return;
    }
    if (!rt) {
        yw_reply_problem(req, 503, "unavailable", "mediated calls are not running on this node");
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    access_service svc;
    int rc = access_service_load(req, db, org, code, &svc);
    if (rc == YW_ENOTFOUND) {
        yw_reply_problem(req, 404, "not_found", "no such service");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "service");
        return;
    }
    req->audit.object_ids = yw_req_keep(req, json_pack("[s]", svc.id));
    const char *path = yw_req_param(req, "path");
    if (has_dot_segment(path)) {
        yw_reply_problem(req, 400, "invalid_request", "the path below a service has no '.' or '..' segments");
        return;
    }
    const char *op = access_operation_match(&svc, req->method, path);
    const char *grant;
    if (right_or_reply(req, db, &svc, op, &grant) < 0)
        return;
    req->audit.purpose = grant;
    if (op)
        req->audit.items = yw_req_keep(req, json_pack("[s]", op));
    const char *cl = yw_req_header(req, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > rt->body_limit) {
        yw_reply_problem(req, 413, "body_too_large", "the body exceeds %llu bytes",
                         (unsigned long long)rt->body_limit);
        return;
    }
    if (access_health_of(rt, svc.id, NULL) == ACCESS_HEALTH_DOWN) {
        yw_reply_header(req, "Retry-After", yw_arena_printf(req->arena, "%lld", (long long)(rt->health_ms / 1000)));
        yw_reply_problem(req, 503, "provider_down",
                         "the provider's system fails its health checks; calls resume when it recovers");
        return;
    }
    access_call *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->kind = KIND_CALL;
    pthread_mutex_init(&c->lock, NULL);
    c->refs = 1; /* the request's, until call_detach */
    c->rt = rt;
    c->req = req;
    c->start_ns = yw_mono_ns();
    c->limit = rt->body_limit;
    yw_sha256_init(&c->up_hash);
    yw_sha256_init(&c->down_hash);
    c->audit_seq = -1;
    c->id = strdup(req->request_id);
    c->service_id = strdup(svc.id);
    c->provider_org = strdup(svc.provider_org);
    c->consumer_org = strdup(req->principal.org_code);
    c->client_id = strdup(req->principal.id);
    c->grant_id = dup_or_null(grant);
    c->operation = dup_or_null(op);
    c->method = strdup(req->method);
    c->client_addr = dup_or_null(req->client_addr);
    yw_buf url = YW_BUF_INIT;
    size_t blen = strlen(svc.base_url);
    while (blen && svc.base_url[blen - 1] == '/')
        blen--;
    yw_buf_append(&url, svc.base_url, blen);
    buf_putc(&url, '/');
    url_escape(&url, path, true);
    query_build q = {&url, true};
    yw_req_query_each(req, add_query_arg, &q);
    c->url = strdup(url.data);
    yw_buf_free(&url);
    char line[600];
    snprintf(line, sizeof line, "X-Yiwang-Client: %s", req->principal.id);
    c->headers = curl_slist_append(c->headers, line);
    snprintf(line, sizeof line, "X-Yiwang-Id: %s", req->request_id);
    c->headers = curl_slist_append(c->headers, line);
    for (int i = 0; request_headers[i]; i++) {
        const char *v = yw_req_header(req, request_headers[i]);
        if (v && strlen(v) < 500 && !strpbrk(v, "\r\n")) {
            snprintf(line, sizeof line, "%s: %s", request_headers[i], v);
            c->headers = curl_slist_append(c->headers, line);
        }
    }
    req->route_state = c;
    yw_arena_on_free(req->arena, call_detach, c);
}

void access_call_begin(yw_req *req, const char *data, size_t len)
{
    if (!data) {
        call_open(req);
        return;
    }
    access_call *c = req->route_state;
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    if (c->done) { /* the provider answered (or failed) already: the rest of the body goes nowhere */
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (c->up_bytes + len > c->limit) {
        pthread_mutex_unlock(&c->lock);
        yw_reply_problem(req, 413, "body_too_large", "the body exceeds %llu bytes", (unsigned long long)c->limit);
        return;
    }
    size_t took = ring_put(&c->up, data, len);
    yw_sha256_update(&c->up_hash, data, took);
    c->up_bytes += took;
    if (!c->started && c->up.len > PREFIX_MAX)
        start_transfer(c); /* too long to hold: it streams, its hash follows as a trailer */
    else if (took && c->read_paused) {
        c->read_paused = false;
        c->want_unpause = true;
        command(c);
    }
    if (took < len) {
        req->stream_taken = took;
        c->up_waiting = true;
        yw_req_pause(req);
    }
    pthread_mutex_unlock(&c->lock);
}

static void reply_then(yw_req *req);

void access_call_end(yw_req *req)
{
    access_call *c = req->route_state;
    if (!c) {
        yw_reply_problem(req, 500, "internal", "the call was not prepared");
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->up_eof = true;
    if (!c->started) {
        start_transfer(c);
    } else if (!c->done) {
        yw_sha256_final_hex(&c->up_hash, c->up_hex); /* before the last read: the trailer carries it */
        if (c->read_paused) {
            c->read_paused = false;
            c->want_unpause = true;
            command(c);
        }
    }
    c->deferred = true;
    yw_req_defer(req, reply_then, c);
    maybe_resume(c);
    pthread_mutex_unlock(&c->lock);
}

/* The read function of a streamed answer (a worker). */
static long answer_read(void *arg, char *buf, size_t max)
{
    access_call *c = arg;
    pthread_mutex_lock(&c->lock);
    long rc;
    size_t n = ring_get(&c->down, buf, max);
    if (n > 0) {
        rc = (long)n;
        if (c->write_paused && RING_CAP - c->down.len >= CURL_MAX_WRITE_SIZE) {
            c->write_paused = false;
            c->want_unpause = true;
            command(c);
        }
    } else if (c->done && c->recorded) {
        if (c->out != OUT_OK || c->record_rc < 0) {
            rc = YW_BODY_ERROR; /* cut: the consumer must not take a broken answer for a whole one */
        } else {
            yw_req *req = c->req;
            yw_reply_trailer(req, "X-Yiwang-Response-Hash", c->down_hex);
            char seq[24];
            snprintf(seq, sizeof seq, "%lld", (long long)c->audit_seq);
            yw_reply_trailer(req, "X-Yiwang-Audit-Seq", seq);
            rc = YW_BODY_END;
        }
    } else {
        c->reader_waiting = true;
        yw_req_pause(c->req);
        rc = 0;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static void answer_release(void *arg)
{
    call_unref(arg);
}

static void reply_problem_of(yw_req *req, access_call *c)
{
    switch (c->out) {
    case OUT_TIMEOUT:
        yw_reply_problem(req, 504, "provider_timeout", "the provider's system did not answer within %lld s",
                         (long long)(c->rt->total_ms / 1000));
        break;
    case OUT_TOO_LARGE:
        yw_reply_problem(req, 502, "provider_response_too_large", "the provider's answer exceeds %llu bytes",
                         (unsigned long long)c->limit);
        break;
    default:
        if (c->egress.why[0])
            yw_reply_problem(req, 502, "provider_unreachable", "the provider's system could not be reached: %s",
                             c->egress.why);
        else
            yw_reply_problem(req, 502, "provider_unreachable", "the provider's system could not be reached");
        break;
    }
}

/* The reply of a call, once it is ready (see maybe_resume), on a worker. */
static void reply_then(yw_req *req)
{
    access_call *c = req->deferred_arg;
    pthread_mutex_lock(&c->lock);
    req->audit.recorded = true; /* the call's own entry records it, below or when it ends */
    if (c->recorded && c->audit_seq >= 0) {
        req->audit.seq = c->audit_seq;
        yw_reply_header(req, "X-Yiwang-Audit-Seq", yw_arena_printf(req->arena, "%lld", (long long)c->audit_seq));
    }
    if (c->recorded && c->record_rc < 0) {
        req->nreply_headers = 0;
        yw_reply_problem(req, 503, "unavailable", "the call could not be recorded; try again shortly");
    } else if (c->recorded && c->out != OUT_OK) {
        reply_problem_of(req, c);
    } else {
        int status = c->status >= 200 && c->status <= 599 ? (int)c->status : 502;
        const char *type = "application/octet-stream";
        for (int i = 0; i < c->nfwd; i++) {
            if (strcmp(c->fwd[i][0], "Content-Type") == 0)
                type = yw_arena_strdup(req->arena, c->fwd[i][1]);
            else
                yw_reply_header(req, yw_arena_strdup(req->arena, c->fwd[i][0]),
                                yw_arena_strdup(req->arena, c->fwd[i][1]));
        }
        if (c->recorded) { /* whole: the answer with its hash, after its entry */
            char *body = yw_arena_alloc(req->arena, c->down.len + 1);
            size_t n = ring_get(&c->down, body, c->down.len);
            yw_reply_raw(req, status, type, body, n);
            yw_reply_header(req, "X-Yiwang-Response-Hash", yw_arena_strdup(req->arena, c->down_hex));
        } else { /* streamed: its hash and entry follow as trailers */
            c->streaming = true;
            c->refs++; /* the reply's, until answer_release */
            yw_body_source src = {answer_read, answer_release, c};
            yw_reply_header(req, "Trailer", "X-Yiwang-Response-Hash, X-Yiwang-Audit-Seq");
            yw_reply_stream(req, status, type, &src);
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* ---- the end of a call: its entry and row (the writer) ---- */

static int record_job(yw_db *db, void *arg)
{
    access_call *c = arg;
    yw_audit_event e = {.actor = c->client_id, .actor_kind = "client", .actor_org = c->consumer_org,
                        .action = "service.call", .stage = "transmit", .object_type = "service",
                        .object_ids = c->object_ids, .purpose = c->grant_id, .status = c->consumer_status,
                        .request_id = c->id, .client = c->client_addr, .request_sha256 = c->up_hex,
                        .response_sha256 = c->down_hex};
    char items[96];
    if (c->operation) {
        snprintf(items, sizeof items, "[\"%s\"]", c->operation); /* operation names are [a-z0-9_] */
        e.items = items;
    }
    int64_t seq = yw_audit_append(c->rt->audit, db, &e);
    if (seq < 0)
        return (int)seq;
    int rc = yw_db_run(db,
                       "INSERT INTO service_calls(id, service, provider_org, consumer_org, client_id, grant_id,"
                       " operation,"
                       " method, status, outcome, request_bytes, response_bytes, request_sha256, response_sha256,"
                       " duration_ms, audit_seq, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
                       " $13, $14, $15, $16, $17)",
                       "ttttttttitiittiii", c->id, c->service_id, c->provider_org, c->consumer_org, c->client_id,
                       c->grant_id, c->operation, c->method, (int64_t)c->consumer_status, outcome_names[c->out],
                       (int64_t)c->up_bytes, (int64_t)c->down_bytes, c->up_hex, c->down_hex, c->duration_ms, seq,
                       yw_now_ms());
    if (rc < 0)
        return rc;
    c->audit_seq = seq;
    return 0;
}

static void recorded(yw_write_ticket *t)
{
    access_call *c = (access_call *)((char *)t - offsetof(access_call, ticket));
    pthread_mutex_lock(&c->lock);
    c->recorded = true;
    c->record_rc = t->rc;
    if (t->rc < 0) {
        c->audit_seq = -1;
        yw_log(YW_LOG_ERROR, "service call not recorded", json_pack("{s:s, s:s}", "request_id", c->id, "error",
                                                                   yw_strerror(t->rc)));
    }
    if (c->req && c->reader_waiting) {
        c->reader_waiting = false;
        yw_req_wake(c->req);
    }
    maybe_resume(c);
    pthread_mutex_unlock(&c->lock);
    call_unref(c);
}

static void health_call_failed(access_runtime *rt, const char *service_id);

/* The transfer of c is over (the transfer thread): count it, record it. */
static void call_finished(access_call *c, CURLcode code)
{
    access_runtime *rt = c->rt;
    pthread_mutex_lock(&c->lock);
    c->done = true;
    c->duration_ms = (yw_mono_ns() - c->start_ns) / 1000000;
    if (c->out == OUT_OK && code != CURLE_OK)
        c->out = code == CURLE_OPERATION_TIMEDOUT ? OUT_TIMEOUT : !c->req ? OUT_CONSUMER_GONE : OUT_UNREACHABLE;
    if (c->up_hex[0] == '\0')
        yw_sha256_final_hex(&c->up_hash, c->up_hex);
    yw_sha256_final_hex(&c->down_hash, c->down_hex);
    static const int problem_status[] = {0, 502, 504, 502, 499};
    c->consumer_status = c->out == OUT_OK || c->streaming ? (int)c->status : problem_status[c->out];
    if (!c->req && !c->streaming)
        c->consumer_status = 499;
    char a[48], b[48], d[48];
    snprintf(a, sizeof a, "request_bytes=%llu", (unsigned long long)c->up_bytes);
    snprintf(b, sizeof b, "response_bytes=%llu", (unsigned long long)c->down_bytes);
    snprintf(d, sizeof d, "duration_ms=%lld", (long long)c->duration_ms);
    json_t *ids = json_pack("[s, s, s, s, s]", c->service_id, a, b, d, outcome_names[c->out]);
    yw_buf text = YW_BUF_INIT;
    yw_audit_json_array(ids, &text);
    json_decref(ids);
    c->object_ids = strdup(text.data);
    yw_buf_free(&text);
    bool unreachable = c->out == OUT_UNREACHABLE;
    bool error = c->out != OUT_OK || c->status >= 500;
    access_stats_observe(c->service_id, c->consumer_org, c->consumer_status, error,
                         (yw_mono_ns() - c->start_ns), c->up_bytes, c->down_bytes);
    c->refs++; /* the writer's, until recorded */
    pthread_mutex_unlock(&c->lock);
    if (unreachable)
        health_call_failed(rt, c->service_id);
    yw_writer_submit_notify(yw_store_writer(rt->store), &c->ticket, record_job, c, recorded);
}

/* ---- health ---- */

access_health access_health_of(access_runtime *rt, const char *service_id, int64_t *checked_at)
{
    access_health h = ACCESS_HEALTH_UNKNOWN;
    pthread_mutex_lock(&rt->lock);
    for (size_t i = 0; i < rt->nhealth; i++) {
        if (strcmp(rt->health[i]->id, service_id) == 0) {
            h = rt->health[i]->state;
            if (checked_at)
                *checked_at = rt->health[i]->checked_at;
            break;
        }
    }
    pthread_mutex_unlock(&rt->lock);
    return h;
}

/* Under rt->lock: one more failure of entry h. */
static void health_failed(health_entry *h, int64_t now)
{
    h->failed_at = now;
    if (++h->failures >= HEALTH_FAILURES_DOWN && h->state != ACCESS_HEALTH_DOWN) {
        h->state = ACCESS_HEALTH_DOWN;
        yw_log(YW_LOG_WARN, "provider down", json_pack("{s:s, s:s}", "service", h->id, "url", h->url));
    }
}

static void health_refresh(access_runtime *rt);

/* A call could not reach the provider; a service registered since the last refresh is looked up first. */
static void health_call_failed(access_runtime *rt, const char *service_id)
{
    int64_t now = yw_now_ms();
    for (int pass = 0; pass < 2; pass++) {
        bool found = false;
        pthread_mutex_lock(&rt->lock);
        for (size_t i = 0; i < rt->nhealth; i++)
            if (strcmp(rt->health[i]->id, service_id) == 0) {
                health_failed(rt->health[i], now);
                found = true;
            }
        pthread_mutex_unlock(&rt->lock);
        if (found)
            return;
        if (pass == 0)
            health_refresh(rt);
    }
}

static size_t discard(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    (void)arg;
    return size * nmemb;
}

/* Every service, for the health table (the transfer thread). */
static void health_refresh(access_runtime *rt)
{
    yw_db *db = yw_store_reader(rt->store);
    yw_stmt *s;
    if (!db || yw_db_query(db, &s, "SELECT id, base_url, health_path FROM services ORDER BY id", "") < 0)
        return;
    while (yw_stmt_step(s) == YW_DB_ROW) {
        const char *id = yw_stmt_text(s, 0);
        pthread_mutex_lock(&rt->lock);
        bool known = false;
        for (size_t i = 0; i < rt->nhealth && !known; i++)
            known = strcmp(rt->health[i]->id, id) == 0;
        if (!known) {
            health_entry *h = calloc(1, sizeof *h);
            if (!h)
                abort();
            h->kind = KIND_HEALTH;
            snprintf(h->id, sizeof h->id, "%s", id);
            const char *base = yw_stmt_text(s, 1);
            size_t blen = strlen(base);
            while (blen && base[blen - 1] == '/')
                blen--;
            if (asprintf(&h->url, "%.*s%s", (int)blen, base, yw_stmt_text(s, 2)) < 0)
                abort();
            if (rt->nhealth == rt->caphealth) {
                rt->caphealth = rt->caphealth ? rt->caphealth * 2 : 16;
                rt->health = realloc(rt->health, rt->caphealth * sizeof *rt->health);
                if (!rt->health)
                    abort();
            }
            rt->health[rt->nhealth++] = h;
        }
        pthread_mutex_unlock(&rt->lock);
    }
    yw_stmt_release(s);
}

/* Starts the checks that are due (the transfer thread). */
static void health_tick(access_runtime *rt, int64_t now)
{
    if (now >= rt->next_refresh) {
        health_refresh(rt);
        rt->next_refresh = now + rt->health_ms;
    }
    pthread_mutex_lock(&rt->lock);
    for (size_t i = 0; i < rt->nhealth; i++) {
        health_entry *h = rt->health[i];
        if (h->easy || now < h->next_at)
            continue;
        CURL *e = curl_easy_init();
        if (!e)
            break;
        h->egress.policy = rt->egress;
        yw_egress_guard(e, &h->egress);
        curl_easy_setopt(e, CURLOPT_URL, h->url);
        curl_easy_setopt(e, CURLOPT_PRIVATE, h);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        long timeout = rt->total_ms < HEALTH_TIMEOUT_MS ? (long)rt->total_ms : HEALTH_TIMEOUT_MS;
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, rt->connect_ms < timeout ? (long)rt->connect_ms : timeout);
        h->easy = e;
        h->started_at = now;
        curl_multi_add_handle(rt->multi, e);
    }
    pthread_mutex_unlock(&rt->lock);
}

static void health_finished(access_runtime *rt, health_entry *h, CURLcode code)
{
    long status = 0;
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(rt->multi, h->easy);
    curl_easy_cleanup(h->easy);
    int64_t now = yw_now_ms();
    pthread_mutex_lock(&rt->lock);
    h->easy = NULL;
    h->checked_at = now;
    h->next_at = now + rt->health_ms;
    if (code == CURLE_OK && status > 0 && status < 500) {
        /* a call that failed while this check ran is newer news than its success */
        if (h->failed_at >= h->started_at) {
            pthread_mutex_unlock(&rt->lock);
            return;
        }
        if (h->state == ACCESS_HEALTH_DOWN)
            yw_log(YW_LOG_INFO, "provider up", json_pack("{s:s}", "service", h->id));
        h->state = ACCESS_HEALTH_UP;
        h->failures = 0;
    } else {
        health_failed(h, now);
    }
    pthread_mutex_unlock(&rt->lock);
}

/* ---- the transfer thread ---- */

/* The transfer of call c (easy handle e) is over, with code: the call finishes and the handle goes back. */
static void transfer_over(access_runtime *rt, access_call *c, CURL *e, CURLcode code)
{
    curl_multi_remove_handle(rt->multi, e);
    call_finished(c, code);
    handle_give_back(rt, e, c->chunked);
    pthread_mutex_lock(&c->lock);
    c->easy = NULL;
    pthread_mutex_unlock(&c->lock);
    call_unref(c); /* the transfer's */
}

static void run_commands(access_runtime *rt)
{
    pthread_mutex_lock(&rt->lock);
    access_call *list = rt->commands;
    rt->commands = NULL;
    for (access_call *c = list; c; c = c->next)
        c->queued = false; /* a command made from now on queues the call again */
    pthread_mutex_unlock(&rt->lock);
    while (list) {
        access_call *c = list;
        list = c->next;
        pthread_mutex_lock(&c->lock);
        bool add = c->want_add, unpause = c->want_unpause, abort_it = c->want_abort;
        c->want_add = c->want_unpause = c->want_abort = false;
        CURL *e = c->easy;
        bool done = c->done;
        pthread_mutex_unlock(&c->lock);
        if (add && e && !done)
            curl_multi_add_handle(rt->multi, e);
        if (abort_it && e && !done) {
            transfer_over(rt, c, e, CURLE_ABORTED_BY_CALLBACK);
        } else if (unpause && e && !done) {
            curl_easy_pause(e, CURLPAUSE_CONT);
        }
        call_unref(c); /* the queue's */
    }
}

/* Collects the transfers that are over. */
static void reap(access_runtime *rt)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(rt->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        void *priv = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        CURLcode code = m->data.result;
        CURL *e = m->easy_handle;
        if (*(int *)priv == KIND_HEALTH) {
            health_finished(rt, priv, code);
            continue;
        }
        transfer_over(rt, priv, e, code);
    }
}

/* libcurl says which sockets to watch: kept in the thread's epoll set. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
    (void)easy;
    access_runtime *rt = arg;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(rt->epfd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(rt->multi, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0),
                             .data.fd = fd};
    if (socketp) {
        epoll_ctl(rt->epfd, EPOLL_CTL_MOD, fd, &ev);
    } else {
        epoll_ctl(rt->epfd, EPOLL_CTL_ADD, fd, &ev);
        curl_multi_assign(rt->multi, fd, rt); /* any non-NULL mark: the socket is in the set */
    }
    return 0;
}

/* libcurl's one timer: when it wants to be called without a socket event. */
static int on_timer(CURLM *multi, long timeout_ms, void *arg)
{
    (void)multi;
    access_runtime *rt = arg;
    rt->timer_at = timeout_ms < 0 ? -1 : yw_mono_ns() / 1000000 + timeout_ms;
    return 0;
}

/*
 * The transfer thread: one epoll set with libcurl's sockets and the
 * command eventfd, so each event costs the transfer it concerns only.
 */
static void *transfer_thread(void *arg)
{
    access_runtime *rt = arg;
    struct epoll_event events[64];
    int running = 0;
    while (!atomic_load(&rt->stop)) {
        int64_t now = yw_mono_ns() / 1000000;
        int wait = HEALTH_TICK_MS;
        if (rt->timer_at >= 0)
            wait = rt->timer_at <= now ? 0 : rt->timer_at - now < wait ? (int)(rt->timer_at - now) : wait;
        int n = epoll_wait(rt->epfd, events, 64, wait);
        for (int i = 0; i < n; i++) {
            if (events[i].data.fd == rt->wake_fd) {
                uint64_t count;
                if (read(rt->wake_fd, &count, sizeof count) < 0) { /* drained by another read */
                }
                continue;
            }
            int mask = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(rt->multi, events[i].data.fd, mask, &running);
        }
        run_commands(rt);
        now = yw_mono_ns() / 1000000;
        if (now >= rt->next_health_tick) {
            health_tick(rt, yw_now_ms());
            rt->next_health_tick = now + HEALTH_TICK_MS;
        }
        if (rt->timer_at >= 0 && rt->timer_at <= yw_mono_ns() / 1000000) {
            rt->timer_at = -1;
            curl_multi_socket_action(rt->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        reap(rt);
    }
    return NULL;
}

access_runtime *access_start(yw_store *store, yw_audit *audit, const yw_config *cfg, const yw_egress *egress)
{
    access_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->store = store;
    rt->audit = audit;
    rt->egress = egress;
    rt->connect_ms = (int64_t)cfg->access_connect_timeout * 1000;
    rt->total_ms = (int64_t)cfg->access_timeout * 1000;
    rt->health_ms = (int64_t)cfg->access_health_interval * 1000;
    rt->body_limit = (uint64_t)cfg->access_body_limit;
    pthread_mutex_init(&rt->lock, NULL);
    rt->timer_at = -1;
    rt->multi = curl_multi_init();
    rt->epfd = epoll_create1(EPOLL_CLOEXEC);
    rt->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = rt->wake_fd};
    bool ready = rt->multi && rt->epfd >= 0 && rt->wake_fd >= 0 &&
                 epoll_ctl(rt->epfd, EPOLL_CTL_ADD, rt->wake_fd, &ev) == 0;
    if (ready) {
        /* keep a connection to each provider for every call in flight */
        curl_multi_setopt(rt->multi, CURLMOPT_MAXCONNECTS, (long)MAX_IDLE_CONNECTIONS);
        curl_multi_setopt(rt->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(rt->multi, CURLMOPT_SOCKETDATA, rt);
        curl_multi_setopt(rt->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(rt->multi, CURLMOPT_TIMERDATA, rt);
    }
    if (!ready || pthread_create(&rt->thread, NULL, transfer_thread, rt) != 0) {
        if (rt->multi)
            curl_multi_cleanup(rt->multi);
        if (rt->epfd >= 0)
            close(rt->epfd);
        if (rt->wake_fd >= 0)
            close(rt->wake_fd);
        pthread_mutex_destroy(&rt->lock);
        free(rt);
        return NULL;
    }
    pthread_setname_np(rt->thread, "yw-access");
    atomic_store(&current, rt);
    return rt;
}

void access_stop(access_runtime *rt)
{
    if (!rt)
        return;
    atomic_store(&current, NULL);
    atomic_store(&rt->stop, true);
    wake_thread(rt);
    pthread_join(rt->thread, NULL);
    /* The server has stopped: every request has ended, so calls left are only the transfer's. */
    run_commands(rt);
    for (size_t i = 0; i < rt->nhealth; i++) {
        health_entry *h = rt->health[i];
        if (h->easy) {
            curl_multi_remove_handle(rt->multi, h->easy);
            curl_easy_cleanup(h->easy);
        }
        free(h->url);
        free(h);
    }
    free(rt->health);
    for (int i = 0; i < rt->nspare; i++)
        curl_easy_cleanup(rt->spare[i]);
    curl_multi_cleanup(rt->multi);
    close(rt->epfd);
    close(rt->wake_fd);
    pthread_mutex_destroy(&rt->lock);
    access_stats_reset();
    free(rt);
}
