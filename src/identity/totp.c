/*
 * TOTP second factor (RFC 6238), optional per user.
 *
 *   POST /api/v1/auth/totp           enrol: a new secret, pending until confirmed
 *   POST /api/v1/auth/totp/confirm   {code}: proves the app has the secret; from now
 *                                    on sign-in needs a code
 *   DELETE /api/v1/users/{u}/totp    an administrator removes a lost factor
 */
#include "identity/handlers.h"

#include "app/app.h"
#include "authz/policy.h"
#include "core/error.h"
#include "core/time.h"
#include "sec/totp.h"

#include <sodium.h>
#include <string.h>

typedef struct {
    const char *username;
    const char *secret;
    int64_t step;
    int op; /* 0 enrol, 1 confirm, 2 remove */
} totp_write;

static int totp_job(yw_db *db, void *arg)
{
    totp_write *w = arg;
    int rc;
    switch (w->op) {
    case 0:
        rc = yw_db_run(db, "UPDATE users SET totp_secret = $2, totp_enabled = 0 WHERE username = $1", "tt", w->username,
                       w->secret);
        break;
    case 1:
        rc = yw_db_run(db, "UPDATE users SET totp_enabled = 1, totp_last_step = $2 WHERE username = $1", "ti",
                       w->username, w->step);
        break;
    default:
        rc = yw_db_run(db, "UPDATE users SET totp_secret = NULL, totp_enabled = 0, totp_last_step = 0 WHERE username = $1",
                       "t", w->username);
        break;
    }
    if (rc == 0)
        return YW_ENOTFOUND;
    return rc < 0 ? rc : 0;
}

/* The sealing context of a user's TOTP secret (identity module's sealed columns). */
static const char *secret_context(yw_req *req, const char *username)
{
    return yw_arena_printf(req->arena, "totp/%s", username);
}

const char *totp_secret_open(yw_req *req, const char *username, const char *stored)
{
    if (!stored || !yw_field_is_encrypted(stored)) /* none, or in clear from before secrets were sealed */
        return stored ? yw_arena_strdup(req->arena, stored) : NULL;
    yw_buf plain = YW_BUF_INIT;
    const char *out = NULL;
    if (yw_field_decrypt(yw_req_app(req)->keys, secret_context(req, username), stored, &plain) == 0) {
        yw_buf_append(&plain, "", 1);
        out = yw_arena_strdup(req->arena, plain.data);
    }
    yw_buf_wipe(&plain);
    return out;
}

static bool user_only(yw_req *req)
{
    yw_req_audit_object(req, "user", req->principal.id);
    if (req->principal.kind == YW_PRINCIPAL_USER)
        return true;
    yw_reply_problem(req, 403, "forbidden", "only users have a second factor");
    return false;
}

void totp_enroll(yw_req *req)
{
    if (!user_only(req))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    int64_t enabled = 0;
    int rc = yw_db_int(db, &enabled, "SELECT totp_enabled FROM users WHERE username = $1", "t", req->principal.id);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "user");
        return;
    }
    if (enabled) {
        yw_reply_problem(req, 409, "totp_enabled", "a second factor is already active; an administrator can remove it");
        return;
    }
    char secret[YW_TOTP_SECRET_B32];
    yw_totp_secret_new(secret);
    /* stored sealed under the data keys: a copy of the database does not give away second factors */
    yw_buf sealed = YW_BUF_INIT;
    if (yw_field_encrypt(yw_req_app(req)->keys, secret_context(req, req->principal.id), secret, strlen(secret),
                         &sealed) < 0) {
        yw_buf_free(&sealed);
        yw_reply_problem(req, 500, "internal", "the secret could not be sealed");
        return;
    }
    totp_write w = {.username = req->principal.id, .secret = yw_arena_strdup(req->arena, sealed.data), .op = 0};
    yw_buf_free(&sealed);
    if ((rc = yw_app_write(req, totp_job, &w, 201)) < 0) {
        yw_reply_store_error(req, rc, "user");
        return;
    }
    const char *uri = yw_arena_printf(req->arena, "otpauth://totp/Yiwang:%s?secret=%s&issuer=Yiwang&digits=6&period=30",
                                      req->principal.id, secret);
    yw_reply_json_new(req, 201, json_pack("{s:s, s:s}", "secret", secret, "otpauth_uri", uri));
}

void totp_confirm(yw_req *req)
{
    static const yw_json_field fields[] = {{"code", YW_JSON_STRING, true, 6}};
    if (!user_only(req))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, 1);
    if (!body)
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT totp_secret, totp_enabled FROM users WHERE username = $1", "t", req->principal.id);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "user");
        return;
    }
    const char *secret = NULL;
    bool enabled = false;
    if (yw_stmt_step(s) == YW_DB_ROW) {
        secret = totp_secret_open(req, req->principal.id, yw_stmt_text(s, 0));
        enabled = yw_stmt_int(s, 1) != 0;
    }
    yw_stmt_release(s);
    if (!secret || enabled) {
        yw_reply_problem(req, 409, "no_pending_totp", "start with POST /api/v1/auth/totp");
        return;
    }
    totp_write w = {.username = req->principal.id, .op = 1};
    if (!yw_totp_verify(secret, yw_json_str(body, "code"), yw_now_ms() / 1000, &w.step)) {
        yw_reply_problem(req, 422, "wrong_code", "the code does not match; check the authenticator's clock");
        return;
    }
    if ((rc = yw_app_write(req, totp_job, &w, 200)) < 0) {
        yw_reply_store_error(req, rc, "user");
        return;
    }
    yw_reply_json_new(req, 200, json_pack("{s:b}", "totp_enabled", 1));
}

void totp_reset(yw_req *req)
{
    const char *username = yw_req_param(req, "username");
    yw_req_audit_object(req, "user", username);
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT org_code, roles FROM users WHERE username = $1", "t", username);
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
    yw_stmt_release(s);
    if (!yw_authz_or_reply(req, YW_ACT_USER_RESET_PASSWORD, org_code, NULL))
        return;
    if ((roles & YW_ROLES_PLATFORM) && !(req->principal.roles & YW_ROLE_SECADMIN)) {
        yw_reply_problem(req, 403, "forbidden", "only a secadmin manages a platform administrator's factors");
        return;
    }
    totp_write w = {.username = username, .op = 2};
    if ((rc = yw_app_write(req, totp_job, &w, 204)) < 0) {
        yw_reply_store_error(req, rc, "user");
        return;
    }
    yw_reply_raw(req, 204, "application/json", NULL, 0);
}
