/*
 * Webhook delivery: one background thread sends each active subscription
 * its resource's changes, in order, through libcurl's multi interface, so
 * no request worker ever waits on a subscriber.
 *
 * Every 250 ms the thread looks for subscriptions that are due. For each
 * (one batch in flight per subscription) it checks that the grant still
 * holds — a revoked or expired grant stops the subscription for good — and
 * takes the changes after the cursor (at most 100; a batch that failed
 * before is sent again with the same id and range). Before the batch
 * leaves, its audit entry (stage transmit, the items disclosed, the grant
 * as purpose, SHA-256 of the body) and its delivery row commit together:
 * nothing is disclosed unaudited. The body is signed with HMAC-SHA-256
 * under the subscription's secret:
 *
 *   POST <url>   Content-Type: application/json
 *   X-Yiwang-Delivery: DL…   X-Yiwang-Subscription: SB…
 *   X-Yiwang-Signature: sha256=<hex of HMAC-SHA-256(secret, body)>
 *   {"subscription","delivery","resource","grant","changes":[{seq,key?,version,deleted,changed_at,data}]}
 *
 * A 2xx answer moves the cursor past the batch. Anything else — refused
 * connection, timeout, other status — leaves the batch pending and retries
 * it after 1 s, 2 s, 4 s, ... (at most 15 minutes apart) until a receiver
 * accepts it or the subscription has failed for 24 hours: then the batch is
 * abandoned and the subscription marked failed. Delivery is at least once
 * (a batch accepted just before a crash is sent again) and in order.
 *
 * Changes delivered count against the grant's daily quota like records read:
 * a new batch takes no more changes than the day has left, and counts them
 * in its transaction. When the quota is used up, the subscription stays
 * active and waits for the next day (China Standard Time), saying so in its
 * status_reason; a batch sent again is not counted twice.
 */
#include "sharing/webhooks.h"

#include "core/arena.h"
#include "core/error.h"
#include "core/log.h"
#include "core/time.h"
#include "sec/digest.h"
#include "sharing/sharing.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_MS 250
#define BATCH 100
#define MAX_INFLIGHT 16
#define GIVE_UP_MS (24LL * 3600 * 1000)
#define MAX_BACKOFF_MS (15LL * 60 * 1000)

typedef struct {
    bool busy;
    char sub[16], delivery[16];
    int64_t last_seq;
    CURL *curl;
    struct curl_slist *headers;
    char *body;
    char error[CURL_ERROR_SIZE];
    yw_egress_check egress; /* where it may connect */
} inflight;

struct yw_webhooks {
    yw_store *store;
    yw_audit *audit;
    const yw_keyring *keys;
    const yw_egress *egress;
    pthread_t thread;
    atomic_bool stop;
    CURLM *multi;
    inflight slots[MAX_INFLIGHT];
};

/* ---- the writer jobs ---- */

typedef struct {
    yw_audit *audit;
    const char *sub, *delivery, *consumer, *resource, *grant_id, *url, *body_sha256;
    int64_t first_seq, last_seq, changes;
    int64_t daily_quota, day; /* 0: no quota */
    bool new_batch;
    const char *items, *object_ids; /* canonical JSON arrays, for the audit entry */
} send_job_arg;

/* Before a batch leaves: its delivery row and its audit entry, if the subscription is still active. */
static int send_job(yw_db *db, void *arg)
{
    send_job_arg *a = arg;
    int64_t active = 0, now = yw_now_ms();
    int rc = yw_db_int(db, &active, "SELECT count(*) FROM subscriptions WHERE id = $1 AND status = 'active'", "t",
                       a->sub);
    if (rc < 0)
        return rc;
    if (!active)
        return YW_ESTATE;
    /* A new batch counts against the quota; over it (reads took the rest since it was made), the next scan
     * makes a smaller one. */
    if (a->new_batch && a->daily_quota && (rc = quota_take(db, a->grant_id, a->day, a->daily_quota, a->changes)) < 0)
        return rc;
    rc = a->new_batch ? yw_db_run(db,
                                  "INSERT INTO subscription_deliveries(id, subscription, first_seq, last_seq, changes,"
                                  " status, attempts, body_sha256, created_at, updated_at)"
                                  " VALUES ($1, $2, $3, $4, $5, 'pending', 1, $6, $7, $7)",
                                  "ttiiiti", a->delivery, a->sub, a->first_seq, a->last_seq, a->changes,
                                  a->body_sha256, now)
                      : yw_db_run(db,
                                  "UPDATE subscription_deliveries SET attempts = attempts + 1, body_sha256 = $2,"
                                  " updated_at = $3 WHERE id = $1",
                                  "tti", a->delivery, a->body_sha256, now);
    if (rc < 0)
        return rc;
    yw_audit_event e = {.actor = "yiwang webhooks", .actor_kind = "system", .actor_org = a->consumer,
                        .action = "subscription.deliver", .stage = "transmit", .object_type = "record",
                        .object_ids = a->object_ids, .items = a->items, .purpose = a->grant_id, .status = 200,
                        .request_id = a->delivery, .client = a->url, .response_sha256 = a->body_sha256};
    int64_t seq = yw_audit_append(a->audit, db, &e);
    return seq < 0 ? (int)seq : 0;
}

