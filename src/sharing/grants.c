/*
 * Grants (共享授权): what a consumer org may read of a resource, and how.
 *
 *   GET    /api/v1/grants        ?resource= ?status=active|expired|revoked ?role=consumer|provider
 *   GET    /api/v1/grants/{id}
 *   DELETE /api/v1/grants/{id}   ?reason=   revoke: a steward of the provider org, or of the data bureau
 *
 * A grant is active from its approval until valid_until or its revocation,
 * whichever comes first; a revoked or expired grant stops the very next
 * read (reads keep the grants they found until a definition changes).
 */
#include "sharing/handlers.h"
#include "sharing/sharing.h"

#include "app/app.h"
#include "core/calendar.h"
#include "core/error.h"
#include "core/memo.h"
#include "core/time.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS 86400000LL
#define CST_OFFSET_MS (8 * 3600000LL)
#define GRANT_COLUMNS                                                                                              \
    "id, request_id, resource, provider_org, consumer_org, client_id, items, purpose, legal_basis, valid_until,"   \
    " daily_quota, created_at, revoked_at, revoked_by, revoke_reason"

yw_authz_result share_authz(const yw_principal *p, yw_action action, const char *consumer, const char *provider)
{
    yw_authz_result a = yw_authz(p, action, consumer, NULL), b = yw_authz(p, action, provider, NULL);
    if (a == YW_AUTHZ_ALLOW || b == YW_AUTHZ_ALLOW)
        return YW_AUTHZ_ALLOW;
    return a == YW_AUTHZ_HIDE && b == YW_AUTHZ_HIDE ? YW_AUTHZ_HIDE : YW_AUTHZ_FORBID;
}

bool share_authz_or_reply(yw_req *req, yw_action action, const char *consumer, const char *provider, const char *noun)
{
    switch (share_authz(&req->principal, action, consumer, provider)) {
    case YW_AUTHZ_ALLOW: return true;
    case YW_AUTHZ_HIDE: yw_reply_problem(req, 404, "not_found", "no such %s", noun); return false;
    case YW_AUTHZ_FORBID: break;
    }
    yw_reply_problem(req, 403, "forbidden", "your roles do not allow this");
    return false;
}

static bool listed(const char *v, const char *const *values)
{
    for (; *values; values++)
        if (strcmp(v, *values) == 0)
            return true;
    return false;
}

yw_db *list_begin(yw_req *req, yw_action action, const char *const *statuses, bool deadlines, list_filter *f)
{
    static const char *const roles[] = {"consumer", "provider", NULL}, *const booleans[] = {"true", "false", NULL};
    *f = (list_filter){.status = yw_req_query(req, "status"), .role = yw_req_query(req, "role"),
                       .resource = yw_req_query(req, "resource"), .overdue = -1};
    if (!yw_app_list_or_reply(req, action, &f->limit, &f->cursor))
        return NULL;
    const char *overdue = deadlines ? yw_req_query(req, "overdue") : NULL;
    const char *why = NULL;
    if (f->status && !listed(f->status, statuses))
        why = "status is not one of this list's";
    else if (f->role && !listed(f->role, roles))
        why = "role is consumer or provider";
    else if (overdue && !listed(overdue, booleans))
        why = "overdue is true or false";
    else if (f->resource && strlen(f->resource) > 64)
        why = "resource is a resource code";
    if (why) {
        yw_reply_problem(req, 400, "invalid_request", "%s", why);
        return NULL;
    }
    if (overdue)
        f->overdue = strcmp(overdue, "true") == 0;
    /* Without oversight of every org, a caller sees what its own org is a party to; a role narrows to one side. */
    f->org = yw_authz_own_org_only(&req->principal, action) || f->role ? req->principal.org_code : NULL;
    return yw_app_reader_or_reply(req);
}

int next_id(yw_db *db, const char *table, const char *prefix, char buf[16])
{
    int64_t last = 0;
    /* The table name is one of ours, never the caller's. */
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT coalesce(max(rowid), 0) FROM %s", table);
    int rc = yw_db_int(db, &last, sql, "");
    if (rc < 0)
        return rc;
    char id[48];
    int n = snprintf(id, sizeof id, "%s%08lld", prefix, (long long)last + 1);
    if (n < 0 || n >= 16)
        return YW_ERANGE;
    memcpy(buf, id, (size_t)n + 1);
    return 0;
}

int64_t quota_day(int64_t now_ms)
{
    return yw_calendar_day(now_ms);
}

int64_t next_quota_day_ms(int64_t now_ms)
{
    return (quota_day(now_ms) + 1) * DAY_MS - CST_OFFSET_MS;
}

int64_t seconds_to_next_day(int64_t now_ms)
{
    return (next_quota_day_ms(now_ms) - now_ms + 999) / 1000;
}

