/*
 * Authentication of bearer credentials, sign-in, sign-out and "who am I".
 *
 * Authenticating is a read on the worker's own connection; the session's
 * last-seen time is written back at most once a minute, without waiting,
 * so that the hot path of every request stays free of writes. The idle
 * timeout is therefore exact to within that minute.
 */
#include "identity/handlers.h"
#include "identity/identity.h"

#include "app/app.h"
#include "authz/policy.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/log.h"
#include "core/thread_local.h"
#include "core/time.h"
#include "http/server.h"
#include "sec/password.h"
#include "sec/token.h"
#include "sec/totp.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* last_seen is refreshed at most this often, and at least twice per idle timeout. */
#define TOUCH_EVERY_MS 60000

typedef struct {
    char key[YW_TOKEN_HASH_LEN];
    int64_t now;
    int is_client;
} touch;

static int touch_job(yw_db *db, void *arg)
{
    touch *t = arg;
    int rc = t->is_client ? yw_db_run(db, "UPDATE clients SET last_used_at = $2 WHERE secret_hash = $1", "ti", t->key, t->now)
                          : yw_db_run(db, "UPDATE sessions SET last_seen = $2 WHERE token_hash = $1", "ti", t->key, t->now);
    return rc < 0 ? rc : 0;
}

static void post_touch(yw_req *req, const char *key, int64_t now, int is_client)
{
    touch *t = malloc(sizeof *t);
    if (!t)
        return;
    memcpy(t->key, key, YW_TOKEN_HASH_LEN);
    t->now = now;
    t->is_client = is_client;
    yw_writer_post(yw_store_writer(yw_req_app(req)->store), touch_job, t, free);
}

static int authenticate_session(yw_req *req, yw_db *db, const char *hash, const char **why)
{
    const yw_config *cfg = yw_req_app(req)->config;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT s.username, s.last_seen, s.expires_at, u.org_code, u.roles, u.must_change_password,"
                         " u.status, u.display_name, u.totp_enabled"
                         " FROM sessions s JOIN users u ON u.username = s.username WHERE s.token_hash = $1",
                         "t", hash);
    if (rc < 0 || (rc = yw_stmt_step(s)) != YW_DB_ROW) {
        if (rc == 0)
            yw_stmt_release(s);
        return -1;
    }
    int64_t now = yw_now_ms();
    int64_t last_seen = yw_stmt_int(s, 1), expires = yw_stmt_int(s, 2);
    int result = -1;
    int64_t touch_every = (int64_t)cfg->session_idle * 500;
    if (touch_every > TOUCH_EVERY_MS)
        touch_every = TOUCH_EVERY_MS;
    if (expires <= now)
        *why = "the session reached its maximum lifetime; sign in again";
    else if (last_seen + (int64_t)cfg->session_idle * 1000 <= now)
        *why = "the session timed out after inactivity; sign in again";
    else if (strcmp(yw_stmt_text(s, 6), "active") != 0)
        *why = "the account is disabled";
    else {
        yw_principal *p = &req->principal;
        p->kind = YW_PRINCIPAL_USER;
        p->id = yw_arena_strdup(req->arena, yw_stmt_text(s, 0));
        p->org_code = yw_arena_strdup(req->arena, yw_stmt_text(s, 3));
        p->roles = yw_roles_parse(yw_stmt_text(s, 4));
        p->must_change_password = yw_stmt_int(s, 5) != 0;
        p->display_name = yw_arena_strdup(req->arena, yw_stmt_text(s, 7));
        p->totp_enabled = yw_stmt_int(s, 8) != 0;
        p->credential_hash = yw_arena_strdup(req->arena, hash);
        p->expires_at = expires;
        result = 0;
    }
    yw_stmt_release(s);
    if (result == 0 && now - last_seen >= touch_every)
        post_touch(req, hash, now, 0);
    return result;
}

