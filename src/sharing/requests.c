/*
 * Share requests (共享申请) and the provider's decision.
 *
 *   POST /api/v1/share-requests                a steward or system of the consumer org asks
 *   GET  /api/v1/share-requests                ?status= ?role=consumer|provider ?resource= ?overdue=true
 *   GET  /api/v1/share-requests/{id}
 *   POST /api/v1/share-requests/{id}/approve   {items?, modes?}  a steward of the provider org
 *   POST /api/v1/share-requests/{id}/reject    {reason}
 *
 * By the resource's share type: unconditional (无条件共享) is granted at
 * once, as requested, in clear; conditional (有条件共享) waits for the
 * provider, who may grant fewer items, or some masked, or reject with a
 * reason; none (不予共享) is refused with 422. A pending request has until
 * due_at (--request-days working days on the calendar) before it is shown
 * as overdue, to its parties and to the data bureau.
 *
 * Requests are visible to the stewards, org admins and systems of the two
 * orgs and to the data bureau's stewards and org admins; to anyone else
 * they do not exist.
 */
#include "sharing/handlers.h"
#include "sharing/sharing.h"

#include "app/app.h"
#include "core/error.h"
#include "core/time.h"
#include "data/record.h"

#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define REQUEST_COLUMNS                                                                                            \
    "id, resource, provider_org, consumer_org, client_id, requested_by, items, purpose, legal_basis, scenario,"    \
    " valid_until, daily_quota, status, due_at, decided_by, decided_at, reason, grant_id, created_at"

static json_t *request_json(yw_stmt *s)
{
    json_t *items = json_loads(yw_stmt_text(s, 6), 0, NULL);
    bool pending = strcmp(yw_stmt_text(s, 12), "pending") == 0;
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:o, s:s, s:s, s:s}", "id", yw_stmt_text(s, 0), "resource",
                          yw_stmt_text(s, 1), "provider_org", yw_stmt_text(s, 2), "consumer_org", yw_stmt_text(s, 3),
                          "client_id", yw_stmt_text(s, 4), "requested_by", yw_stmt_text(s, 5), "items",
                          items ? items : json_array(), "purpose", yw_stmt_text(s, 7), "legal_basis",
                          yw_stmt_text(s, 8), "scenario", yw_stmt_text(s, 9));
    json_object_set_new(r, "valid_until", yw_json_time(yw_stmt_int(s, 10)));
    json_object_set_new(r, "daily_quota", yw_stmt_is_null(s, 11) ? json_null() : json_integer(yw_stmt_int(s, 11)));
    json_object_set_new(r, "status", json_string(yw_stmt_text(s, 12)));
    json_object_set_new(r, "due_at", yw_json_time(yw_stmt_int(s, 13)));
    json_object_set_new(r, "overdue", json_boolean(pending && yw_now_ms() > yw_stmt_int(s, 13)));
    json_object_set_new(r, "decided_by", yw_stmt_text(s, 14) ? json_string(yw_stmt_text(s, 14)) : json_null());
    json_object_set_new(r, "decided_at", yw_json_time(yw_stmt_int(s, 15)));
    json_object_set_new(r, "reason", yw_stmt_text(s, 16) ? json_string(yw_stmt_text(s, 16)) : json_null());
    json_object_set_new(r, "grant_id", yw_stmt_text(s, 17) ? json_string(yw_stmt_text(s, 17)) : json_null());
    json_object_set_new(r, "created_at", yw_json_time(yw_stmt_int(s, 18)));
    return r;
}

/* The request named by the path if the caller may do action on it; else replies. Kept by the request. */
static json_t *request_or_reply(yw_req *req, yw_db *db, yw_action action)
{
    bool failed;
    const char *id = yw_req_param(req, "id");
    json_t *r = yw_app_load_one(req, db, "SELECT " REQUEST_COLUMNS " FROM share_requests WHERE id = $1", id,
                                request_json, &failed);
    if (failed)
        return NULL;
    if (!r) {
        yw_reply_problem(req, 404, "not_found", "no such share request");
        return NULL;
    }
    /* Who cannot even see it learns nothing, whatever the action. */
    if (!share_authz_or_reply(req, YW_ACT_SHARE_READ, yw_json_str(r, "consumer_org"), yw_json_str(r, "provider_org"),
                              "share request"))
        return NULL;
    /* Deciding is the provider's: a party that may see the request but not decide it is told so. */
    if (action != YW_ACT_SHARE_READ &&
        yw_authz(&req->principal, action, yw_json_str(r, "provider_org"), NULL) != YW_AUTHZ_ALLOW) {
        yw_reply_problem(req, 403, "forbidden", "the provider's stewards decide this request");
        return NULL;
    }
    return r;
}