int quota_used(yw_db *db, const char *grant_id, int64_t day, int64_t *used)
{
    *used = 0;
    int rc = yw_db_int(db, used, "SELECT used FROM grant_usage WHERE grant_id = $1 AND day = $2", "ti", grant_id, day);
    return rc < 0 ? rc : 0;
}

int quota_take(yw_db *db, const char *grant_id, int64_t day, int64_t quota, int64_t n)
{
    int64_t used;
    int rc = quota_used(db, grant_id, day, &used);
    if (rc < 0)
        return rc;
    if (used + n > quota)
        return YW_ERANGE;
    rc = yw_db_run(db,
                   "INSERT INTO grant_usage(grant_id, day, used) VALUES ($1, $2, $3)"
                   " ON CONFLICT(grant_id, day) DO UPDATE SET used = used + excluded.used",
                   "tii", grant_id, day, n);
    return rc < 0 ? rc : 0;
}

static const char *grant_status(yw_stmt *s, int64_t now)
{
    if (!yw_stmt_is_null(s, 12))
        return "revoked";
    return yw_stmt_int(s, 9) <= now ? "expired" : "active";
}

static json_t *grant_json(yw_stmt *s)
{
    json_t *items = json_loads(yw_stmt_text(s, 6), 0, NULL);
    json_t *g = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:s, s:s}", "id", yw_stmt_text(s, 0), "request_id",
                          yw_stmt_text(s, 1), "resource", yw_stmt_text(s, 2), "provider_org", yw_stmt_text(s, 3),
                          "consumer_org", yw_stmt_text(s, 4), "client_id", yw_stmt_text(s, 5), "items",
                          items ? items : json_object(), "purpose", yw_stmt_text(s, 7), "legal_basis",
                          yw_stmt_text(s, 8));
    json_object_set_new(g, "valid_until", yw_json_time(yw_stmt_int(s, 9)));
    json_object_set_new(g, "daily_quota", yw_stmt_is_null(s, 10) ? json_null() : json_integer(yw_stmt_int(s, 10)));
    json_object_set_new(g, "status", json_string(grant_status(s, yw_now_ms())));
    json_object_set_new(g, "created_at", yw_json_time(yw_stmt_int(s, 11)));
    json_object_set_new(g, "revoked_at", yw_json_time(yw_stmt_int(s, 12)));
    json_object_set_new(g, "revoked_by", yw_stmt_text(s, 13) ? json_string(yw_stmt_text(s, 13)) : json_null());
    json_object_set_new(g, "revoke_reason", yw_stmt_text(s, 14) ? json_string(yw_stmt_text(s, 14)) : json_null());
    return g;
}

/*
 * The grants this thread found lately, by what was asked: a read looks its
 * grant up on every request, and the answer stays the same until a
 * definition changes (the writer's generation, app.h) or the grant's time
 * runs out. A revocation is a change, so it still stops the very next read;
 * the write that records a read checks the grant once more when grants may
 * have changed since it was found (access.c).
 */
static yw_memo grant_memo = YW_MEMO;

int grant_find(yw_req *req, yw_db *db, const char *resource, const char *id, grant *g)
{
    const yw_principal *p = &req->principal;
    const char *org = p->org_code ? p->org_code : "", *client = p->kind == YW_PRINCIPAL_CLIENT ? p->id : NULL;
    int64_t now = yw_now_ms();
    const char *key = yw_memo_key(req->arena, 4, org, resource, client, id);
    uint64_t current = yw_app_generation(req);
    const json_t *kept = yw_memo_recall(&grant_memo, key, current, now);
    if (kept) {
        g->id = yw_arena_strdup(req->arena, yw_json_str(kept, "id"));
        g->resource = yw_arena_strdup(req->arena, resource);
        g->items = yw_req_keep(req, json_incref(json_object_get(kept, "items")));
        g->daily_quota = json_integer_value(json_object_get(kept, "daily_quota"));
        g->valid_until = json_integer_value(json_object_get(kept, "valid_until"));
        g->generation = current;
        return 0;
    }
    uint64_t generation = yw_app_read_generation(req);
    yw_stmt *s;
    /* A grant bound to one system serves that system only; people of the org use unbound grants. */
    int rc = yw_db_query(db, &s,
                         "SELECT id, items, coalesce(daily_quota, 0), valid_until FROM grants"
                         " WHERE consumer_org = $1 AND resource = $2 AND revoked_at IS NULL AND valid_until > $3"
                         " AND (client_id IS NULL OR client_id = $4) AND ($5 IS NULL OR id = $5)"
                         " ORDER BY id DESC LIMIT 1",
                         "ttitt", org, resource, now, client, id);
    if (rc < 0)
        return rc;
    if (yw_stmt_step(s) != YW_DB_ROW) {
        yw_stmt_release(s);
        return YW_ENOTFOUND;
    }
    g->id = yw_arena_strdup(req->arena, yw_stmt_text(s, 0));
    g->resource = yw_arena_strdup(req->arena, resource);
    g->items = yw_req_keep(req, json_loads(yw_stmt_text(s, 1), 0, NULL));
    g->daily_quota = yw_stmt_int(s, 2);
    g->valid_until = yw_stmt_int(s, 3);
    g->generation = generation;
    yw_stmt_release(s);
    if (!g->items)
        return YW_EIO;
    yw_memo_keep(&grant_memo, key,
                 json_pack("{s:s, s:O, s:I, s:I}", "id", g->id, "items", g->items, "daily_quota",
                           (json_int_t)g->daily_quota, "valid_until", (json_int_t)g->valid_until),
                 generation, g->valid_until);
    return 0;
}