typedef struct {
    const char *sub, *delivery;
    int64_t last_seq;
    long http_status; /* 0: no answer */
    const char *error;
} outcome_job_arg;

/* After an attempt: the cursor moves past an accepted batch; a refused one is retried later, or given up. */
static int outcome_job(yw_db *db, void *arg)
{
    outcome_job_arg *a = arg;
    int64_t now = yw_now_ms();
    bool ok = a->http_status >= 200 && a->http_status < 300;
    int rc = yw_db_run(db,
                       "UPDATE subscription_deliveries SET status = CASE WHEN $2 THEN 'delivered' ELSE status END,"
                       " http_status = nullif($3, 0), error = $4, updated_at = $5 WHERE id = $1",
                       "tiiti", a->delivery, (int64_t)ok, (int64_t)a->http_status, a->error, now);
    if (rc >= 0 && ok)
        rc = yw_db_run(db,
                       "UPDATE subscriptions SET cursor = max(cursor, $2), failures = 0, failing_since = NULL,"
                       " next_attempt_at = 0, status_reason = CASE WHEN status = 'active' THEN NULL"
                       " ELSE status_reason END, updated_at = $3 WHERE id = $1",
                       "tii", a->sub, a->last_seq, now);
    if (rc < 0 || ok)
        return rc < 0 ? rc : 0;
    int64_t failures = 0, since = now;
    yw_stmt *s;
    if ((rc = yw_db_query(db, &s, "SELECT failures, coalesce(failing_since, $2) FROM subscriptions WHERE id = $1", "ti",
                          a->sub, now)) < 0)
        return rc;
    if (yw_stmt_step(s) == YW_DB_ROW) {
        failures = yw_stmt_int(s, 0);
        since = yw_stmt_int(s, 1);
    }
    yw_stmt_release(s);
    if (now - since >= GIVE_UP_MS) {
        rc = yw_db_run(db, "UPDATE subscription_deliveries SET status = 'abandoned' WHERE id = $1", "t", a->delivery);
        if (rc >= 0)
            rc = yw_db_run(db,
                           "UPDATE subscriptions SET status = 'failed', status_reason = 'the receiver refused"
                           " deliveries for 24 hours', failures = failures + 1, updated_at = $2"
                           " WHERE id = $1 AND status = 'active'",
                           "ti", a->sub, now);
        return rc < 0 ? rc : 0;
    }
    int64_t backoff = failures >= 20 ? MAX_BACKOFF_MS : 1000LL << failures;
    if (backoff > MAX_BACKOFF_MS)
        backoff = MAX_BACKOFF_MS;
    rc = yw_db_run(db,
                   "UPDATE subscriptions SET failures = failures + 1, failing_since = $2, next_attempt_at = $3,"
                   " updated_at = $4 WHERE id = $1",
                   "tiii", a->sub, since, now + backoff, now);
    return rc < 0 ? rc : 0;
}

typedef struct {
    yw_audit *audit;
    const char *sub, *reason;
} stop_job_arg;

static int stop_job(yw_db *db, void *arg)
{
    stop_job_arg *a = arg;
    int rc = yw_db_run(db,
                       "UPDATE subscriptions SET status = 'stopped', status_reason = $2, updated_at = $3"
                       " WHERE id = $1 AND status = 'active'",
                       "tti", a->sub, a->reason, yw_now_ms());
    if (rc <= 0)
        return rc;
    int64_t seq = yw_audit_system(a->audit, db, "yiwang webhooks", "subscription.stop", "subscription", a->sub);
    return seq < 0 ? (int)seq : 0;
}