/* ---- filing a request ---- */

static int insert_grant(yw_db *db, const char *request_id, const char *resource, const char *provider,
                        const char *consumer, const char *client_id, const char *items, const char *purpose,
                        const char *legal_basis, int64_t valid_until, int64_t daily_quota, int64_t now,
                        char grant_id[16])
{
    int rc = next_id(db, "grants", "GR", grant_id);
    if (rc >= 0)
        rc = yw_db_run(db,
                       "INSERT INTO grants(id, request_id, resource, provider_org, consumer_org, client_id, items,"
                       " purpose, legal_basis, valid_until, daily_quota, created_at)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11, 0), $12)",
                       "tttttttttiii", grant_id, request_id, resource, provider, consumer, client_id, items,
                       purpose, legal_basis, valid_until, daily_quota, now);
    return rc < 0 ? rc : 0;
}

int share_request_insert(yw_db *db, share_request_new *n)
{
    int64_t now = n->created_at ? n->created_at : yw_now_ms();
    int rc = next_id(db, "share_requests", "SR", n->id);
    if (rc < 0)
        return rc;
    rc = yw_db_run(db,
                   "INSERT INTO share_requests(id, resource, provider_org, consumer_org, client_id, requested_by, items,"
                   " purpose, legal_basis, scenario, valid_until, daily_quota, status, due_at, created_at)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, nullif($12, 0), 'pending', $13, $14)",
                   "ttttttttttiiii", n->id, n->resource, n->provider, n->consumer, n->client_id, n->requested_by,
                   n->items, n->purpose, n->legal_basis, n->scenario, n->valid_until, n->daily_quota, n->due_at, now);
    if (rc < 0 || !n->grant_items)
        return rc < 0 ? rc : 0;
    rc = insert_grant(db, n->id, n->resource, n->provider, n->consumer, n->client_id, n->grant_items, n->purpose,
                      n->legal_basis, n->valid_until, n->daily_quota, now, n->grant_id);
    if (rc >= 0)
        rc = yw_db_run(db,
                       "UPDATE share_requests SET status = 'approved', decided_by = $2, decided_at = $3, grant_id = $4"
                       " WHERE id = $1",
                       "ttit", n->id, n->decided_by, now, n->grant_id);
    return rc < 0 ? rc : 0;
}

typedef struct {
    yw_req *req;
    share_request_new n;
} request_write;

static int request_insert_job(yw_db *db, void *arg)
{
    request_write *w = arg;
    int rc = share_request_insert(db, &w->n);
    if (rc < 0)
        return rc;
    /* The request waits for this job, so its audit description is ours meanwhile. */
    json_array_insert_new(w->req->audit.object_ids, 0, json_string(w->n.id));
    if (w->n.grant_items)
        json_array_append_new(w->req->audit.object_ids, json_string(w->n.grant_id));
    return 0;
}

/* Checks that names is a non-empty list of distinct items of r (and of allowed, when given). NULL or why not. */
static const char *check_items(yw_req *req, const json_t *names, const resource_spec *r, const json_t *allowed)
{
    if (json_array_size(names) == 0)
        return "'items' names at least one item";
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        const char *name = json_string_value(v);
        bool known = false;
        for (size_t k = 0; k < r->nitems && !known; k++)
            known = strcmp(r->items[k].name, name) == 0;
        if (!known)
            return yw_arena_printf(req->arena, "'%.64s' is not an item of the resource", name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(names, j)), name) == 0)
                return yw_arena_printf(req->arena, "'%.64s' is named twice", name);
        if (allowed) {
            bool requested = false;
            size_t k;
            json_t *a;
            json_array_foreach(allowed, k, a) requested = requested || strcmp(json_string_value(a), name) == 0;
            if (!requested)
                return yw_arena_printf(req->arena, "'%.64s' was not requested: a grant gives at most what was asked",
                                       name);
        }
    }
    return NULL;
}