/*
 * Department systems call on every request with the same secret: each
 * thread keeps the clients it authenticated lately, until a definition
 * changes (the writer's generation, app.h) — revoking a client is one.
 */
#define CLIENT_CACHE 16

typedef struct {
    char hash[YW_TOKEN_HASH_LEN];
    char id[160], org[32];
    int64_t last_used;
    uint64_t generation; /* 0: empty */
} client_entry;

typedef struct {
    client_entry entries[CLIENT_CACHE];
    unsigned next; /* round robin */
} client_cache;

static yw_thread_local client_caches = YW_THREAD_LOCAL(client_cache, NULL);

static void client_signed_in(yw_req *req, const char *hash, const char *id, const char *org, int64_t last_used)
{
    yw_principal *p = &req->principal;
    p->kind = YW_PRINCIPAL_CLIENT;
    p->id = yw_arena_strdup(req->arena, id);
    p->org_code = yw_arena_strdup(req->arena, org);
    p->credential_hash = yw_arena_strdup(req->arena, hash);
    int64_t now = yw_now_ms();
    if (now - last_used >= TOUCH_EVERY_MS)
        post_touch(req, hash, now, 1);
}

static int authenticate_client(yw_req *req, yw_db *db, const char *hash, const char **why)
{
    client_cache *c = yw_thread_local_get(&client_caches);
    uint64_t current = yw_app_generation(req);
    for (int i = 0; c && i < CLIENT_CACHE; i++) {
        client_entry *e = &c->entries[i];
        if (e->generation == current && yw_token_equal(e->hash, hash, YW_TOKEN_HASH_LEN)) {
            client_signed_in(req, hash, e->id, e->org, e->last_used);
            return 0;
        }
    }
    uint64_t generation = yw_app_read_generation(req);
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT id, org_code, status, coalesce(last_used_at, 0) FROM clients WHERE secret_hash = $1",
                         "t", hash);
    if (rc < 0 || (rc = yw_stmt_step(s)) != YW_DB_ROW) {
        if (rc == 0)
            yw_stmt_release(s);
        return -1;
    }
    const char *id = yw_stmt_text(s, 0), *org = yw_stmt_text(s, 1);
    int64_t last_used = yw_stmt_int(s, 3);
    int result = -1;
    if (strcmp(yw_stmt_text(s, 2), "active") != 0) {
        *why = "the client credential was revoked";
    } else {
        client_signed_in(req, hash, id, org, last_used);
        client_entry *e = c ? &c->entries[c->next++ % CLIENT_CACHE] : NULL;
        if (e && strlen(id) < sizeof e->id && strlen(org) < sizeof e->org) {
            memcpy(e->hash, hash, YW_TOKEN_HASH_LEN);
            strcpy(e->id, id);
            strcpy(e->org, org);
            e->last_used = last_used;
            e->generation = generation;
        }
        result = 0;
    }
    yw_stmt_release(s);
    return result;
}

int yw_identity_authenticate(yw_req *req, const char *secret, size_t len, const char **why)
{
    if (!yw_token_plausible(secret, len))
        return -1;
    yw_db *db = yw_store_reader(yw_req_app(req)->store);
    if (!db) {
        *why = "credentials cannot be checked right now; try again shortly";
        return -1;
    }
    char hash[YW_TOKEN_HASH_LEN];
    yw_token_hash(secret, len, hash);
    if (strncmp(secret, "yws_", 4) == 0)
        return authenticate_session(req, db, hash, why);
    if (strncmp(secret, "ywc_", 4) == 0)
        return authenticate_client(req, db, hash, why);
    return -1;
}

/* ---- sign-in ---- */

int yw_identity_failed_attempt(yw_db *db, const char *username, int64_t now)
{
    /* The fifth failure in a row locks the account, signs it out everywhere and starts a new count. */
    int rc = yw_db_run(db,
                       "UPDATE users SET failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,"
                       " locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END"
                       " WHERE username = $1",
                       "tii", username, (int64_t)YW_LOCKOUT_FAILURES, now + YW_LOCKOUT_MS);
    if (rc > 0)
        rc = yw_db_run(db, "DELETE FROM sessions WHERE username = $1 AND"
                           " (SELECT locked_until FROM users WHERE username = $1) > $2",
                       "ti", username, now);
    return rc < 0 ? rc : 0;
}