typedef struct {
    const char *sub, *reason;
    int64_t resume_at;
} quota_wait_arg;

/* The grant's quota of the day is used up: the subscription, still active, waits for the next day. */
static int quota_wait_job(yw_db *db, void *arg)
{
    quota_wait_arg *a = arg;
    int rc = yw_db_run(db,
                       "UPDATE subscriptions SET next_attempt_at = $2, status_reason = $3, updated_at = $4"
                       " WHERE id = $1 AND status = 'active'",
                       "titi", a->sub, a->resume_at, a->reason, yw_now_ms());
    return rc < 0 ? rc : 0;
}

/* ---- sending ---- */

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

static inflight *free_slot(yw_webhooks *w)
{
    for (int i = 0; i < MAX_INFLIGHT; i++)
        if (!w->slots[i].busy)
            return &w->slots[i];
    return NULL;
}

static bool in_flight(const yw_webhooks *w, const char *sub)
{
    for (int i = 0; i < MAX_INFLIGHT; i++)
        if (w->slots[i].busy && strcmp(w->slots[i].sub, sub) == 0)
            return true;
    return false;
}

static char *array_text(const json_t *arr)
{
    yw_buf b = YW_BUF_INIT;
    yw_audit_json_array(arr, &b);
    yw_buf_append(&b, "", 1);
    return b.data;
}

/* A subscription that is due, as the scan found it. */
typedef struct {
    char *sub, *resource, *grant_id, *url, *secret_enc, *consumer;
    int64_t cursor;
} due;