/* The client id, if given, must name an active system of the consumer org. NULL or why not. */
static const char *check_client(yw_db *db, const char *client_id, const char *consumer)
{
    if (!client_id)
        return NULL;
    int64_t n = 0;
    int rc = yw_db_int(db, &n, "SELECT count(*) FROM clients WHERE id = $1 AND org_code = $2 AND revoked_at IS NULL",
                       "tt", client_id, consumer);
    return rc < 0 || n == 0 ? "'client_id' must name an active system of your org" : NULL;
}

/* valid_until from the body: in the future and within --grant-days; default the longest. */
static const char *valid_until_of(yw_req *req, const json_t *body, int64_t now, int64_t *out)
{
    int64_t longest = now + (int64_t)yw_req_app(req)->config->grant_days * DAY_MS;
    const char *text = yw_json_str(body, "valid_until");
    if (!text) {
        *out = longest;
        return NULL;
    }
    if (yw_time_parse(text, out) < 0)
        return "'valid_until' must be an RFC 3339 time, like 2027-06-30T00:00:00+08:00";
    if (*out <= now)
        return "'valid_until' must be in the future";
    if (*out > longest)
        return yw_arena_printf(req->arena, "a grant lasts at most %d days: 'valid_until' is too late",
                               yw_req_app(req)->config->grant_days);
    return NULL;
}

/* Every item clear: {"name": "clear", ...}, as a new object. */
static json_t *clear_modes(const json_t *names)
{
    json_t *modes = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) json_object_set_new(modes, json_string_value(v), json_string("clear"));
    return modes;
}

static char *dump_kept(yw_req *req, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    char *out = yw_arena_strdup(req->arena, text ? text : "null");
    free(text);
    json_decref(v);
    return out;
}

static void reply_request(yw_req *req, const char *id, int status)
{
    json_t *r = yw_app_load_written(req, "SELECT " REQUEST_COLUMNS " FROM share_requests WHERE id = $1", id,
                                    request_json, "share request");
    if (r)
        yw_reply_json(req, status, r);
}

