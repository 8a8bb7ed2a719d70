/*
 * The service registry and directory (统一接入 服务目录).
 *
 *   GET  /api/v1/services               every service; ?provider= ?callable=true (those the
 *                                       caller's org holds an active grant for)
 *   POST /api/v1/services               a steward of the provider org registers one
 *   GET  /api/v1/services/{id}
 *   GET  /api/v1/services/{id}/openapi  its OpenAPI 3 document, as registered
 *
 * A service names its code (the path segment after the org in
 * /x/{org}/{code}/...), the base URL of the provider's own system, a
 * resource of format api of the same org (rights are grants of it), and
 * its operations: listed, or taken from the OpenAPI document (operationId,
 * or method and path, made into an item-like name). The base URL is shown
 * to the provider's people and the data bureau only: consumers call the hub.
 * Like the directory services of the GovStack Information Mediator, the
 * list tells a consumer what it may call and the document how.
 */
#include "access/access.h"
#include "access/handlers.h"

#include "app/app.h"
#include "authz/policy.h"
#include "core/error.h"
#include "core/memo.h"
#include "core/time.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SERVICE_COLUMNS                                                                                            \
    "id, provider_org, code, name, description, base_url, resource, operations, openapi IS NOT NULL, health_path," \
    " created_by, created_at"
#define MAX_OPERATIONS 200
#define MAX_OPENAPI_BYTES (2 << 20)

static const char *const http_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};

static json_t *service_json(yw_stmt *s)
{
    json_t *ops = json_loads(yw_stmt_text(s, 7), 0, NULL);
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:s, s:s}", "id", yw_stmt_text(s, 0),
                          "provider_org", yw_stmt_text(s, 1), "code", yw_stmt_text(s, 2), "name", yw_stmt_text(s, 3),
                          "description", yw_stmt_text(s, 4), "base_url", yw_stmt_text(s, 5), "resource",
                          yw_stmt_text(s, 6), "operations", ops ? ops : json_array(), "has_openapi",
                          (int)yw_stmt_int(s, 8), "health_path", yw_stmt_text(s, 9), "created_by",
                          yw_stmt_text(s, 10));
    json_object_set_new(v, "created_at", yw_json_time(yw_stmt_int(s, 11)));
    json_object_set_new(v, "call_path", json_sprintf("/x/%s/%s", yw_stmt_text(s, 1), yw_stmt_text(s, 2)));
    return v;
}

/* What the caller sees of a service: the base URL only when it is of the provider or the data bureau. */
static void service_present(yw_req *req, json_t *v)
{
    const char *provider = yw_json_str(v, "provider_org");
    if (yw_authz(&req->principal, YW_ACT_SERVICE_MONITOR, provider, NULL) != YW_AUTHZ_ALLOW)
        json_object_del(v, "base_url");
    int64_t checked = 0;
    access_runtime *rt = access_current();
    access_health h = rt ? access_health_of(rt, yw_json_str(v, "id"), &checked) : ACCESS_HEALTH_UNKNOWN;
    static const char *const names[] = {"unknown", "up", "down"};
    json_object_set_new(v, "health", json_pack("{s:s, s:o}", "status", names[h], "checked_at",
                                               checked ? yw_json_time(checked) : json_null()));
}

/* ---- operations ---- */

bool access_path_matches(const char *tmpl, const char *path)
{
    while (*tmpl == '/')
        tmpl++;
    while (*path == '/')
        path++;
    for (;;) {
        size_t tl = strcspn(tmpl, "/"), pl = strcspn(path, "/");
        if (tl == 0 || pl == 0)
            return tl == 0 && pl == 0;
        bool param = tmpl[0] == '{' && tmpl[tl - 1] == '}';
        if (!param && (tl != pl || memcmp(tmpl, path, tl) != 0))
            return false;
        tmpl += tl;
        path += pl;
        if (*tmpl == '/')
            tmpl++;
        if (*path == '/')
            path++;
    }
}

const char *access_operation_match(const access_service *svc, const char *method, const char *path)
{
    size_t i;
    json_t *op;
    json_array_foreach(svc->operations, i, op) {
        if (strcmp(yw_json_str(op, "method"), method) == 0 && access_path_matches(yw_json_str(op, "path"), path))
            return yw_json_str(op, "name");
    }
    return NULL;
}

