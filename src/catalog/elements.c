/*
 * Data element handlers.
 *
 *   GET  /api/v1/elements        every element, by id; ?q= matches id or name
 *   POST /api/v1/elements        a new element (the sysadmin, the data bureau's stewards)
 *   GET  /api/v1/elements/{id}
 *
 * Elements are the platform's standards: anyone signed in reads them;
 * changing one would change the meaning of every item bound to it, so an
 * element, once created, is not edited here (a new one is made instead).
 */
#include "catalog/handlers.h"

#include "app/app.h"
#include "authz/policy.h"
#include "catalog/element.h"
#include "core/error.h"
#include "core/time.h"

#include <string.h>

#define ELEMENT_COLUMNS "id, name, definition, type, length, validator, sensitivity, mask, source, created_at"

static json_t *element_json(yw_stmt *s)
{
    json_t *e = json_pack("{s:s, s:s, s:s?, s:s, s:I, s:s?, s:s, s:s, s:s?, s:o}", "id", yw_stmt_text(s, 0), "name",
                          yw_stmt_text(s, 1), "definition", yw_stmt_text(s, 2), "type", yw_stmt_text(s, 3), "length",
                          (json_int_t)yw_stmt_int(s, 4), "validator", yw_stmt_text(s, 5), "sensitivity",
                          yw_stmt_text(s, 6), "mask", yw_stmt_text(s, 7), "source", yw_stmt_text(s, 8), "created_at",
                          yw_json_time(yw_stmt_int(s, 9)));
    return e;
}

void elements_list(yw_req *req)
{
    int limit;
    const char *after;
    if (!yw_app_list_or_reply(req, YW_ACT_ELEMENT_READ, &limit, &after))
        return;
    const char *q = yw_req_query(req, "q");
    if (q && strlen(q) > 100) {
        yw_reply_problem(req, 400, "invalid_request", "q must have at most 100 bytes");
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " ELEMENT_COLUMNS " FROM elements WHERE ($1 IS NULL OR id > $1)"
                         " AND ($2 IS NULL OR instr(id, $2) > 0 OR instr(name, $2) > 0) ORDER BY id LIMIT $3",
                         "tti", after, q, (int64_t)limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "element");
        return;
    }
    yw_reply_page(req, s, limit, element_json, "id");
}

void elements_get(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_ELEMENT_READ, NULL, NULL))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    bool failed;
    json_t *e = yw_app_load_one(req, db, "SELECT " ELEMENT_COLUMNS " FROM elements WHERE id = $1",
                                yw_req_param(req, "id"), element_json, &failed);
    if (e)
        yw_reply_json(req, 200, e);
    else if (!failed)
        yw_reply_problem(req, 404, "not_found", "no such element");
}

typedef struct {
    yw_element e;
    const char *definition, *source;
} element_new;

static int element_insert_job(yw_db *db, void *arg)
{
    element_new *n = arg;
    int64_t now = yw_now_ms();
    int rc = yw_db_run(db,
                       "INSERT INTO elements(id, name, definition, type, length, validator, sensitivity, mask, source,"
                       " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                       "ttttitttti", n->e.id, n->e.name, n->definition, n->e.type, (int64_t)n->e.length,
                       n->e.validator, n->e.sensitivity, n->e.mask, n->source, now);
    return rc < 0 ? rc : 0;
}

void elements_create(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"id", YW_JSON_STRING, true, 64},          {"name", YW_JSON_STRING, true, 256},
        {"definition", YW_JSON_STRING, false, 2000}, {"type", YW_JSON_STRING, true, 1},
        {"length", YW_JSON_INTEGER, false, 0},     {"validator", YW_JSON_STRING, false, 1024},
        {"sensitivity", YW_JSON_STRING, true, 2},  {"mask", YW_JSON_STRING, false, 16},
        {"source", YW_JSON_STRING, false, 200},
    };
    if (!yw_authz_or_reply(req, YW_ACT_ELEMENT_MANAGE, NULL, NULL))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    json_t *length = json_object_get(body, "length");
    json_int_t len = length ? json_integer_value(length) : 0;
    element_new n = {.e = {.id = yw_json_str(body, "id"),
                           .name = yw_json_str(body, "name"),
                           .type = yw_json_str(body, "type"),
                           .validator = yw_json_str(body, "validator"),
                           .sensitivity = yw_json_str(body, "sensitivity"),
                           .mask = yw_json_str(body, "mask") ? yw_json_str(body, "mask") : "none",
                           .length = len < 0 || len > 1000000 ? -1 : (int)len},
                     .definition = yw_json_str(body, "definition"),
                     .source = yw_json_str(body, "source")};
    yw_req_audit_object(req, "element", n.e.id);
    const char *why = yw_element_validate(&n.e);
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    int rc = yw_app_write(req, element_insert_job, &n, 201);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "an element with this id");
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    bool failed;
    json_t *e = yw_app_load_one(req, db, "SELECT " ELEMENT_COLUMNS " FROM elements WHERE id = $1", n.e.id,
                                element_json, &failed);
    if (!e) {
        if (!failed)
            yw_reply_store_error(req, YW_EDB, "element");
        return;
    }
    yw_reply_header(req, "Location", yw_arena_printf(req->arena, "/api/v1/elements/%s", n.e.id));
    yw_reply_json(req, 201, e);
}