void share_requests_create(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"resource", YW_JSON_STRING, true, 64},     {"items", YW_JSON_STRINGS, true, 200},
        {"purpose", YW_JSON_STRING, true, 1000},    {"legal_basis", YW_JSON_STRING, true, 1000},
        {"scenario", YW_JSON_STRING, true, 1000},   {"valid_until", YW_JSON_STRING, false, 40},
        {"client_id", YW_JSON_STRING, false, 200},  {"daily_quota", YW_JSON_INTEGER, false, 0},
    };
    req->audit.stage = "share";
    if (!yw_authz_or_reply(req, YW_ACT_SHARE_REQUEST, NULL, NULL))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    const char *code = yw_json_str(body, "resource");
    resource_spec r;
    int rc = resource_spec_load(req->arena, db, code, &r);
    bool own = rc == 0 && strcmp(r.provider, req->principal.org_code) == 0;
    if (rc == YW_ENOTFOUND || (rc == 0 && !own && strcmp(r.status, "published") != 0)) {
        yw_reply_problem(req, 404, "not_found", "no such resource");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    req->audit.object_type = "share_request";
    req->audit.object_ids = yw_req_keep(req, json_pack("[s]", r.code));
    json_t *items = json_object_get(body, "items");
    req->audit.items = yw_req_keep(req, json_deep_copy(items));
    const char *share_type = NULL;
    int64_t quota = json_integer_value(json_object_get(body, "daily_quota"));
    int64_t now = yw_now_ms(), valid_until = 0;
    const char *why = NULL, *problem = "validation_failed";
    yw_stmt *s;
    if ((rc = yw_db_query(db, &s, "SELECT coalesce(share_type, 'none') FROM resources WHERE code = $1", "t",
                          r.code)) < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    if (yw_stmt_step(s) == YW_DB_ROW)
        share_type = yw_arena_strdup(req->arena, yw_stmt_text(s, 0));
    yw_stmt_release(s);
    if (own)
        why = "your org provides this resource: its stewards read it without a grant";
    else if (strcmp(r.status, "published") != 0)
        why = "only published resources are shared";
    else if (!share_type || strcmp(share_type, "none") == 0)
        why = "the resource is not shared (不予共享)", problem = "not_shared";
    else if (!r.key_item)
        why = "the resource has no key item: its records cannot be read one by one";
    if (!why)
        why = check_items(req, items, &r, NULL);
    if (!why && json_object_get(body, "daily_quota") && (quota < 1 || quota > 100000000))
        why = "'daily_quota' is a number of records from 1 to 100000000";
    if (!why)
        why = check_client(db, yw_json_str(body, "client_id"), req->principal.org_code);
    if (!why)
        why = valid_until_of(req, body, now, &valid_until);
    if (why) {
        yw_reply_problem(req, 422, problem, "%s", why);
        return;
    }
    request_write w = {.req = req, .n = {
        .resource = r.code, .provider = r.provider, .consumer = req->principal.org_code,
        .client_id = yw_json_str(body, "client_id"), .requested_by = req->principal.id,
        .items = dump_kept(req, json_deep_copy(items)), .purpose = yw_json_str(body, "purpose"),
        .legal_basis = yw_json_str(body, "legal_basis"), .scenario = yw_json_str(body, "scenario"),
        .valid_until = valid_until, .daily_quota = quota,
        .due_at = yw_calendar_deadline(yw_req_app(req)->calendar, now, yw_req_app(req)->config->request_days),
    }};
    /* 无条件共享: granted at once, as requested, in clear */
    if (strcmp(share_type, "unconditional") == 0)
        w.n.grant_items = dump_kept(req, clear_modes(items));
    req->audit.purpose = w.n.purpose;
    rc = yw_app_write(req, request_insert_job, &w, 201);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "share request");
        return;
    }
    yw_reply_header(req, "Location", yw_arena_printf(req->arena, "/api/v1/share-requests/%s", w.n.id));
    reply_request(req, w.n.id, 201);
}

/* ---- reading requests ---- */

void share_requests_list(yw_req *req)
{
    static const char *const statuses[] = {"pending", "approved", "rejected", NULL};
    list_filter f;
    yw_db *db = list_begin(req, YW_ACT_SHARE_READ, statuses, true, &f);
    if (!db)
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " REQUEST_COLUMNS " FROM share_requests WHERE id > coalesce($1, '')" PARTY_SQL("$2", "$3")
                         DEADLINE_SQL("pending") " ORDER BY id LIMIT $8",
                         "tttttiii", f.cursor, f.org, f.role, f.status, f.resource, f.overdue, yw_now_ms(),
                         (int64_t)f.limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "share request");
        return;
    }
    yw_reply_page(req, s, f.limit, request_json, "id");
}

void share_requests_get(yw_req *req)
{
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *r = db ? request_or_reply(req, db, YW_ACT_SHARE_READ) : NULL;
    if (r)
        yw_reply_json(req, 200, r);
}

/* ---- deciding ---- */

typedef struct {
    yw_req *req;
    const json_t *request;
    const char *items; /* the grant's items and modes; NULL: reject */
    const char *reason;
    char grant_id[16];
} decision;

static int decide_job(yw_db *db, void *arg)
{
    decision *d = arg;
    const json_t *r = d->request;
    const char *id = yw_json_str(r, "id");
    int64_t now = yw_now_ms();
    int rc;
    if (d->items) {
        int64_t valid_until = 0;
        yw_time_parse(yw_json_str(r, "valid_until"), &valid_until);
        rc = insert_grant(db, id, yw_json_str(r, "resource"), yw_json_str(r, "provider_org"),
                          yw_json_str(r, "consumer_org"), yw_json_str(r, "client_id"), d->items,
                          yw_json_str(r, "purpose"), yw_json_str(r, "legal_basis"), valid_until,
                          json_integer_value(json_object_get(r, "daily_quota")), now, d->grant_id);
        if (rc < 0)
            return rc;
        json_array_append_new(d->req->audit.object_ids, json_string(d->grant_id));
    }
    /* Decided once: a second decision, even a concurrent one, finds it no longer pending. */
    rc = yw_db_run(db,
                   "UPDATE share_requests SET status = $2, decided_by = $3, decided_at = $4, reason = $5,"
                   " grant_id = nullif($6, '') WHERE id = $1 AND status = 'pending'",
                   "tttitt", id, d->items ? "approved" : "rejected", d->req->principal.id, now, d->reason,
                   d->grant_id);
    if (rc == 0)
        return YW_ESTATE;
    return rc < 0 ? rc : 0;
}