typedef struct {
    const char *username;
    char token_hash[YW_TOKEN_HASH_LEN];
    int64_t now, expires_at, totp_step;
    bool success;
} login_write;

static int login_job(yw_db *db, void *arg)
{
    login_write *w = arg;
    int rc;
    if (!w->success)
        return yw_identity_failed_attempt(db, w->username, w->now);
    rc = yw_db_run(db,
                   "UPDATE users SET failed_logins = 0, locked_until = 0,"
                   " totp_last_step = CASE WHEN $2 > 0 THEN $2 ELSE totp_last_step END WHERE username = $1",
                   "ti", w->username, w->totp_step);
    if (rc >= 0)
        rc = yw_db_run(db, "DELETE FROM sessions WHERE username = $1 AND (expires_at <= $2 OR last_seen <= $3)", "tii",
                       w->username, w->now, w->now - 86400000);
    if (rc >= 0)
        rc = yw_db_run(db,
                       "INSERT INTO sessions(token_hash, username, created_at, last_seen, expires_at)"
                       " VALUES ($1, $2, $3, $3, $4)",
                       "ttii", w->token_hash, w->username, w->now, w->expires_at);
    return rc < 0 ? rc : 0;
}

/*
 * Names that are no account fail and lock like real ones, so that neither
 * the answers nor the lockout tell which usernames exist. A fixed table:
 * a name that collides with another simply shares its count.
 */
#define GHOSTS 4096
static struct {
    uint64_t key;
    int failures;
    int64_t locked_until;
} ghosts[GHOSTS];
static pthread_mutex_t ghosts_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t ghost_key(const char *username)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)username; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h | 1; /* never 0, the empty slot */
}

static int64_t ghost_locked_until(const char *username, int64_t now)
{
    uint64_t key = ghost_key(username);
    pthread_mutex_lock(&ghosts_lock);
    int64_t until = ghosts[key % GHOSTS].key == key ? ghosts[key % GHOSTS].locked_until : 0;
    pthread_mutex_unlock(&ghosts_lock);
    return until > now ? until : 0;
}

static void ghost_failed(const char *username, int64_t now)
{
    uint64_t key = ghost_key(username);
    pthread_mutex_lock(&ghosts_lock);
    if (ghosts[key % GHOSTS].key != key) {
        ghosts[key % GHOSTS].key = key;
        ghosts[key % GHOSTS].failures = 0;
        ghosts[key % GHOSTS].locked_until = 0;
    }
    if (++ghosts[key % GHOSTS].failures >= YW_LOCKOUT_FAILURES) {
        ghosts[key % GHOSTS].failures = 0;
        ghosts[key % GHOSTS].locked_until = now + YW_LOCKOUT_MS;
    }
    pthread_mutex_unlock(&ghosts_lock);
}

static char dummy_hash[YW_PASSWORD_HASH_LEN];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
    yw_password_hash("not a real password", dummy_hash);
}

static void reply_locked(yw_req *req, int64_t locked_until, int64_t now)
{
    char until[40];
    yw_time_format(locked_until, until, sizeof until);
    yw_reply_header(req, "Retry-After", yw_arena_printf(req->arena, "%lld", (long long)((locked_until - now) / 1000 + 1)));
    yw_reply_problem(req, 401, "account_locked", "too many failed sign-ins; the account is locked until %s", until);
}

static void login_failed(yw_req *req, login_write *w, const char *code, const char *detail)
{
    if (w->username) {
        w->success = false;
        yw_app_write(req, login_job, w, 401);
    }
    yw_reply_problem(req, 401, code, "%s", detail);
}

