/*
 * POST /api/v1/resources/{code}/records:import — the importer (import.c)
 * behind a streamed request body: text/csv or application/x-ndjson, any
 * size, constant memory. Each committed batch is an audit entry; the reply
 * is the report.
 */
#include "data/handlers.h"
#include "data/import.h"

#include "app/app.h"
#include "core/error.h"

#include <string.h>

typedef struct {
    record_write *rows;
    int n;
    import_fresh *fresh;
} batch;

typedef struct {
    yw_req *req;
    resource_spec r;
    import_state *importer;
    batch batches[2];
    yw_app_write_ticket tickets[2];
} http_import;

static int batch_job(yw_db *db, void *arg)
{
    batch *b = arg;
    bool changed;
    return import_store_rows(db, b->rows, b->n, b->fresh, &changed);
}

/* A batch in one durable group commit, with the request's audit entry; the request reads on meanwhile. */
static void submit(void *sink, int slot, record_write *rows, int n, import_fresh *fresh)
{
    http_import *h = sink;
    h->batches[slot] = (batch){rows, n, fresh};
    yw_app_write_submit(h->req, &h->tickets[slot], batch_job, &h->batches[slot], 200);
}

static int wait_for(void *sink, int slot)
{
    http_import *h = sink;
    return yw_app_write_wait(h->req, &h->tickets[slot]);
}

static const import_sink sink_ops = {submit, wait_for};

static void end_import(void *arg)
{
    import_free(((http_import *)arg)->importer);
}

/* Replies when the importer stopped; true when it did. */
static bool stopped(yw_req *req, http_import *h)
{
    int rc;
    const char *why = import_failure(h->importer, &rc);
    if (!why || req->status)
        return why != NULL;
    if (rc < 0)
        yw_reply_store_error(req, rc, "records");
    else
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
    return true;
}

void records_import_stream(yw_req *req, const char *data, size_t len)
{
    http_import *h = req->route_state;
    if (h) {
        import_feed(h->importer, data, len);
        stopped(req, h);
        return;
    }
    /* before the body: who, what, in which format */
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    h = yw_arena_alloc(req->arena, sizeof *h);
    h->req = req;
    if (!resource_or_reply(req, db, &h->r))
        return;
    req->audit.stage = "store";
    req->audit.object_type = "resource";
    req->audit.object_ids = yw_req_keep(req, json_pack("[s]", h->r.code));
    if (strcmp(h->r.status, "retired") == 0) {
        yw_reply_problem(req, 409, "retired", "a retired resource takes no more records");
        return;
    }
    const char *ct = yw_req_header(req, "Content-Type");
    size_t ctlen = ct ? strcspn(ct, "; ") : 0;
    bool csv = ct && ctlen == 8 && strncasecmp(ct, "text/csv", 8) == 0;
    if (!csv && (!ct || ctlen != 20 || strncasecmp(ct, "application/x-ndjson", 20) != 0)) {
        yw_reply_problem(req, 415, "unsupported_media_type", "send text/csv (a header row) or application/x-ndjson");
        return;
    }
    h->importer = import_begin(&h->r, csv, record_ctx_of(req), &sink_ops, h);
    if (!h->importer) {
        yw_reply_store_error(req, YW_ENOMEM, "records");
        return;
    }
    yw_arena_on_free(req->arena, end_import, h);
    /* each batch's entry names the items seen so far */
    req->audit.items = import_items(h->importer);
    req->route_state = h;
}

void records_import(yw_req *req)
{
    http_import *h = req->route_state;
    if (!h) {
        yw_reply_problem(req, 500, "internal", "the import did not start");
        return;
    }
    import_finish(h->importer);
    if (stopped(req, h))
        return;
    yw_reply_json_new(req, 200, import_report(h->importer));
}
