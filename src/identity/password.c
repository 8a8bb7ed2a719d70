/*
 * POST /api/v1/users/{username}/password
 *
 * A user changing their own password proves the current one; the change
 * clears a pending forced change and signs out their other sessions. An
 * administrator (secadmin, or the org admin of the user's org) sets a new
 * password without the current one; the user must then change it at next
 * sign-in, every session of theirs ends and a lockout is lifted.
 */
#include "identity/handlers.h"
#include "identity/identity.h"

#include "app/app.h"
#include "authz/policy.h"
#include "core/error.h"
#include "core/time.h"
#include "sec/password.h"

#include <string.h>

typedef struct {
    const char *username;
    char hash[YW_PASSWORD_HASH_LEN];
    const char *keep_session; /* own change: the session that stays */
    bool by_admin;
} password_write;

static int password_job(yw_db *db, void *arg)
{
    password_write *w = arg;
    int rc = yw_db_run(db,
                       "UPDATE users SET password_hash = $2, must_change_password = $3, password_changed_at = $4,"
                       " updated_at = $4, failed_logins = CASE WHEN $3 THEN 0 ELSE failed_logins END,"
                       " locked_until = CASE WHEN $3 THEN 0 ELSE locked_until END WHERE username = $1",
                       "ttii", w->username, w->hash, (int64_t)w->by_admin, yw_now_ms());
    if (rc == 0)
        return YW_ENOTFOUND;
    if (rc > 0)
        rc = yw_db_run(db, "DELETE FROM sessions WHERE username = $1 AND ($2 IS NULL OR token_hash <> $2)", "tt",
                       w->username, w->keep_session);
    return rc < 0 ? rc : 0;
}

static int failed_attempt_job(yw_db *db, void *arg)
{
    return yw_identity_failed_attempt(db, arg, yw_now_ms());
}

void users_password(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"current_password", YW_JSON_STRING, false, YW_PASSWORD_MAX},
        {"new_password", YW_JSON_STRING, true, YW_PASSWORD_MAX},
    };
    const yw_principal *p = &req->principal;
    const char *username = yw_req_param(req, "username");
    yw_req_audit_object(req, "user", username);
    bool self = p->kind == YW_PRINCIPAL_USER && strcmp(username, p->id) == 0;
    if (!self && p->must_change_password) {
        yw_reply_problem(req, 403, "password_change_required", "change your own password first");
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT org_code, roles, password_hash FROM users WHERE username = $1", "t", username);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "user");
        return;
    }
    if (yw_stmt_step(s) != YW_DB_ROW) {
        yw_stmt_release(s);
        yw_reply_problem(req, 404, "not_found", "no such user");
        return;
    }
    const char *org_code = yw_arena_strdup(req->arena, yw_stmt_text(s, 0));
    unsigned roles = yw_roles_parse(yw_stmt_text(s, 1));
    const char *current_hash = yw_arena_strdup(req->arena, yw_stmt_text(s, 2));
    yw_stmt_release(s);
    if (!self) {
        if (!yw_authz_or_reply(req, YW_ACT_USER_RESET_PASSWORD, org_code, username))
            return;
        if ((roles & YW_ROLES_PLATFORM) && !(p->roles & YW_ROLE_SECADMIN)) {
            yw_reply_problem(req, 403, "forbidden", "only a secadmin resets a platform administrator's password");
            return;
        }
    }
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    const char *current = yw_json_str(body, "current_password"), *next = yw_json_str(body, "new_password");
    if (self && !current) {
        yw_reply_problem(req, 400, "invalid_request", "'current_password' is required to change your own password");
        return;
    }
    if (!self && current) {
        yw_reply_problem(req, 400, "invalid_request", "an administrator sets 'new_password' only");
        return;
    }
    const char *why = yw_password_policy(next, username);
    if (why) {
        yw_reply_problem(req, 422, "weak_password", "%s", why);
        return;
    }
    if (self && !yw_password_verify(current_hash, current)) {
        /* Guessing through a stolen session counts like guessing at sign-in. */
        if ((rc = yw_app_write(req, failed_attempt_job, (void *)username, 422)) < 0) {
            yw_reply_store_error(req, rc, "user");
            return;
        }
        yw_reply_problem(req, 422, "wrong_password", "current_password is not your current password");
        return;
    }
    if (yw_password_verify(current_hash, next)) {
        yw_reply_problem(req, 422, "weak_password", "the new password must differ from the current one");
        return;
    }
    password_write w = {.username = username, .by_admin = !self, .keep_session = self ? p->credential_hash : NULL};
    if (yw_password_hash(next, w.hash) < 0) {
        yw_reply_store_error(req, YW_ENOMEM, "password");
        return;
    }
    rc = yw_app_write(req, password_job, &w, 204);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "user");
        return;
    }
    yw_reply_raw(req, 204, "application/json", NULL, 0);
}