/*
 * The cookies of a console session: the token HttpOnly, the CSRF proof
 * readable by the console's scripts; both SameSite=Strict, Secure over TLS.
 * max_age 0 clears them.
 */
static void set_session_cookies(yw_req *req, const char *token, int64_t max_age)
{
    char csrf[YW_TOKEN_MAX] = "";
    if (token)
        yw_token_csrf(token, strlen(token), csrf);
    const char *secure = yw_req_app(req)->config->tls_cert ? "; Secure" : "";
    yw_reply_header(req, "Set-Cookie",
                    yw_arena_printf(req->arena, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
                                    YW_SESSION_COOKIE, token ? token : "", (long long)max_age, secure));
    yw_reply_header(req, "Set-Cookie", yw_arena_printf(req->arena, "%s=%s; Path=/; Max-Age=%lld; SameSite=Strict%s",
                                                       YW_CSRF_COOKIE, csrf, (long long)max_age, secure));
}

static void sign_in(yw_req *req, bool cookie);

void auth_login(yw_req *req)
{
    sign_in(req, false);
}

/* The console's sign-in: the session goes into cookies, never into the body. */
void auth_console_login(yw_req *req)
{
    sign_in(req, true);
}

static void sign_in(yw_req *req, bool cookie)
{
    static const yw_json_field fields[] = {
        {"username", YW_JSON_STRING, true, 64},
        {"password", YW_JSON_STRING, true, YW_PASSWORD_MAX},
        {"totp", YW_JSON_STRING, false, 6},
    };
    static const char *const bad = "the username or password is wrong";
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    const char *username = yw_json_str(body, "username"), *password = yw_json_str(body, "password");
    req->audit.actor = username;
    yw_req_audit_object(req, "user", username);
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT password_hash, status, locked_until, totp_enabled, totp_secret, totp_last_step,"
                         " org_code, roles, must_change_password, display_name FROM users WHERE username = $1",
                         "t", username);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "user");
        return;
    }
    login_write w = {.now = yw_now_ms()};
    if (yw_stmt_step(s) != YW_DB_ROW) {
        yw_stmt_release(s);
        /* No such account: answer as a real one would, in the same time. */
        int64_t until = ghost_locked_until(username, w.now);
        if (until > w.now) {
            reply_locked(req, until, w.now);
            return;
        }
        pthread_once(&dummy_once, make_dummy_hash);
        yw_password_verify(dummy_hash, password);
        ghost_failed(username, w.now);
        login_failed(req, &w, "invalid_credentials", bad);
        return;
    }
    const char *hash = yw_arena_strdup(req->arena, yw_stmt_text(s, 0));
    bool active = strcmp(yw_stmt_text(s, 1), "active") == 0;
    int64_t locked_until = yw_stmt_int(s, 2);
    bool totp_enabled = yw_stmt_int(s, 3) != 0;
    const char *totp_secret = totp_secret_open(req, username, yw_stmt_text(s, 4));
    int64_t totp_last = yw_stmt_int(s, 5);
    const char *org_code = yw_arena_strdup(req->arena, yw_stmt_text(s, 6));
    req->audit.actor_org = org_code;
    unsigned roles = yw_roles_parse(yw_stmt_text(s, 7));
    bool must_change = yw_stmt_int(s, 8) != 0;
    const char *display_name = yw_arena_strdup(req->arena, yw_stmt_text(s, 9));
    yw_stmt_release(s);
    w.username = username;
    if (locked_until > w.now) {
        reply_locked(req, locked_until, w.now);
        return;
    }
    if (!yw_password_verify(hash, password) || !active) {
        login_failed(req, &w, "invalid_credentials", bad);
        return;
    }
    if (totp_enabled) {
        const char *code = yw_json_str(body, "totp");
        if (!code) {
            yw_reply_problem(req, 401, "totp_required", "this account needs the 6-digit code of its authenticator");
            return;
        }
        int64_t step = 0;
        if (!totp_secret || !yw_totp_verify(totp_secret, code, w.now / 1000, &step) || step <= totp_last) {
            login_failed(req, &w, "invalid_credentials", "the one-time code is wrong or was already used");
            return;
        }
        w.totp_step = step;
    }
    char token[YW_TOKEN_MAX];
    yw_token_new("yws", token);
    yw_token_hash(token, strlen(token), w.token_hash);
    w.success = true;
    w.expires_at = w.now + (int64_t)yw_req_app(req)->config->session_max * 1000;
    rc = yw_app_write(req, login_job, &w, 200);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "session");
        return;
    }
    json_t *user = json_pack("{s:s, s:s, s:s, s:o, s:b, s:b}", "username", username, "display_name", display_name,
                             "org_code", org_code, "roles", yw_roles_json(roles), "must_change_password", must_change,
                             "totp_enabled", totp_enabled);
    if (cookie) {
        set_session_cookies(req, token, yw_req_app(req)->config->session_max);
        yw_reply_json_new(req, 200, json_pack("{s:o, s:o}", "expires_at", yw_json_time(w.expires_at), "user", user));
        return;
    }
    yw_reply_json_new(req, 200,
                      json_pack("{s:s, s:o, s:o}", "token", token, "expires_at", yw_json_time(w.expires_at), "user", user));
}