void grants_list(yw_req *req)
{
    static const char *const statuses[] = {"active", "expired", "revoked", NULL};
    list_filter f;
    yw_db *db = list_begin(req, YW_ACT_GRANT_READ, statuses, false, &f);
    if (!db)
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " GRANT_COLUMNS " FROM grants WHERE id > coalesce($1, '')" PARTY_SQL("$2", "$3")
                         " AND ($4 IS NULL OR resource = $4)"
                         " AND ($5 IS NULL OR ($5 = 'revoked' AND revoked_at IS NOT NULL)"
                         "      OR ($5 = 'expired' AND revoked_at IS NULL AND valid_until <= $6)"
                         "      OR ($5 = 'active' AND revoked_at IS NULL AND valid_until > $6))"
                         " ORDER BY id LIMIT $7",
                         "tttttii", f.cursor, f.org, f.role, f.resource, f.status, yw_now_ms(), (int64_t)f.limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "grant");
        return;
    }
    yw_reply_page(req, s, f.limit, grant_json, "id");
}

/* The grant named by the path if the caller may do action on it; else replies. Kept by the request. */
static json_t *grant_or_reply(yw_req *req, yw_db *db, yw_action action)
{
    bool failed;
    json_t *g = yw_app_load_one(req, db, "SELECT " GRANT_COLUMNS " FROM grants WHERE id = $1", yw_req_param(req, "id"),
                                grant_json, &failed);
    if (failed)
        return NULL;
    if (!g) {
        yw_reply_problem(req, 404, "not_found", "no such grant");
        return NULL;
    }
    const char *consumer = yw_json_str(g, "consumer_org"), *provider = yw_json_str(g, "provider_org");
    if (!share_authz_or_reply(req, YW_ACT_GRANT_READ, consumer, provider, "grant"))
        return NULL;
    /* Revocation is the provider's (or the data bureau's), not the consumer's. */
    if (action == YW_ACT_GRANT_REVOKE && yw_authz(&req->principal, action, provider, NULL) != YW_AUTHZ_ALLOW) {
        yw_reply_problem(req, 403, "forbidden", "the provider's stewards and the data bureau revoke grants");
        return NULL;
    }
    return g;
}

void grants_get(yw_req *req)
{
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *g = db ? grant_or_reply(req, db, YW_ACT_GRANT_READ) : NULL;
    if (g)
        yw_reply_json(req, 200, g);
}

typedef struct {
    const char *id, *by, *reason;
} revocation;

static int revoke_job(yw_db *db, void *arg)
{
    revocation *r = arg;
    int rc = yw_db_run(db,
                       "UPDATE grants SET revoked_at = $2, revoked_by = $3, revoke_reason = $4"
                       " WHERE id = $1 AND revoked_at IS NULL",
                       "titt", r->id, yw_now_ms(), r->by, r->reason);
    if (rc == 0)
        return YW_ESTATE;
    return rc < 0 ? rc : 0;
}

void grants_revoke(yw_req *req)
{
    req->audit.stage = "share";
    yw_req_audit_object(req, "grant", yw_req_param(req, "id"));
    const char *reason = yw_req_query(req, "reason");
    if (reason && strlen(reason) > 1000) {
        yw_reply_problem(req, 400, "invalid_request", "reason has at most 1000 bytes");
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *g = db ? grant_or_reply(req, db, YW_ACT_GRANT_REVOKE) : NULL;
    if (!g)
        return;
    revocation r = {.id = yw_json_str(g, "id"), .by = req->principal.id, .reason = reason};
    int rc = yw_app_write(req, revoke_job, &r, 204);
    if (rc == YW_ESTATE) {
        yw_reply_problem(req, 409, "already_revoked", "the grant was revoked already");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "grant");
        return;
    }
    yw_reply_raw(req, 204, "application/json", NULL, 0);
}
