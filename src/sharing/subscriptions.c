/*
 * Subscriptions: the changes of a granted resource pushed to a consumer's
 * system (webhooks), delivered by src/sharing/webhooks.c.
 *
 *   POST   /api/v1/subscriptions                 {resource, url, grant?, from_seq?}  → 201 with the secret, once
 *   GET    /api/v1/subscriptions                 ?resource= ?status=
 *   GET    /api/v1/subscriptions/{id}
 *   GET    /api/v1/subscriptions/{id}/deliveries  each batch sent: its changes, attempts, outcome
 *   DELETE /api/v1/subscriptions/{id}
 *
 * A steward or system of the consumer org subscribes through an active
 * grant of its org (the newest, or the one named); deliveries show what
 * that grant shows. Delivery starts after the latest change at the time of
 * subscribing, or after from_seq. The two orgs' stewards, org admins and
 * systems, and the data bureau, see subscriptions; the consumer's stewards
 * and systems end them.
 */
#include "sharing/handlers.h"
#include "sharing/sharing.h"

#include "app/app.h"
#include "core/error.h"
#include "core/time.h"
#include "sec/token.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define MAX_URL 2000
#define SUBSCRIPTION_COLUMNS                                                                                       \
    "id, resource, provider_org, consumer_org, grant_id, url, created_by, status, status_reason, cursor,"          \
    " failures, failing_since, next_attempt_at, created_at, updated_at"

static json_t *subscription_json(yw_stmt *s)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:I, s:I}", "id", yw_stmt_text(s, 0),
                          "resource", yw_stmt_text(s, 1), "provider_org", yw_stmt_text(s, 2), "consumer_org",
                          yw_stmt_text(s, 3), "grant_id", yw_stmt_text(s, 4), "url", yw_stmt_text(s, 5), "created_by",
                          yw_stmt_text(s, 6), "status", yw_stmt_text(s, 7), "status_reason", yw_stmt_text(s, 8),
                          "cursor", (json_int_t)yw_stmt_int(s, 9), "failures", (json_int_t)yw_stmt_int(s, 10));
    json_object_set_new(j, "failing_since", yw_json_time(yw_stmt_int(s, 11)));
    json_object_set_new(j, "next_attempt_at", yw_json_time(yw_stmt_int(s, 12)));
    json_object_set_new(j, "created_at", yw_json_time(yw_stmt_int(s, 13)));
    json_object_set_new(j, "updated_at", yw_json_time(yw_stmt_int(s, 14)));
    return j;
}

/* The subscription named by the path, if the caller may see it (and, to manage it, is the consumer's); else replies. */
static json_t *subscription_or_reply(yw_req *req, yw_db *db, bool manage)
{
    bool failed;
    json_t *sub = yw_app_load_one(req, db, "SELECT " SUBSCRIPTION_COLUMNS " FROM subscriptions WHERE id = $1",
                                  yw_req_param(req, "id"), subscription_json, &failed);
    if (failed)
        return NULL;
    if (!sub || strcmp(yw_json_str(sub, "status"), "deleted") == 0) {
        yw_reply_problem(req, 404, "not_found", "no such subscription");
        return NULL;
    }
    const char *consumer = yw_json_str(sub, "consumer_org");
    if (!share_authz_or_reply(req, YW_ACT_SUBSCRIPTION_READ, consumer, yw_json_str(sub, "provider_org"),
                              "subscription"))
        return NULL;
    if (manage && yw_authz(&req->principal, YW_ACT_SUBSCRIPTION_MANAGE, consumer, NULL) != YW_AUTHZ_ALLOW) {
        yw_reply_problem(req, 403, "forbidden", "the consumer's stewards and systems manage its subscriptions");
        return NULL;
    }
    return sub;
}

/* An http or https URL with a host that is not an address the hub may not reach. NULL, or why not. */
static const char *check_url(yw_req *req, const char *url)
{
    if (strlen(url) > MAX_URL)
        return "'url' has at most 2000 bytes";
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    const char *why = NULL;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        why = "'url' is not a URL";
    else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        why = "'url' must be http or https";
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return why ? why : yw_app_egress_refusal(req, "'url'", url);
}