/* The pending request named by the path, which the caller may decide; else replies. */
static json_t *decidable_request(yw_req *req, yw_db **db)
{
    req->audit.stage = "share";
    yw_req_audit_object(req, "share_request", yw_req_param(req, "id"));
    *db = yw_app_reader_or_reply(req);
    json_t *r = *db ? request_or_reply(req, *db, YW_ACT_SHARE_DECIDE) : NULL;
    if (r && strcmp(yw_json_str(r, "status"), "pending") != 0) {
        yw_reply_problem(req, 409, "already_decided", "the request was %s already", yw_json_str(r, "status"));
        return NULL;
    }
    return r;
}

static void decide(yw_req *req, json_t *r, decision *d)
{
    d->req = req;
    d->request = r;
    int rc = yw_app_write(req, decide_job, d, 200);
    if (rc == YW_ESTATE) {
        yw_reply_problem(req, 409, "already_decided", "the request was decided meanwhile");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "share request");
        return;
    }
    reply_request(req, yw_json_str(r, "id"), 200);
}

void share_requests_approve(yw_req *req)
{
    static const yw_json_field fields[] = {{"items", YW_JSON_STRINGS, false, 200}, {"modes", YW_JSON_OBJECT, false, 200}};
    yw_db *db;
    json_t *r = decidable_request(req, &db);
    if (!r)
        return;
    /* An empty body approves as requested. */
    json_t *body = req->body_len ? yw_req_json_or_reply(req, fields, 2) : yw_req_keep(req, json_object());
    if (!body)
        return;
    resource_spec spec;
    int rc = resource_spec_load(req->arena, db, yw_json_str(r, "resource"), &spec);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    json_t *requested = json_object_get(r, "items");
    json_t *items = json_object_get(body, "items") ? json_object_get(body, "items") : requested;
    const char *why = check_items(req, items, &spec, requested);
    json_t *modes = yw_req_keep(req, clear_modes(items));
    const char *name;
    json_t *mode;
    json_object_foreach(json_object_get(body, "modes"), name, mode) {
        if (why)
            break;
        if (!json_object_get(modes, name))
            why = yw_arena_printf(req->arena, "modes: '%.64s' is not an item being granted", name);
        else if (!json_is_string(mode) ||
                 (strcmp(json_string_value(mode), "clear") != 0 && strcmp(json_string_value(mode), "masked") != 0))
            why = yw_arena_printf(req->arena, "modes: '%.64s' is clear or masked", name);
        else
            json_object_set(modes, name, mode);
    }
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    req->audit.items = yw_req_keep(req, json_deep_copy(items));
    req->audit.purpose = yw_json_str(r, "purpose");
    char *text = json_dumps(modes, JSON_COMPACT);
    decision d = {.items = yw_arena_strdup(req->arena, text)};
    free(text);
    decide(req, r, &d);
}

void share_requests_reject(yw_req *req)
{
    static const yw_json_field fields[] = {{"reason", YW_JSON_STRING, true, 1000}};
    yw_db *db;
    json_t *r = decidable_request(req, &db);
    if (!r)
        return;
    json_t *body = yw_req_json_or_reply(req, fields, 1);
    if (!body)
        return;
    const char *reason = yw_json_str(body, "reason");
    if (!*reason) {
        yw_reply_problem(req, 422, "validation_failed", "'reason' tells the consumer why: it cannot be empty");
        return;
    }
    decision d = {.reason = reason};
    decide(req, r, &d);
}