/* An operation name as catalog items are named: a-z, 0-9 and '_', starting with a letter, at most 64. */
static bool operation_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len < 1 || len > 64 || !islower((unsigned char)n[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!islower((unsigned char)n[i]) && !isdigit((unsigned char)n[i]) && n[i] != '_')
            return false;
    return strcmp(n, ACCESS_WHOLE_SERVICE) != 0;
}

/* An item-like name made of any text (an operationId, or "get /people/{id}"), in the arena. */
static const char *operation_name_of(yw_req *req, const char *text)
{
    char out[65];
    size_t n = 0;
    bool gap = false;
    for (const char *p = text; *p && n < 60; p++) {
        unsigned char c = (unsigned char)*p;
        if (isupper(c) && n > 0 && !gap && islower((unsigned char)p[-1]))
            out[n++] = '_'; /* camelCase → camel_case */
        if (isalnum(c)) {
            if (gap && n > 0)
                out[n++] = '_';
            out[n++] = (char)tolower(c);
            gap = false;
        } else {
            gap = true;
        }
    }
    out[n] = '\0';
    if (n == 0 || !islower((unsigned char)out[0]) || strcmp(out, ACCESS_WHOLE_SERVICE) == 0)
        return yw_arena_printf(req->arena, "op_%s", out);
    return yw_arena_strdup(req->arena, out);
}

static bool path_template_ok(const char *p)
{
    size_t len = strlen(p);
    if (len < 1 || len > 500 || p[0] != '/')
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] <= ' ' || p[i] == '?' || p[i] == '#' || p[i] == 0x7f)
            return false;
    return true;
}

/* Checks one operation and appends it to ops; NULL or why not. */
static const char *add_operation(yw_req *req, json_t *ops, const char *name, const char *method, const char *path)
{
    bool known = false;
    for (int i = 0; http_methods[i]; i++)
        known = known || strcmp(method, http_methods[i]) == 0;
    if (!known)
        return yw_arena_printf(req->arena, "operation '%.64s': method is GET, POST, PUT, PATCH or DELETE", name);
    if (!operation_name_ok(name))
        return yw_arena_printf(req->arena,
                               "operation '%.64s': a name uses a-z, 0-9 and '_', starts with a letter, is not '"
                               ACCESS_WHOLE_SERVICE "'", name);
    if (!path_template_ok(path))
        return yw_arena_printf(req->arena, "operation '%.64s': path is a template like /people/{id}", name);
    if (json_array_size(ops) >= MAX_OPERATIONS)
        return "a service has at most 200 operations";
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        if (strcmp(yw_json_str(op, "name"), name) == 0)
            return yw_arena_printf(req->arena, "operation '%.64s' is named twice", name);
        if (strcmp(yw_json_str(op, "method"), method) == 0 && strcmp(yw_json_str(op, "path"), path) == 0)
            return yw_arena_printf(req->arena, "%s %.200s is listed twice", method, path);
    }
    json_array_append_new(ops, json_pack("{s:s, s:s, s:s}", "name", name, "method", method, "path", path));
    return NULL;
}

/* The operations of an OpenAPI 3 document; NULL or why not. */
static const char *operations_from_openapi(yw_req *req, const json_t *doc, json_t *ops)
{
    const char *version = yw_json_str(doc, "openapi");
    if (!version || strncmp(version, "3.", 2) != 0)
        return "openapi: an OpenAPI 3 document has \"openapi\": \"3.x.y\"";
    json_t *paths = json_object_get(doc, "paths");
    if (!json_is_object(paths))
        return "openapi: the document has no \"paths\" object";
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item) {
        if (!json_is_object(item))
            return yw_arena_printf(req->arena, "openapi: paths[%.200s] is not an object", path);
        for (int m = 0; http_methods[m]; m++) {
            char lower[8];
            size_t k = 0;
            for (; http_methods[m][k]; k++)
                lower[k] = (char)tolower((unsigned char)http_methods[m][k]);
            lower[k] = '\0';
            json_t *op = json_object_get(item, lower);
            if (!op)
                continue;
            if (!json_is_object(op))
                return yw_arena_printf(req->arena, "openapi: paths[%.200s].%s is not an object", path, lower);
            const char *id = yw_json_str(op, "operationId");
            const char *name = operation_name_of(req, id ? id : yw_arena_printf(req->arena, "%s %s", lower, path));
            const char *why = add_operation(req, ops, name, http_methods[m], path);
            if (why)
                return why;
        }
    }
    return NULL;
}