/* Starts the next batch of a due subscription, or decides there is none. Reads in its own snapshot. */
static void prepare(yw_webhooks *w, yw_db *db, const due *d)
{
    const char *sub = d->sub, *resource = d->resource, *grant_id = d->grant_id;
    const char *url = d->url, *secret_enc = d->secret_enc, *consumer = d->consumer;
    int64_t cursor = d->cursor;
    yw_arena *arena = yw_arena_new(1 << 14);
    json_t *grant_items = NULL;
    feed_page page = {0};
    yw_buf secret = YW_BUF_INIT;
    char *body = NULL, *items = NULL, *ids = NULL;
    /* the grant must hold at the moment of sending */
    yw_stmt *s;
    int64_t now = yw_now_ms();
    if (yw_db_query(db, &s,
                    "SELECT items, coalesce(daily_quota, 0) FROM grants"
                    " WHERE id = $1 AND revoked_at IS NULL AND valid_until > $2",
                    "ti", grant_id, now) < 0)
        goto done; /* the database cannot be read now: try again at the next scan */
    int step = yw_stmt_step(s);
    int64_t quota = 0;
    if (step == YW_DB_ROW) {
        grant_items = json_loads(yw_stmt_text(s, 0), 0, NULL);
        quota = yw_stmt_int(s, 1);
    }
    yw_stmt_release(s);
    if (step == YW_DB_DONE) {
        stop_job_arg a = {w->audit, sub, "the grant is no longer active"};
        yw_writer_run(yw_store_writer(w->store), stop_job, &a);
        goto done;
    }
    if (!grant_items)
        goto done;
    /* a batch that failed before goes again, the same id and range */
    char delivery[16] = "";
    int64_t pending_last = 0;
    if (yw_db_query(db, &s, "SELECT id, last_seq FROM subscription_deliveries WHERE subscription = $1 AND status = 'pending'",
                    "t", sub) == 0) {
        if (yw_stmt_step(s) == YW_DB_ROW) {
            snprintf(delivery, sizeof delivery, "%s", yw_stmt_text(s, 0));
            pending_last = yw_stmt_int(s, 1);
        }
        yw_stmt_release(s);
    }
    int limit = delivery[0] ? (int)(pending_last - cursor) : BATCH;
    int64_t day = quota_day(now);
    if (!delivery[0] && quota) {
        int64_t used;
        if (quota_used(db, grant_id, day, &used) < 0)
            goto done;
        if (used >= quota) {
            /* only when there is something to send: an idle subscription says nothing */
            int64_t waiting = 0;
            if (yw_db_int(db, &waiting, "SELECT EXISTS (SELECT 1 FROM record_changes WHERE resource = $1 AND seq > $2)",
                          "ti", resource, cursor) < 0 || !waiting)
                goto done;
            quota_wait_arg a = {sub,
                                yw_arena_printf(arena,
                                                "the daily quota of grant %s (%lld records) is used up; deliveries"
                                                " go on the next day",
                                                grant_id, (long long)quota),
                                next_quota_day_ms(now)};
            yw_writer_run(yw_store_writer(w->store), quota_wait_job, &a);
            goto done;
        }
        if (quota - used < limit)
            limit = (int)(quota - used);
    }
    resource_spec r;
    record_ctx ctx = {.arena = arena, .keys = w->keys, .only = grant_items};
    if (limit <= 0 || resource_spec_load(arena, db, resource, &r) < 0 ||
        feed_collect(&ctx, db, &r, grant_items, cursor, limit, &page) < 0 || json_array_size(page.changes) == 0)
        goto done;
    bool new_batch = !delivery[0];
    if (new_batch && next_id(db, "subscription_deliveries", "DL", delivery) < 0)
        goto done;
    json_t *payload = json_pack("{s:s, s:s, s:s, s:s, s:O}", "subscription", sub, "delivery", delivery, "resource",
                                resource, "grant", grant_id, "changes", page.changes);
    body = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    if (!body || yw_field_decrypt(w->keys, yw_arena_printf(arena, "subscription/%s", sub), secret_enc, &secret) < 0) {
        yw_log(YW_LOG_ERROR, "webhook batch not prepared", json_pack("{s:s}", "subscription", sub));
        goto done;
    }
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret.data, secret.len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    char mac_hex[2 * sizeof mac + 1], body_sha[YW_SHA256_HEX_LEN];
    sodium_bin2hex(mac_hex, sizeof mac_hex, mac, sizeof mac);
    yw_sha256_hex(body, strlen(body), body_sha);

    json_t *object_ids = json_pack("[s]", resource);
    json_array_extend(object_ids, page.indexes);
    items = array_text(page.disclosed);
    ids = array_text(object_ids);
    json_decref(object_ids);
    int64_t first_seq = json_integer_value(json_object_get(json_array_get(page.changes, 0), "seq"));
    send_job_arg a = {.audit = w->audit, .sub = sub, .delivery = delivery, .consumer = consumer, .resource = resource,
                      .grant_id = grant_id, .url = url, .body_sha256 = body_sha, .first_seq = first_seq,
                      .last_seq = page.last_seq, .changes = (int64_t)json_array_size(page.changes),
                      .daily_quota = quota, .day = day, .new_batch = new_batch, .items = items, .object_ids = ids};
    if (yw_writer_run(yw_store_writer(w->store), send_job, &a) < 0)
        goto done;

    inflight *f = free_slot(w);
    f->busy = true;
    snprintf(f->sub, sizeof f->sub, "%s", sub);
    snprintf(f->delivery, sizeof f->delivery, "%s", delivery);
    f->last_seq = page.last_seq;
    f->body = body;
    body = NULL;
    f->error[0] = '\0';
    char header[160];
    f->headers = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(header, sizeof header, "X-Yiwang-Delivery: %s", delivery);
    f->headers = curl_slist_append(f->headers, header);
    snprintf(header, sizeof header, "X-Yiwang-Subscription: %s", sub);
    f->headers = curl_slist_append(f->headers, header);
    snprintf(header, sizeof header, "X-Yiwang-Signature: sha256=%s", mac_hex);
    f->headers = curl_slist_append(f->headers, header);
    f->headers = curl_slist_append(f->headers, "Expect:");
    f->curl = curl_easy_init();
    curl_easy_setopt(f->curl, CURLOPT_URL, url);
    curl_easy_setopt(f->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(f->curl, CURLOPT_POSTFIELDS, f->body);
    curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, f->headers);
    curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(f->curl, CURLOPT_USERAGENT, "yiwang-webhooks");
    curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(f->curl, CURLOPT_ERRORBUFFER, f->error);
    curl_easy_setopt(f->curl, CURLOPT_PRIVATE, f);
    f->egress.policy = w->egress;
    yw_egress_guard(f->curl, &f->egress);
    curl_multi_add_handle(w->multi, f->curl);
done:
    free(items);
    free(ids);
    free(body);
    yw_buf_wipe(&secret);
    feed_page_free(&page);
    json_decref(grant_items);
    yw_arena_free(arena);
}

