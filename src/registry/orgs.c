/*
 * Org handlers: the directory of departments. Everyone signed in may read
 * it (a department needs it to ask another for data); only the sysadmin
 * changes it. Codes are unified social credit codes, check digit verified.
 */
#include "registry/handlers.h"
#include "registry/registry.h"

#include "app/app.h"
#include "authz/policy.h"
#include "core/error.h"
#include "core/time.h"

#include <string.h>

#define ORG_COLUMNS "code, name, parent_code, region_code, level, status, legacy_code, created_at, updated_at"

static json_t *org_json(yw_stmt *s)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:b, s:o, s:o}", "code", yw_stmt_text(s, 0), "name",
                     yw_stmt_text(s, 1), "parent_code",
                     yw_stmt_is_null(s, 2) ? json_null() : json_string(yw_stmt_text(s, 2)), "region_code",
                     yw_stmt_text(s, 3), "level", yw_stmt_text(s, 4), "status", yw_stmt_text(s, 5), "legacy_code",
                     (int)yw_stmt_int(s, 6), "created_at", yw_json_time(yw_stmt_int(s, 7)), "updated_at",
                     yw_json_time(yw_stmt_int(s, 8)));
}

/* The org as JSON (kept by the request), NULL when absent; replies on database errors (then *failed). */
static json_t *org_load(yw_req *req, yw_db *db, const char *code, bool *failed)
{
    return yw_app_load_one(req, db, "SELECT " ORG_COLUMNS " FROM orgs WHERE code = $1", code, org_json, failed);
}

void orgs_list(yw_req *req)
{
    int limit;
    const char *after;
    if (!yw_app_list_or_reply(req, YW_ACT_ORG_READ, &limit, &after))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    const char *parent = yw_req_query(req, "parent");
    const char *level = yw_req_query(req, "level");
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " ORG_COLUMNS " FROM orgs WHERE ($1 IS NULL OR code > $1)"
                         " AND ($2 IS NULL OR parent_code = $2) AND ($3 IS NULL OR level = $3)"
                         " ORDER BY code LIMIT $4",
                         "ttti", after, parent, level, (int64_t)limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "org");
        return;
    }
    yw_reply_page(req, s, limit, org_json, "code");
}

typedef struct {
    yw_org org;
    const char *status;
    bool set_parent;
} org_write;

static int org_insert_job(yw_db *db, void *arg)
{
    org_write *w = arg;
    return yw_org_insert(db, &w->org);
}

void orgs_create(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"code", YW_JSON_STRING, true, 18},         {"name", YW_JSON_STRING, true, 512},
        {"region_code", YW_JSON_STRING, true, 6},   {"level", YW_JSON_STRING, true, 16},
        {"parent_code", YW_JSON_STRING, false, 18}, {"legacy_code", YW_JSON_BOOLEAN, false, 0},
    };
    if (!yw_authz_or_reply(req, YW_ACT_ORG_CREATE, NULL, NULL))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    yw_req_audit_object(req, "org", yw_json_str(body, "code"));
    org_write w = {.org = {
                       .code = yw_json_str(body, "code"),
                       .name = yw_json_str(body, "name"),
                       .region_code = yw_json_str(body, "region_code"),
                       .level = yw_json_str(body, "level"),
                       .parent_code = yw_json_str(body, "parent_code"),
                       .legacy_code = json_is_true(json_object_get(body, "legacy_code")),
                   }};
    const char *why = yw_org_validate(&w.org);
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    if (w.org.parent_code && yw_org_exists(db, w.org.parent_code) != 1) {
        yw_reply_problem(req, 422, "validation_failed", "parent_code names no registered org");
        return;
    }
    int rc = yw_app_write(req, org_insert_job, &w, 201);
    if (rc == YW_EINVAL) { /* the parent vanished meanwhile */
        yw_reply_problem(req, 422, "validation_failed", "parent_code names no registered org");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "an org with this code");
        return;
    }
    bool failed;
    json_t *o = org_load(req, db, w.org.code, &failed);
    if (!o) {
        if (!failed)
            yw_reply_store_error(req, YW_EDB, "org");
        return;
    }
    yw_reply_header(req, "Location", yw_arena_printf(req->arena, "/api/v1/orgs/%s", w.org.code));
    yw_reply_json(req, 201, o);
}