/* ---- handlers ---- */

static bool code_ok(const char *c)
{
    size_t len = strlen(c);
    if (len < 1 || len > 64 || !isalnum((unsigned char)c[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!islower((unsigned char)c[i]) && !isdigit((unsigned char)c[i]) && c[i] != '-' && c[i] != '_')
            return false;
    return true;
}

/* http:// or https://, a host, no credentials, query or fragment. */
static bool base_url_ok(const char *u)
{
    size_t len = strlen(u);
    const char *rest = strncmp(u, "http://", 7) == 0 ? u + 7 : strncmp(u, "https://", 8) == 0 ? u + 8 : NULL;
    if (!rest || len > 500 || !*rest || *rest == '/')
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#' || *p == '@' || *p == 0x7f)
            return false;
    return true;
}

typedef struct {
    char id[24];
    const char *provider, *code, *name, *description, *base_url, *resource, *operations, *openapi, *health_path,
        *created_by;
} service_insert;

static int service_insert_job(yw_db *db, void *arg)
{
    service_insert *w = arg;
    int64_t last = 0;
    int rc = yw_db_int(db, &last, "SELECT coalesce(max(rowid), 0) FROM services", "");
    if (rc < 0)
        return rc;
    snprintf(w->id, sizeof w->id, "SV%08lld", (long long)last + 1);
    rc = yw_db_run(db,
                   "INSERT INTO services(id, provider_org, code, name, description, base_url, resource, operations,"
                   " openapi, health_path, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                   " $11, $12)",
                   "ttttttttttti", w->id, w->provider, w->code, w->name, w->description, w->base_url, w->resource,
                   w->operations, w->openapi, w->health_path, w->created_by, yw_now_ms());
    return rc < 0 ? rc : 0;
}

static char *dump_in_arena(yw_req *req, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    char *out = text ? yw_arena_strdup(req->arena, text) : NULL;
    free(text);
    return out;
}

void services_create(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"code", YW_JSON_STRING, true, 64},          {"name", YW_JSON_STRING, true, 600},
        {"description", YW_JSON_STRING, false, 12000}, {"base_url", YW_JSON_STRING, true, 500},
        {"resource", YW_JSON_STRING, true, 64},      {"operations", YW_JSON_ARRAY, false, MAX_OPERATIONS},
        {"openapi", YW_JSON_OBJECT, false, 100},     {"health_path", YW_JSON_STRING, false, 500},
    };
    req->audit.object_type = "service";
    if (!yw_authz_or_reply(req, YW_ACT_SERVICE_MANAGE, NULL, NULL))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    const char *org = req->principal.org_code;
    service_insert w = {.provider = org, .code = yw_json_str(body, "code"), .name = yw_json_str(body, "name"),
                        .description = yw_json_str(body, "description") ? yw_json_str(body, "description") : "",
                        .base_url = yw_json_str(body, "base_url"), .resource = yw_json_str(body, "resource"),
                        .health_path = yw_json_str(body, "health_path") ? yw_json_str(body, "health_path") : "/",
                        .created_by = req->principal.id};
    yw_req_audit_object(req, "service", w.code);
    const char *why = NULL;
    if (!code_ok(w.code))
        why = "code uses a-z, 0-9, '-' and '_' (at most 64), starting with a letter or digit";
    else if (!*w.name)
        why = "name must not be empty";
    else if (!base_url_ok(w.base_url))
        why = "base_url is an http:// or https:// URL with a host, without credentials, query or fragment";
    else if (!path_template_ok(w.health_path) || strchr(w.health_path, '{'))
        why = "health_path is a path on the provider's system, like /health";
    else
        why = yw_app_egress_refusal(req, "base_url", w.base_url);
    json_t *ops = yw_req_keep(req, json_array());
    json_t *openapi = json_object_get(body, "openapi");
    json_t *listed = json_object_get(body, "operations");
    if (!why && listed) {
        static const yw_json_field op_fields[] = {{"name", YW_JSON_STRING, true, 64},
                                                  {"method", YW_JSON_STRING, true, 8},
                                                  {"path", YW_JSON_STRING, true, 500}};
        size_t i;
        json_t *op;
        json_array_foreach(listed, i, op) {
            char err[200];
            if (yw_json_check(op, op_fields, 3, err, sizeof err) < 0) {
                yw_reply_problem(req, 400, "invalid_request", "operations[%zu]: %s", i, err);
                return;
            }
            if ((why = add_operation(req, ops, yw_json_str(op, "name"), yw_json_str(op, "method"),
                                     yw_json_str(op, "path"))))
                break;
        }
    } else if (!why && openapi) {
        why = operations_from_openapi(req, openapi, ops);
    }
    if (!why && openapi) {
        w.openapi = dump_in_arena(req, openapi);
        if (!w.openapi || strlen(w.openapi) > MAX_OPENAPI_BYTES)
            why = "openapi: the document is larger than 2 MiB";
    }
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    /* The resource must be this org's, of format api: its grants are the rights to call. */
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT provider_org, coalesce(json_extract(doc, '$.format'), '') FROM resources"
                                 " WHERE code = $1", "t", w.resource);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    rc = yw_stmt_step(s);
    bool found = rc == YW_DB_ROW && strcmp(yw_stmt_text(s, 0), org) == 0;
    bool api = found && strcmp(yw_stmt_text(s, 1), "api") == 0;
    yw_stmt_release(s);
    if (!found)
        why = "resource must name a resource of your org";
    else if (!api)
        why = "resource must be of format api: its grants are the rights to call the service";
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    w.operations = dump_in_arena(req, ops);
    rc = yw_app_write(req, service_insert_job, &w, 201);
    if (rc == YW_ECONFLICT) {
        yw_reply_problem(req, 409, "conflict", "your org has a service with code '%s' already", w.code);
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "service");
        return;
    }
    json_t *v = yw_app_load_written(req, "SELECT " SERVICE_COLUMNS " FROM services WHERE id = $1", w.id,
                                    service_json, "service");
    if (!v)
        return;
    service_present(req, v);
    yw_reply_header(req, "Location", yw_arena_printf(req->arena, "/api/v1/services/%s", w.id));
    yw_reply_json(req, 201, v);
}

