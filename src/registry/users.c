/*
 * User handlers. The secadmin manages every account; an org admin manages
 * the accounts of their own department, never a platform administrator's,
 * and nobody changes their own roles. New accounts get a generated
 * password, shown once, that must be changed at first sign-in.
 */
#include "registry/handlers.h"
#include "registry/registry.h"

#include "app/app.h"
#include "authz/policy.h"
#include "core/error.h"
#include "core/time.h"
#include "sec/password.h"

#include <string.h>

#define USER_COLUMNS                                                                               \
    "username, display_name, org_code, roles, status, must_change_password, totp_enabled,"        \
    " locked_until, created_at, updated_at"

static json_t *user_json(yw_stmt *s)
{
    int64_t locked = yw_stmt_int(s, 7);
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:b, s:b, s:o, s:o, s:o}", "username", yw_stmt_text(s, 0),
                     "display_name", yw_stmt_text(s, 1), "org_code", yw_stmt_text(s, 2), "roles",
                     yw_roles_json(yw_roles_parse(yw_stmt_text(s, 3))), "status", yw_stmt_text(s, 4),
                     "must_change_password", (int)yw_stmt_int(s, 5), "totp_enabled", (int)yw_stmt_int(s, 6),
                     "locked_until", yw_json_time(locked > yw_now_ms() ? locked : 0), "created_at",
                     yw_json_time(yw_stmt_int(s, 8)), "updated_at", yw_json_time(yw_stmt_int(s, 9)));
}

/* The user as JSON (kept by the request) or NULL when absent; on a database error replies and sets *failed. */
static json_t *user_load(yw_req *req, yw_db *db, const char *username, bool *failed)
{
    return yw_app_load_one(req, db, "SELECT " USER_COLUMNS " FROM users WHERE username = $1", username, user_json, failed);
}

/* Loads username and checks action on it; replies and returns NULL when the caller may not. */
static json_t *user_load_authorised(yw_req *req, yw_db *db, const char *username, yw_action action)
{
    bool failed;
    json_t *u = user_load(req, db, username, &failed);
    if (failed)
        return NULL;
    if (!u) {
        yw_reply_problem(req, 404, "not_found", "no such user");
        return NULL;
    }
    if (!yw_authz_or_reply(req, action, yw_json_str(u, "org_code"), username))
        return NULL;
    return u;
}

void users_list(yw_req *req)
{
    int limit;
    const char *after;
    if (!yw_app_list_or_reply(req, YW_ACT_USER_LIST, &limit, &after))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    const char *org = yw_req_query(req, "org");
    if (yw_authz_own_org_only(&req->principal, YW_ACT_USER_LIST))
        org = req->principal.org_code;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " USER_COLUMNS " FROM users WHERE ($1 IS NULL OR username > $1)"
                         " AND ($2 IS NULL OR org_code = $2) ORDER BY username LIMIT $3",
                         "tti", after, org, (int64_t)limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "user");
        return;
    }
    yw_reply_page(req, s, limit, user_json, "username");
}

static int user_insert_job(yw_db *db, void *arg)
{
    return yw_user_insert(db, arg);
}

/* Replies 403 and returns false when the caller may not grant roles. */
static bool may_grant(yw_req *req, unsigned roles)
{
    const yw_principal *p = &req->principal;
    if ((roles & YW_ROLES_PLATFORM) && !(p->roles & YW_ROLE_SECADMIN)) {
        yw_reply_problem(req, 403, "forbidden", "only a secadmin grants sysadmin, secadmin or auditor");
        return false;
    }
    return true;
}