void orgs_get(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_ORG_READ, NULL, NULL))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    bool failed;
    json_t *o = org_load(req, db, yw_req_param(req, "code"), &failed);
    if (o)
        yw_reply_json(req, 200, o);
    else if (!failed)
        yw_reply_problem(req, 404, "not_found", "no org with this code");
}

/* Would making parent the parent of code create a cycle? 1 yes, 0 no, < 0 error. */
static int creates_cycle(yw_db *db, const char *code, const char *parent)
{
    int64_t hit = 0;
    int rc = yw_db_int(db, &hit,
                       "WITH RECURSIVE up(c) AS (SELECT $1 UNION SELECT o.parent_code FROM orgs o JOIN up ON o.code = up.c"
                       " WHERE o.parent_code IS NOT NULL) SELECT 1 FROM up WHERE c = $2",
                       "tt", parent, code);
    return rc < 0 ? rc : rc == YW_DB_ROW;
}

static int org_update_job(yw_db *db, void *arg)
{
    org_write *w = arg;
    if (w->set_parent && w->org.parent_code) {
        int cyc = creates_cycle(db, w->org.code, w->org.parent_code);
        if (cyc != 0)
            return cyc < 0 ? cyc : YW_ESTATE;
    }
    int rc = yw_db_run(db,
                       "UPDATE orgs SET name = coalesce($2, name), region_code = coalesce($3, region_code),"
                       " level = coalesce($4, level), status = coalesce($5, status),"
                       " parent_code = CASE WHEN $6 THEN $7 ELSE parent_code END, updated_at = $8 WHERE code = $1",
                       "tttttiti", w->org.code, w->org.name, w->org.region_code, w->org.level, w->status,
                       (int64_t)w->set_parent, w->org.parent_code, yw_now_ms());
    if (rc < 0)
        return rc;
    return rc == 0 ? YW_ENOTFOUND : 0;
}

void orgs_update(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"name", YW_JSON_STRING, false, 512},   {"region_code", YW_JSON_STRING, false, 6},
        {"level", YW_JSON_STRING, false, 16},   {"parent_code", YW_JSON_STRING_OR_NULL, false, 18},
        {"status", YW_JSON_STRING, false, 16},
    };
    const char *code = yw_req_param(req, "code");
    yw_req_audit_object(req, "org", code);
    if (!yw_authz_or_reply(req, YW_ACT_ORG_UPDATE, NULL, NULL))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    bool failed;
    json_t *cur = org_load(req, db, code, &failed);
    if (!cur) {
        if (!failed)
            yw_reply_problem(req, 404, "not_found", "no org with this code");
        return;
    }
    json_t *parent = json_object_get(body, "parent_code");
    org_write w = {.org = {.code = code,
                           .name = yw_json_str(body, "name"),
                           .region_code = yw_json_str(body, "region_code"),
                           .level = yw_json_str(body, "level"),
                           .parent_code = json_string_value(parent)},
                   .status = yw_json_str(body, "status"),
                   .set_parent = parent != NULL};
    /* Validate the merged result so that every rule of creation still holds. */
    yw_org merged = {.code = code,
                     .name = w.org.name ? w.org.name : yw_json_str(cur, "name"),
                     .region_code = w.org.region_code ? w.org.region_code : yw_json_str(cur, "region_code"),
                     .level = w.org.level ? w.org.level : yw_json_str(cur, "level"),
                     .parent_code = w.set_parent ? w.org.parent_code : yw_json_str(cur, "parent_code"),
                     .legacy_code = json_is_true(json_object_get(cur, "legacy_code"))};
    const char *why = yw_org_validate(&merged);
    if (!why && w.status && strcmp(w.status, "active") && strcmp(w.status, "inactive"))
        why = "status must be active or inactive";
    if (!why && w.org.parent_code && yw_org_exists(db, w.org.parent_code) != 1)
        why = "parent_code names no registered org";
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    int rc = yw_app_write(req, org_update_job, &w, 200);
    if (rc == YW_ESTATE) {
        yw_reply_problem(req, 422, "validation_failed", "parent_code would make the org its own ancestor");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "org");
        return;
    }
    json_t *o = org_load(req, db, code, &failed);
    if (o)
        yw_reply_json(req, 200, o);
    else if (!failed)
        yw_reply_problem(req, 404, "not_found", "no org with this code");
}
