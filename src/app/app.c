/* Application context and module table (see app.h). */
#include "app/app.h"

#include "core/error.h"
#include "core/log.h"
#include "sec/digest.h"

#include <string.h>

extern const yw_module yw_meta_module;
extern const yw_module yw_identity_module;
extern const yw_module yw_console_module;
extern const yw_module yw_registry_module;
extern const yw_module yw_trail_module;
extern const yw_module yw_catalog_module;
extern const yw_module yw_data_module;
extern const yw_module yw_sharing_module;
extern const yw_module yw_access_module;
extern const yw_module yw_backup_module;

const yw_module *const yw_modules[] = {&yw_meta_module,    &yw_identity_module, &yw_registry_module, &yw_trail_module,
                                       &yw_catalog_module, &yw_data_module,     &yw_sharing_module,  &yw_access_module,
                                       &yw_backup_module,  &yw_console_module, NULL};

void yw_app_add_routes(yw_router *r)
{
    for (const yw_module *const *m = yw_modules; *m; m++)
        yw_router_add(r, (*m)->routes, (*m)->nroutes);
}

yw_app *yw_req_app(const yw_req *req)
{
    return req->app;
}

const char *const yw_app_cached_tables[] = {"orgs", "users", "clients", "elements", "resources", "grants", "services", NULL};

/* The reader of this thread holds a snapshot for the running handler, begun at snapshot_generation. */
static __thread yw_db *snapshot;
static __thread uint64_t snapshot_generation;

uint64_t yw_app_generation(yw_req *req)
{
    return yw_writer_generation(yw_store_writer(yw_req_app(req)->store));
}

uint64_t yw_app_read_generation(yw_req *req)
{
    return snapshot ? snapshot_generation : yw_app_generation(req);
}

static void end_snapshot(void)
{
    if (snapshot) {
        yw_db_exec(snapshot, "COMMIT");
        snapshot = NULL;
    }
}

yw_db *yw_app_reader_or_reply(yw_req *req)
{
    yw_db *db = yw_store_reader(yw_req_app(req)->store);
    if (!db) {
        yw_reply_problem(req, 503, "unavailable", "the database cannot be read; try again shortly");
        return NULL;
    }
    if (!snapshot) {
        snapshot_generation = yw_app_generation(req); /* the snapshot starts at the first read, after this */
        if (yw_db_exec(db, "BEGIN") < 0) {
            yw_reply_problem(req, 503, "unavailable", "the database cannot be read; try again shortly");
            return NULL;
        }
        snapshot = db;
    }
    return db;
}

void yw_app_handler_done(yw_req *req)
{
    (void)req;
    end_snapshot();
}

static const char *array_text(yw_req *req, const json_t *arr)
{
    if (!arr)
        return NULL;
    yw_buf b = YW_BUF_INIT;
    yw_audit_json_array(arr, &b);
    const char *s = yw_arena_strdup(req->arena, b.data);
    yw_buf_free(&b);
    return s;
}

void yw_app_audit_event(yw_req *req, int status, yw_audit_event *e)
{
    const yw_principal *p = &req->principal;
    static const char *const kinds[] = {"anonymous", "user", "client"};
    memset(e, 0, sizeof *e);
    e->actor = p->id ? p->id : req->audit.actor;
    e->actor_kind = p->id ? kinds[p->kind] : req->audit.actor ? "user" : "anonymous";
    e->actor_org = p->org_code ? p->org_code : req->audit.actor_org;
    e->action = req->audit.action;
    e->stage = req->audit.stage;
    e->object_type = req->audit.object_type;
    e->object_ids = array_text(req, req->audit.object_ids);
    e->items = array_text(req, req->audit.items);
    e->purpose = req->audit.purpose;
    e->status = status;
    e->request_id = req->request_id;
    e->client = req->client_addr;
}

typedef yw_app_write_ticket audited_write;

static int audited_job(yw_db *db, void *arg)
{
    audited_write *w = arg;
    int rc = w->fn ? w->fn(db, w->arg) : 0;
    if (rc < 0 || !w->req->audit.action)
        return rc;
    yw_audit_event e = w->event;
    if (!w->prepared) /* the caller waits: its request is ours to read, and fn may have named the object */
        yw_app_audit_event(w->req, w->status, &e);
    e.request_sha256 = w->request_sha256;
    e.response_sha256 = w->response_sha256;
    int64_t seq = yw_audit_append(yw_req_app(w->req)->audit, db, &e);
    if (seq < 0)
        return (int)seq;
    w->seq = seq;
    return 0;
}

/* After the job: the request knows its entry, and says so once. */
static int finish_write(yw_req *req, audited_write *w, int rc)
{
    if (rc == 0 && w->seq >= 0) {
        if (!req->audit.recorded)
            yw_reply_header(req, "X-Yiwang-Audit-Seq", yw_arena_printf(req->arena, "%lld", (long long)w->seq));
        req->audit.recorded = true;
        req->audit.seq = w->seq;
    }
    return rc;
}

/* A deferred write: the ticket first, so that the writer's notification finds the rest. */
typedef struct {
    audited_write w;
    char req_hash[65], resp_hash[65];
    void (*then)(yw_req *req, int rc);
} deferred_write;

static void deferred_written(yw_write_ticket *t)
{
    yw_req_resume(((deferred_write *)t)->w.req);
}

static void deferred_reply(yw_req *req)
{
    deferred_write *d = req->deferred_arg;
    d->then(req, finish_write(req, &d->w, d->w.ticket.rc));
}