typedef struct {
    yw_req *req;
    const char *resource, *provider, *consumer, *grant_id, *url, *secret_plain;
    int64_t from_seq; /* -1: after the latest change */
    char id[16];
} subscription_write;

static int subscription_insert_job(yw_db *db, void *arg)
{
    subscription_write *w = arg;
    int rc = next_id(db, "subscriptions", "SB", w->id);
    if (rc < 0)
        return rc;
    int64_t cursor = w->from_seq;
    if (cursor < 0 &&
        (rc = yw_db_int(db, &cursor, "SELECT coalesce(max(seq), 0) FROM record_changes WHERE resource = $1", "t",
                        w->resource)) < 0)
        return rc;
    yw_buf secret = YW_BUF_INIT;
    rc = yw_field_encrypt(yw_req_app(w->req)->keys, yw_arena_printf(w->req->arena, "subscription/%s", w->id),
                          w->secret_plain, strlen(w->secret_plain), &secret);
    int64_t now = yw_now_ms();
    if (rc >= 0)
        rc = yw_db_run(db,
                       "INSERT INTO subscriptions(id, resource, provider_org, consumer_org, grant_id, url, secret,"
                       " created_by, status, cursor, created_at, updated_at)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, $10)",
                       "ttttttttii", w->id, w->resource, w->provider, w->consumer, w->grant_id, w->url, secret.data,
                       w->req->principal.id, cursor, now);
    yw_buf_free(&secret);
    if (rc >= 0)
        json_array_insert_new(w->req->audit.object_ids, 0, json_string(w->id));
    return rc < 0 ? rc : 0;
}

void subscriptions_create(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"resource", YW_JSON_STRING, true, 64}, {"url", YW_JSON_STRING, true, MAX_URL},
        {"grant", YW_JSON_STRING, false, 15},   {"from_seq", YW_JSON_INTEGER, false, 0},
    };
    req->audit.stage = "share";
    if (!yw_authz_or_reply(req, YW_ACT_SUBSCRIPTION_MANAGE, NULL, NULL))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    resource_spec r;
    int rc = resource_spec_load(req->arena, db, yw_json_str(body, "resource"), &r);
    if (rc == YW_ENOTFOUND || (rc == 0 && strcmp(r.status, "published") != 0)) {
        yw_reply_problem(req, 404, "not_found", "no such resource");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    req->audit.object_type = "subscription";
    req->audit.object_ids = yw_req_keep(req, json_pack("[s]", r.code));
    grant g;
    rc = grant_find(req, db, r.code, yw_json_str(body, "grant"), &g);
    if (rc == YW_ENOTFOUND) {
        yw_reply_problem(req, 403, "no_grant", "no active grant of your org covers this resource: file a share request first");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "grant");
        return;
    }
    req->audit.purpose = g.id;
    json_t *from = json_object_get(body, "from_seq");
    const char *why = check_url(req, yw_json_str(body, "url"));
    if (!why && from && json_integer_value(from) < 0)
        why = "'from_seq' is a change seq, 0 for the first change";
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    char secret[YW_TOKEN_MAX];
    yw_token_new("ywh", secret);
    subscription_write w = {.req = req, .resource = r.code, .provider = r.provider, .consumer = req->principal.org_code,
                            .grant_id = g.id, .url = yw_json_str(body, "url"), .secret_plain = secret,
                            .from_seq = from ? json_integer_value(from) : -1};
    rc = yw_app_write(req, subscription_insert_job, &w, 201);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "subscription");
        return;
    }
    json_t *sub = yw_app_load_written(req, "SELECT " SUBSCRIPTION_COLUMNS " FROM subscriptions WHERE id = $1", w.id,
                                      subscription_json, "subscription");
    if (!sub)
        return;
    /* The secret that signs every delivery: shown this once. */
    json_object_set_new(sub, "secret", json_string(secret));
    yw_reply_header(req, "Location", yw_arena_printf(req->arena, "/api/v1/subscriptions/%s", w.id));
    yw_reply_json(req, 201, sub);
}