static void release(yw_webhooks *w, inflight *f)
{
    curl_multi_remove_handle(w->multi, f->curl);
    curl_easy_cleanup(f->curl);
    curl_slist_free_all(f->headers);
    free(f->body);
    memset(f, 0, sizeof *f);
}

static void finished(yw_webhooks *w, CURLMsg *m)
{
    inflight *f = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
    long status = 0;
    if (m->data.result == CURLE_OK)
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    char why[CURL_ERROR_SIZE + 32];
    if (m->data.result != CURLE_OK)
        snprintf(why, sizeof why, "%s",
                 f->egress.why[0] ? f->egress.why : f->error[0] ? f->error : curl_easy_strerror(m->data.result));
    else
        snprintf(why, sizeof why, "the receiver answered %ld", status);
    outcome_job_arg a = {.sub = f->sub, .delivery = f->delivery, .last_seq = f->last_seq, .http_status = status,
                         .error = status >= 200 && status < 300 ? NULL : why};
    int rc = yw_writer_run(yw_store_writer(w->store), outcome_job, &a);
    if (rc < 0)
        yw_log(YW_LOG_ERROR, "webhook outcome not stored",
               json_pack("{s:s, s:s}", "delivery", f->delivery, "error", yw_strerror(rc)));
    release(w, f);
}

static void due_free(due *d)
{
    free(d->sub);
    free(d->resource);
    free(d->grant_id);
    free(d->url);
    free(d->secret_enc);
    free(d->consumer);
}

static void scan(yw_webhooks *w)
{
    yw_db *db = yw_store_reader(w->store);
    due list[MAX_INFLIGHT];
    size_t n = 0;
    yw_stmt *s;
    if (!db || !free_slot(w) ||
        yw_db_query(db, &s,
                    "SELECT id, resource, grant_id, url, secret, cursor, consumer_org FROM subscriptions"
                    " WHERE status = 'active' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT 64",
                    "i", yw_now_ms()) < 0)
        return;
    while (n < MAX_INFLIGHT && yw_stmt_step(s) == YW_DB_ROW) {
        if (in_flight(w, yw_stmt_text(s, 0)))
            continue;
        list[n++] = (due){strdup(yw_stmt_text(s, 0)), strdup(yw_stmt_text(s, 1)), strdup(yw_stmt_text(s, 2)),
                          strdup(yw_stmt_text(s, 3)), strdup(yw_stmt_text(s, 4)), strdup(yw_stmt_text(s, 6)),
                          yw_stmt_int(s, 5)};
    }
    yw_stmt_release(s);
    /* Each in a snapshot of its own, so that it sees the batches started before it. */
    for (size_t i = 0; i < n; i++) {
        if (free_slot(w) && yw_db_exec(db, "BEGIN") == 0) {
            prepare(w, db, &list[i]);
            yw_db_exec(db, "COMMIT");
        }
        due_free(&list[i]);
    }
}

static void *run(void *arg)
{
    yw_webhooks *w = arg;
    int64_t next_scan = 0;
    while (!atomic_load(&w->stop)) {
        if (yw_now_ms() >= next_scan) {
            scan(w);
            next_scan = yw_now_ms() + SCAN_MS;
        }
        int running = 0;
        curl_multi_perform(w->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(w->multi, &left)))
            if (m->msg == CURLMSG_DONE)
                finished(w, m);
        curl_multi_poll(w->multi, NULL, 0, 100, NULL);
    }
    return NULL;
}

yw_webhooks *yw_webhooks_start(yw_store *store, yw_audit *audit, const yw_keyring *keys, const yw_egress *egress)
{
    yw_webhooks *w = calloc(1, sizeof *w);
    if (!w || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(w->multi = curl_multi_init())) {
        free(w);
        return NULL;
    }
    w->store = store;
    w->audit = audit;
    w->keys = keys;
    w->egress = egress;
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        curl_multi_cleanup(w->multi);
        free(w);
        return NULL;
    }
    return w;
}

void yw_webhooks_stop(yw_webhooks *w)
{
    if (!w)
        return;
    atomic_store(&w->stop, true);
    curl_multi_wakeup(w->multi);
    pthread_join(w->thread, NULL);
    /* batches in flight stay pending: they are sent again at the next start */
    for (int i = 0; i < MAX_INFLIGHT; i++)
        if (w->slots[i].busy)
            release(w, &w->slots[i]);
    curl_multi_cleanup(w->multi);
    curl_global_cleanup();
    free(w);
}