void services_list(yw_req *req)
{
    int limit;
    const char *cursor;
    if (!yw_app_list_or_reply(req, YW_ACT_SERVICE_READ, &limit, &cursor))
        return;
    const char *provider = yw_req_query(req, "provider"), *callable = yw_req_query(req, "callable");
    if ((provider && strlen(provider) > 18) ||
        (callable && strcmp(callable, "true") != 0 && strcmp(callable, "false") != 0)) {
        yw_reply_problem(req, 400, "invalid_request", "provider is an org code; callable is true or false");
        return;
    }
    bool only_callable = callable && strcmp(callable, "true") == 0;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    /* callable: services with an active grant of their resource to the caller's org (and system), as calls check. */
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " SERVICE_COLUMNS " FROM services v WHERE id > coalesce($1, '')"
                         " AND ($2 IS NULL OR provider_org = $2)"
                         " AND (NOT $3 OR EXISTS (SELECT 1 FROM grants g WHERE g.resource = v.resource"
                         "  AND g.consumer_org = $4 AND (g.client_id IS NULL OR g.client_id = $5)"
                         "  AND g.revoked_at IS NULL AND g.valid_until > $6))"
                         " ORDER BY id LIMIT $7",
                         "ttittii", cursor, provider, (int64_t)only_callable, req->principal.org_code,
                         req->principal.kind == YW_PRINCIPAL_CLIENT ? req->principal.id : NULL, yw_now_ms(),
                         (int64_t)limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "service");
        return;
    }
    json_t *items = yw_req_keep(req, json_array());
    const char *next = NULL;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        if ((int)json_array_size(items) == limit) {
            next = yw_cursor_encode(req, yw_json_str(json_array_get(items, (size_t)limit - 1), "id"));
            break;
        }
        json_t *v = service_json(s);
        service_present(req, v);
        json_array_append_new(items, v);
    }
    yw_stmt_release(s);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "service");
        return;
    }
    yw_reply_json_new(req, 200, json_pack("{s:O, s:s?}", "items", items, "next_cursor", next));
}