void subscriptions_list(yw_req *req)
{
    static const char *const statuses[] = {"active", "stopped", "failed", NULL};
    list_filter f;
    yw_db *db = list_begin(req, YW_ACT_SUBSCRIPTION_READ, statuses, false, &f);
    if (!db)
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " SUBSCRIPTION_COLUMNS " FROM subscriptions WHERE id > coalesce($1, '')"
                         " AND status != 'deleted'" PARTY_SQL("$2", "$3")
                         " AND ($4 IS NULL OR resource = $4) AND ($5 IS NULL OR status = $5) ORDER BY id LIMIT $6",
                         "ttttti", f.cursor, f.org, f.role, f.resource, f.status, (int64_t)f.limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "subscription");
        return;
    }
    yw_reply_page(req, s, f.limit, subscription_json, "id");
}

void subscriptions_get(yw_req *req)
{
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *sub = db ? subscription_or_reply(req, db, false) : NULL;
    if (sub)
        yw_reply_json(req, 200, sub);
}

static int subscription_delete_job(yw_db *db, void *arg)
{
    int rc = yw_db_run(db,
                       "UPDATE subscriptions SET status = 'deleted', status_reason = 'ended by the subscriber',"
                       " updated_at = $2 WHERE id = $1 AND status != 'deleted'",
                       "ti", (const char *)arg, yw_now_ms());
    if (rc == 0)
        return YW_ENOTFOUND;
    return rc < 0 ? rc : 0;
}

void subscriptions_delete(yw_req *req)
{
    req->audit.stage = "share";
    yw_req_audit_object(req, "subscription", yw_req_param(req, "id"));
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *sub = db ? subscription_or_reply(req, db, true) : NULL;
    if (!sub)
        return;
    int rc = yw_app_write(req, subscription_delete_job, (void *)yw_json_str(sub, "id"), 204);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "subscription");
        return;
    }
    yw_reply_raw(req, 204, "application/json", NULL, 0);
}

static json_t *delivery_json(yw_stmt *s)
{
    json_t *d = json_pack("{s:s, s:I, s:I, s:I, s:s, s:I, s:o, s:s?, s:s?}", "id", yw_stmt_text(s, 0), "first_seq",
                          (json_int_t)yw_stmt_int(s, 1), "last_seq", (json_int_t)yw_stmt_int(s, 2), "changes",
                          (json_int_t)yw_stmt_int(s, 3), "status", yw_stmt_text(s, 4), "attempts",
                          (json_int_t)yw_stmt_int(s, 5), "http_status",
                          yw_stmt_is_null(s, 6) ? json_null() : json_integer(yw_stmt_int(s, 6)), "error",
                          yw_stmt_text(s, 7), "body_sha256", yw_stmt_text(s, 8));
    json_object_set_new(d, "created_at", yw_json_time(yw_stmt_int(s, 9)));
    json_object_set_new(d, "updated_at", yw_json_time(yw_stmt_int(s, 10)));
    return d;
}

void subscriptions_deliveries(yw_req *req)
{
    int limit;
    const char *cursor;
    if (yw_req_limit_or_reply(req, &limit) < 0 || yw_req_cursor_or_reply(req, &cursor) < 0)
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *sub = db ? subscription_or_reply(req, db, false) : NULL;
    if (!sub)
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT id, first_seq, last_seq, changes, status, attempts, http_status, error, body_sha256,"
                         " created_at, updated_at FROM subscription_deliveries"
                         " WHERE subscription = $1 AND id > coalesce($2, '') ORDER BY id LIMIT $3",
                         "tti", yw_json_str(sub, "id"), cursor, (int64_t)limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "delivery");
        return;
    }
    yw_reply_page(req, s, limit, delivery_json, "id");
}
