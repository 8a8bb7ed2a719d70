/*
 * Client handlers: department systems that call the API with a secret.
 * The secret is shown once at creation and stored only as a hash; a
 * revoked client is refused on its very next request.
 */
#include "registry/handlers.h"
#include "registry/registry.h"

#include "app/app.h"
#include "authz/policy.h"
#include "core/error.h"
#include "core/time.h"
#include "sec/token.h"

#include <string.h>

#define CLIENT_COLUMNS "id, org_code, name, status, created_at, revoked_at, last_used_at"

static json_t *client_json(yw_stmt *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", yw_stmt_text(s, 0), "org_code",
                     yw_stmt_text(s, 1), "name", yw_stmt_text(s, 2), "status", yw_stmt_text(s, 3), "created_at",
                     yw_json_time(yw_stmt_int(s, 4)), "revoked_at", yw_json_time(yw_stmt_int(s, 5)),
                     "last_used_at", yw_json_time(yw_stmt_int(s, 6)));
}

static json_t *client_load(yw_req *req, yw_db *db, const char *id, bool *failed)
{
    return yw_app_load_one(req, db, "SELECT " CLIENT_COLUMNS " FROM clients WHERE id = $1", id, client_json, failed);
}

/* The client named by the path, if the caller may act on it; else replies. */
static json_t *client_load_authorised(yw_req *req, yw_db *db, yw_action action)
{
    const char *id = yw_arena_printf(req->arena, "%s/%s", yw_req_param(req, "org_code"), yw_req_param(req, "name"));
    if (req->audit.action)
        yw_req_audit_object(req, "client", id);
    bool failed;
    json_t *c = client_load(req, db, id, &failed);
    if (failed)
        return NULL;
    if (!c) {
        yw_reply_problem(req, 404, "not_found", "no such client");
        return NULL;
    }
    return yw_authz_or_reply(req, action, yw_json_str(c, "org_code"), NULL) ? c : NULL;
}

void clients_list(yw_req *req)
{
    int limit;
    const char *after;
    if (!yw_app_list_or_reply(req, YW_ACT_CLIENT_LIST, &limit, &after))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    const char *org = yw_req_query(req, "org");
    if (yw_authz_own_org_only(&req->principal, YW_ACT_CLIENT_LIST))
        org = req->principal.org_code;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " CLIENT_COLUMNS " FROM clients WHERE ($1 IS NULL OR id > $1)"
                         " AND ($2 IS NULL OR org_code = $2) ORDER BY id LIMIT $3",
                         "tti", after, org, (int64_t)limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "client");
        return;
    }
    yw_reply_page(req, s, limit, client_json, "id");
}

typedef struct {
    const char *org_code, *name;
    char secret_hash[YW_TOKEN_HASH_LEN];
    char id[160];
} client_new;

static int client_insert_job(yw_db *db, void *arg)
{
    client_new *c = arg;
    return yw_client_insert(db, c->org_code, c->name, c->secret_hash, c->id);
}

void clients_create(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"org_code", YW_JSON_STRING, true, 18},
        {"name", YW_JSON_STRING, true, 48},
    };
    if (!yw_authz_or_reply(req, YW_ACT_CLIENT_CREATE, NULL, NULL))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    client_new c = {.org_code = yw_json_str(body, "org_code"), .name = yw_json_str(body, "name")};
    yw_req_audit_object(req, "client", yw_arena_printf(req->arena, "%s/%s", c.org_code, c.name));
    if (yw_authz(&req->principal, YW_ACT_CLIENT_CREATE, c.org_code, NULL) != YW_AUTHZ_ALLOW) {
        yw_reply_problem(req, 403, "forbidden", "you manage the clients of your own org only");
        return;
    }
    const char *why = yw_client_name_validate(c.name);
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    if (yw_org_exists(db, c.org_code) != 1) {
        yw_reply_problem(req, 422, "validation_failed", "org_code names no registered org");
        return;
    }
    char secret[YW_TOKEN_MAX];
    yw_token_new("ywc", secret);
    yw_token_hash(secret, strlen(secret), c.secret_hash);
    int rc = yw_app_write(req, client_insert_job, &c, 201);
    if (rc == YW_EINVAL) {
        yw_reply_problem(req, 422, "validation_failed", "org_code names no registered org");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "a client with this name in this org");
        return;
    }
    bool failed;
    json_t *out = client_load(req, db, c.id, &failed);
    if (!out) {
        if (!failed)
            yw_reply_store_error(req, YW_EDB, "client");
        return;
    }
    json_object_set_new(out, "secret", json_string(secret));
    yw_reply_header(req, "Location", yw_arena_printf(req->arena, "/api/v1/clients/%s", c.id));
    yw_reply_json(req, 201, out);
}

void clients_get(yw_req *req)
{
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    json_t *c = client_load_authorised(req, db, YW_ACT_CLIENT_LIST);
    if (c)
        yw_reply_json(req, 200, c);
}

static int client_revoke_job(yw_db *db, void *arg)
{
    int rc = yw_db_run(db, "UPDATE clients SET status = 'revoked', revoked_at = $2 WHERE id = $1 AND status = 'active'",
                       "ti", (const char *)arg, yw_now_ms());
    return rc < 0 ? rc : 0;
}

void clients_revoke(yw_req *req)
{
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    json_t *c = client_load_authorised(req, db, YW_ACT_CLIENT_REVOKE);
    if (!c)
        return;
    int rc = yw_app_write(req, client_revoke_job, (void *)yw_json_str(c, "id"), 204);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "client");
        return;
    }
    yw_reply_raw(req, 204, "application/json", NULL, 0);
}