/* The service named by the path, kept by the request; NULL after replying 404. */
json_t *service_or_reply(yw_req *req, yw_db *db)
{
    bool failed;
    const char *id = yw_req_param(req, "id");
    json_t *v = yw_app_load_one(req, db, "SELECT " SERVICE_COLUMNS " FROM services WHERE id = $1", id, service_json,
                                &failed);
    if (!v && !failed)
        yw_reply_problem(req, 404, "not_found", "no such service");
    return v;
}

void services_get(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_SERVICE_READ, NULL, NULL))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    json_t *v = db ? service_or_reply(req, db) : NULL;
    if (!v)
        return;
    service_present(req, v);
    yw_reply_json(req, 200, v);
}

void services_openapi(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_SERVICE_READ, NULL, NULL))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT openapi FROM services WHERE id = $1", "t", yw_req_param(req, "id"));
    if (rc < 0) {
        yw_reply_store_error(req, rc, "service");
        return;
    }
    rc = yw_stmt_step(s);
    if (rc == YW_DB_ROW && !yw_stmt_is_null(s, 0)) {
        const char *doc = yw_stmt_text(s, 0);
        yw_reply_raw(req, 200, "application/json", doc, strlen(doc));
    } else if (rc == YW_DB_ROW) {
        yw_reply_problem(req, 404, "not_found", "the service was registered without an OpenAPI document");
    } else {
        yw_reply_problem(req, 404, "not_found", "no such service");
    }
    yw_stmt_release(s);
}

/*
 * Services as mediated calls find them, kept per request thread
 * (core/memo.h): every call looks its service up, and services change only
 * when one is registered, which ends every copy (services is one of app.h's
 * cached tables).
 */
static yw_memo service_memo = YW_MEMO;

int access_service_load(yw_req *req, yw_db *db, const char *org, const char *code, access_service *out)
{
    const char *key = yw_memo_key(req->arena, 2, org, code);
    const json_t *kept = yw_memo_recall(&service_memo, key, yw_app_generation(req), yw_now_ms());
    if (kept) {
        out->id = yw_arena_strdup(req->arena, yw_json_str(kept, "id"));
        out->provider_org = yw_arena_strdup(req->arena, org);
        out->code = yw_arena_strdup(req->arena, code);
        out->base_url = yw_arena_strdup(req->arena, yw_json_str(kept, "base_url"));
        out->resource = yw_arena_strdup(req->arena, yw_json_str(kept, "resource"));
        out->operations = yw_req_keep(req, json_incref(json_object_get(kept, "operations")));
        return 0;
    }
    uint64_t generation = yw_app_read_generation(req);
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT id, provider_org, code, base_url, resource, operations FROM services"
                         " WHERE provider_org = $1 AND code = $2",
                         "tt", org, code);
    if (rc < 0)
        return rc;
    rc = yw_stmt_step(s);
    if (rc == YW_DB_ROW) {
        out->id = yw_arena_strdup(req->arena, yw_stmt_text(s, 0));
        out->provider_org = yw_arena_strdup(req->arena, yw_stmt_text(s, 1));
        out->code = yw_arena_strdup(req->arena, yw_stmt_text(s, 2));
        out->base_url = yw_arena_strdup(req->arena, yw_stmt_text(s, 3));
        out->resource = yw_arena_strdup(req->arena, yw_stmt_text(s, 4));
        out->operations = yw_req_keep(req, json_loads(yw_stmt_text(s, 5), 0, NULL));
        if (!out->operations)
            out->operations = yw_req_keep(req, json_array());
        rc = 0;
    } else if (rc == YW_DB_DONE) {
        rc = YW_ENOTFOUND;
    }
    yw_stmt_release(s);
    if (rc == 0)
        yw_memo_keep(&service_memo, key,
                     json_pack("{s:s, s:s, s:s, s:O}", "id", out->id, "base_url", out->base_url, "resource",
                               out->resource, "operations", out->operations),
                     generation, INT64_MAX);
    return rc;
}