/* Where data flows, the entry carries the SHA-256 of the request body and of the reply made so far. */
static void hash_bodies(yw_req *req, audited_write *w, char req_hash[65], char resp_hash[65])
{
    if (!req->audit.hash_bodies)
        return;
    yw_sha256_hex(req->body, req->body ? req->body_len : 0, req_hash);
    yw_sha256_hex(req->reply_body, req->reply_body ? req->reply_len : 0, resp_hash);
    w->request_sha256 = req_hash;
    w->response_sha256 = resp_hash;
}

int yw_app_write(yw_req *req, yw_write_fn fn, void *arg, int status)
{
    end_snapshot(); /* reads after the write must see it */
    audited_write w = {.req = req, .fn = fn, .arg = arg, .status = status, .seq = -1};
    char req_hash[65], resp_hash[65];
    hash_bodies(req, &w, req_hash, resp_hash);
    int rc = yw_writer_run(yw_store_writer(yw_req_app(req)->store), audited_job, &w);
    return finish_write(req, &w, rc);
}

void yw_app_write_defer(yw_req *req, yw_write_fn fn, void *arg, int status, void (*then)(yw_req *req, int rc))
{
    end_snapshot();
    deferred_write *d = yw_arena_alloc(req->arena, sizeof *d);
    *d = (deferred_write){.w = {.req = req, .fn = fn, .arg = arg, .status = status, .seq = -1, .prepared = true},
                          .then = then};
    /* The handler returns while the job runs: the entry is described now, on the request's thread. */
    yw_app_audit_event(req, status, &d->w.event);
    hash_bodies(req, &d->w, d->req_hash, d->resp_hash);
    yw_req_defer(req, deferred_reply, d);
    yw_writer_submit_notify(yw_store_writer(yw_req_app(req)->store), &d->w.ticket, audited_job, &d->w,
                            deferred_written);
}

void yw_app_write_submit(yw_req *req, yw_app_write_ticket *t, yw_write_fn fn, void *arg, int status)
{
    end_snapshot();
    *t = (yw_app_write_ticket){.req = req, .fn = fn, .arg = arg, .status = status, .seq = -1, .prepared = true};
    /* The request goes on while the job runs: the entry is described now, on the request's thread. */
    yw_app_audit_event(req, status, &t->event);
    yw_writer_submit(yw_store_writer(yw_req_app(req)->store), &t->ticket, audited_job, t);
}

int yw_app_write_wait(yw_req *req, yw_app_write_ticket *t)
{
    int rc = yw_writer_wait(yw_store_writer(yw_req_app(req)->store), &t->ticket);
    return finish_write(req, t, rc);
}

/* There is no unaudited access: a success that cannot be recorded is not sent. */
static void record_failed(yw_req *req, int rc)
{
    yw_log(YW_LOG_ERROR, "audit entry not written",
           json_pack("{s:s, s:s}", "request_id", req->request_id, "error", yw_strerror(rc)));
    if (req->status < 400) {
        req->nreply_headers = 0;
        yw_reply_problem(req, 503, "unavailable", "the request could not be recorded; try again shortly");
    }
}

static void recorded(yw_req *req, int rc)
{
    if (rc < 0 || !req->audit.recorded)
        record_failed(req, rc < 0 ? rc : YW_EIO);
}

void yw_app_record_deferred(yw_req *req)
{
    yw_app_write_defer(req, NULL, NULL, req->status, recorded);
}

void yw_app_record(yw_req *req)
{
    char req_hash[65], resp_hash[65];
    audited_write w = {.req = req, .status = req->status, .seq = -1};
    hash_bodies(req, &w, req_hash, resp_hash);
    int rc = yw_writer_run(yw_store_writer(yw_req_app(req)->store), audited_job, &w);
    if (rc == 0 && w.seq >= 0) {
        req->audit.recorded = true;
        req->audit.seq = w.seq;
        return;
    }
    record_failed(req, rc);
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

bool yw_app_list_or_reply(yw_req *req, yw_action action, int *limit, const char **cursor)
{
    return yw_authz_or_reply(req, action, NULL, NULL) && yw_req_limit_or_reply(req, limit) == 0 &&
           yw_req_cursor_or_reply(req, cursor) == 0;
}

json_t *yw_app_load_one(yw_req *req, yw_db *db, const char *sql, const char *key, json_t *(*to_json)(yw_stmt *),
                        bool *failed)
{
    yw_stmt *s;
    *failed = false;
    int rc = yw_db_query(db, &s, sql, "t", key);
    if (rc == 0 && (rc = yw_stmt_step(s)) == YW_DB_ROW) {
        json_t *v = yw_req_keep(req, to_json(s));
        yw_stmt_release(s);
        return v;
    }
    if (rc == 0)
        yw_stmt_release(s);
    if (rc < 0) {
        *failed = true;
        yw_reply_store_error(req, rc, "object");
    }
    return NULL;
}

json_t *yw_app_load_written(yw_req *req, const char *sql, const char *key, json_t *(*to_json)(yw_stmt *),
                            const char *what)
{
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return NULL;
    bool failed;
    json_t *v = yw_app_load_one(req, db, sql, key, to_json, &failed);
    if (!v && !failed)
        yw_reply_store_error(req, YW_ENOTFOUND, what);
    return v;
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

const char *yw_app_egress_refusal(yw_req *req, const char *field, const char *url)
{
    const yw_egress_net *denied = yw_egress_denied_url(yw_req_app(req)->egress, url);
    return denied ? yw_arena_printf(req->arena, "%s points into %s, which the hub may not reach (--egress-deny)", field,
                                    denied->text)
                  : NULL;
}
