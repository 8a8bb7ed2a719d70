/* Application context and module table (see app.h). */
#include "app/app.h"

#include "core/error.h"
#include "core/log.h"

extern const yw_module yw_meta_module;
extern const yw_module yw_identity_module;
extern const yw_module yw_registry_module;

const yw_module *const yw_modules[] = {&yw_meta_module, &yw_identity_module, &yw_registry_module, NULL};

void yw_app_add_routes(yw_router *r)
{
    for (const yw_module *const *m = yw_modules; *m; m++)
        yw_router_add(r, (*m)->routes, (*m)->nroutes);
}

yw_app *yw_req_app(const yw_req *req)
{
    return req->app;
}

yw_db *yw_app_reader_or_reply(yw_req *req)
{
    yw_db *db = yw_store_reader(yw_req_app(req)->store);
    if (!db)
        yw_reply_problem(req, 503, "unavailable", "the database cannot be read; try again shortly");
    return db;
}

int yw_app_write(yw_app *app, yw_write_fn fn, void *arg)
{
    return yw_writer_run(yw_store_writer(app->store), fn, arg);
}

void yw_reply_store_error(yw_req *req, int rc, const char *what)
{
    switch (rc) {
    case YW_ECONFLICT: yw_reply_problem(req, 409, "conflict", "%s already exists", what); return;
    case YW_ENOTFOUND: yw_reply_problem(req, 404, "not_found", "no such %s", what); return;
    case YW_EBUSY: yw_reply_problem(req, 503, "busy", "the database is busy; try again shortly"); return;
    default:
        yw_log(YW_LOG_ERROR, "storage failure",
               json_pack("{s:s, s:s, s:s}", "what", what, "error", yw_strerror(rc), "request_id", req->request_id));
        yw_reply_problem(req, 500, "internal", "the request could not be stored");
    }
}

void yw_reply_page(yw_req *req, yw_stmt *s, int limit, json_t *(*to_json)(yw_stmt *), const char *key_field)
{
    json_t *items = json_array();
    const char *next = NULL;
    int rc;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        if ((int)json_array_size(items) == limit) {
            json_t *last = json_array_get(items, (size_t)limit - 1);
            next = yw_cursor_encode(req, json_string_value(json_object_get(last, key_field)));
            break;
        }
        json_array_append_new(items, to_json(s));
    }
    yw_stmt_release(s);
    if (rc < 0) {
        json_decref(items);
        yw_reply_store_error(req, rc, "list");
        return;
    }
    yw_reply_json_new(req, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor", next));
}