static int logout_job(yw_db *db, void *arg)
{
    int rc = yw_db_run(db, "DELETE FROM sessions WHERE token_hash = $1", "t", (const char *)arg);
    return rc < 0 ? rc : 0;
}

void auth_logout(yw_req *req)
{
    if (req->principal.kind != YW_PRINCIPAL_USER) {
        yw_reply_problem(req, 403, "forbidden", "only a user session can sign out; revoke a client instead");
        return;
    }
    yw_req_audit_object(req, "user", req->principal.id);
    int rc = yw_app_write(req, logout_job, (void *)req->principal.credential_hash, 204);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "session");
        return;
    }
    if (!yw_req_header(req, "Authorization")) /* signed in by the console's cookie: clear it */
        set_session_cookies(req, NULL, 0);
    yw_reply_raw(req, 204, "application/json", NULL, 0);
}

void auth_me(yw_req *req)
{
    const yw_principal *p = &req->principal;
    if (p->kind == YW_PRINCIPAL_CLIENT) {
        yw_reply_json_new(req, 200, json_pack("{s:s, s:s, s:s}", "kind", "client", "client_id", p->id, "org_code",
                                              p->org_code));
        return;
    }
    /* Written straight into a buffer: every console page asks who is signed in. */
    yw_buf out = YW_BUF_INIT;
    char roles[256], expires[40];
    yw_buf_puts(&out, "{\"kind\":\"user\",\"username\":");
    yw_json_write_string(&out, p->id);
    yw_buf_puts(&out, ",\"display_name\":");
    yw_json_write_string(&out, p->display_name);
    yw_buf_puts(&out, ",\"org_code\":");
    yw_json_write_string(&out, p->org_code);
    yw_buf_puts(&out, ",\"roles\":[");
    yw_roles_text(p->roles, roles);
    for (char *r = roles, *comma; *r; r = comma ? comma + 1 : r + strlen(r)) {
        comma = strchr(r, ',');
        if (comma)
            *comma = '\0';
        if (r != roles)
            yw_buf_puts(&out, ",");
        yw_json_write_string(&out, r);
    }
    yw_buf_printf(&out,
                  "],\"data_bureau\":%s,\"must_change_password\":%s,\"totp_enabled\":%s,"
                  "\"session_expires_at\":\"%s\"}",
                  yw_authz_is_bureau(p->org_code) ? "true" : "false", p->must_change_password ? "true" : "false",
                  p->totp_enabled ? "true" : "false", yw_time_format(p->expires_at, expires, sizeof expires));
    yw_reply_raw(req, 200, "application/json", out.data, out.len);
    yw_buf_free(&out);
}