void users_create(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"username", YW_JSON_STRING, true, 64},
        {"display_name", YW_JSON_STRING, true, 512},
        {"org_code", YW_JSON_STRING, true, 18},
        {"roles", YW_JSON_STRINGS, true, 10},
    };
    if (!yw_authz_or_reply(req, YW_ACT_USER_CREATE, NULL, NULL))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    yw_req_audit_object(req, "user", yw_json_str(body, "username"));
    yw_user_new u = {.username = yw_json_str(body, "username"),
                     .display_name = yw_json_str(body, "display_name"),
                     .org_code = yw_json_str(body, "org_code"),
                     .must_change_password = true};
    if (yw_authz(&req->principal, YW_ACT_USER_CREATE, u.org_code, NULL) != YW_AUTHZ_ALLOW) {
        yw_reply_problem(req, 403, "forbidden", "you manage the accounts of your own org only");
        return;
    }
    const char *why = yw_username_validate(u.username);
    size_t name_len = strlen(u.display_name);
    if (!why && (name_len == 0 || name_len > 256))
        why = "display_name must have 1 to 256 bytes";
    if (!why && yw_roles_from_json(json_object_get(body, "roles"), &u.roles, &why) == 0 && !may_grant(req, u.roles))
        return;
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    if (yw_org_exists(db, u.org_code) != 1) {
        yw_reply_problem(req, 422, "validation_failed", "org_code names no registered org");
        return;
    }
    char password[17], hash[YW_PASSWORD_HASH_LEN];
    yw_password_generate(password);
    if (yw_password_hash(password, hash) < 0) {
        yw_reply_store_error(req, YW_ENOMEM, "user");
        return;
    }
    u.password_hash = hash;
    int rc = yw_app_write(req, user_insert_job, &u, 201);
    if (rc == YW_EINVAL) {
        yw_reply_problem(req, 422, "validation_failed", "org_code names no registered org");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "a user with this username");
        return;
    }
    bool failed;
    json_t *out = user_load(req, db, u.username, &failed);
    if (!out) {
        if (!failed)
            yw_reply_store_error(req, YW_EDB, "user");
        return;
    }
    json_object_set_new(out, "password", json_string(password));
    yw_reply_header(req, "Location", yw_arena_printf(req->arena, "/api/v1/users/%s", u.username));
    yw_reply_json(req, 201, out);
}

void users_get(yw_req *req)
{
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    json_t *u = user_load_authorised(req, db, yw_req_param(req, "username"), YW_ACT_USER_READ);
    if (u)
        yw_reply_json(req, 200, u);
}

typedef struct {
    const char *username, *display_name, *status;
    unsigned roles;
    bool set_roles;
} user_update;

static int user_update_job(yw_db *db, void *arg)
{
    user_update *w = arg;
    char roles[256];
    int rc = yw_db_run(db,
                       "UPDATE users SET display_name = coalesce($2, display_name), status = coalesce($3, status),"
                       " roles = CASE WHEN $4 THEN $5 ELSE roles END, updated_at = $6 WHERE username = $1",
                       "tttiti", w->username, w->display_name, w->status, (int64_t)w->set_roles,
                       yw_roles_text(w->roles, roles), yw_now_ms());
    if (rc < 0)
        return rc;
    if (rc == 0)
        return YW_ENOTFOUND;
    /* A disabled account is signed out everywhere at once. */
    if (w->status && strcmp(w->status, "disabled") == 0)
        rc = yw_db_run(db, "DELETE FROM sessions WHERE username = $1", "t", w->username);
    return rc < 0 ? rc : 0;
}

void users_update(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"display_name", YW_JSON_STRING, false, 512},
        {"roles", YW_JSON_STRINGS, false, 10},
        {"status", YW_JSON_STRING, false, 16},
    };
    const char *username = yw_req_param(req, "username");
    yw_req_audit_object(req, "user", username);
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    json_t *cur = user_load_authorised(req, db, username, YW_ACT_USER_UPDATE);
    if (!cur)
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    user_update w = {.username = username,
                     .display_name = yw_json_str(body, "display_name"),
                     .status = yw_json_str(body, "status")};
    unsigned current_roles = 0;
    const char *dummy;
    yw_roles_from_json(json_object_get(cur, "roles"), &current_roles, &dummy);
    if ((current_roles & YW_ROLES_PLATFORM) && !(req->principal.roles & YW_ROLE_SECADMIN)) {
        yw_reply_problem(req, 403, "forbidden", "only a secadmin manages platform administrators");
        return;
    }
    const char *why = NULL;
    if (w.display_name && (strlen(w.display_name) == 0 || strlen(w.display_name) > 256))
        why = "display_name must have 1 to 256 bytes";
    if (!why && w.status && strcmp(w.status, "active") && strcmp(w.status, "disabled"))
        why = "status must be active or disabled";
    if (!why && json_object_get(body, "roles")) {
        if (strcmp(username, req->principal.id) == 0) {
            yw_reply_problem(req, 403, "forbidden", "nobody changes their own roles");
            return;
        }
        if (yw_roles_from_json(json_object_get(body, "roles"), &w.roles, &why) == 0 && !may_grant(req, w.roles))
            return;
        w.set_roles = true;
    }
    if (!why && w.status && strcmp(username, req->principal.id) == 0)
        why = "you cannot change the status of your own account";
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    int rc = yw_app_write(req, user_update_job, &w, 200);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "user");
        return;
    }
    bool failed;
    json_t *u = user_load(req, db, username, &failed);
    if (u)
        yw_reply_json(req, 200, u);
    else if (!failed)
        yw_reply_problem(req, 404, "not_found", "no such user");
}
