/*
 * POST /api/v1/resources/{code}/records:import — many records at once.
 *
 * The body (text/csv whose header row names items or data elements, or
 * application/x-ndjson with one JSON object per line) is read as a stream:
 * rows are parsed as the bytes arrive, checked like single writes, and the
 * good ones committed in batches of BATCH, so a file of any size imports in
 * constant memory. The reply reports the counts and, for the first
 * MAX_ERRORS rejected rows, the line, the item and the reason. Loading the
 * same data again leaves every record as it was ("unchanged").
 *
 * CSV follows RFC 4180: quoted fields may hold commas, quotes ("") and line
 * breaks; an empty field leaves the item out; a UTF-8 byte order mark is
 * skipped. Lines are counted from 1, the header being line 1.
 */
#include "data/handlers.h"
#include "data/record.h"

#include "app/app.h"
#include "core/buf.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define BATCH 500
#define MAX_ERRORS 1000
#define MAX_LINE (1 << 20)
#define MAX_COLUMNS 256

typedef enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } csv_state;

typedef struct {
    resource_spec r;
    bool csv;
    int bom;              /* bytes of a byte order mark seen at the start */
    int64_t line;         /* the line being read, from 1 */
    int64_t record_line;  /* the line where the current row began */
    /* CSV */
    csv_state state;
    yw_buf field;
    char **fields;
    size_t nfields;
    const item_spec *columns[MAX_COLUMNS];
    size_t ncolumns;
    bool header_done;
    /* NDJSON */
    yw_buf text;
    /* the batch being prepared, in its own arena */
    yw_arena *arena;
    record_write batch[BATCH];
    int nbatch;
    /* the report */
    int64_t accepted, unchanged, rejected;
    json_t *errors;
    json_t *items; /* the item names the import writes, for the audit entry */
} import_state;

static void reject(import_state *st, int64_t line, const char *item, const char *reason)
{
    st->rejected++;
    if (json_array_size(st->errors) < MAX_ERRORS)
        json_array_append_new(st->errors, json_pack("{s:I, s:s?, s:s}", "row", (json_int_t)line, "item", item,
                                                    "reason", reason));
}

static int batch_job(yw_db *db, void *arg)
{
    import_state *st = arg;
    for (int i = 0; i < st->nbatch; i++) {
        int rc = record_job(db, &st->batch[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Commits the prepared rows; false after replying when the store fails. */
static bool flush(yw_req *req, import_state *st)
{
    if (st->nbatch == 0)
        return true;
    int rc = yw_app_write(req, batch_job, st, 200);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "records");
        return false;
    }
    for (int i = 0; i < st->nbatch; i++) {
        if (st->batch[i].changed)
            st->accepted++;
        else
            st->unchanged++;
    }
    st->nbatch = 0;
    yw_arena_free(st->arena);
    st->arena = yw_arena_new(65536);
    return true;
}

/* Checks one row and adds it to the batch, or reports it. data is stolen. */
static void take_row(yw_req *req, import_state *st, int64_t line, const char *key, json_t *data)
{
    /* Everything prepared for the batch lives in the batch's arena, freed when it is committed. */
    record_ctx ctx = record_ctx_of(req);
    ctx.arena = st->arena;
    const char *item = NULL;
    const char *why = key ? prepare_record(&ctx, &st->r, key, data, &st->batch[st->nbatch], &item) : "is missing";
    if (!key)
        item = st->r.key_item;
    if (why)
        reject(st, line, item, why); /* item may point into data: report before letting it go */
    json_decref(data);
    if (why)
        return;
    if (++st->nbatch == BATCH)
        flush(req, st);
}

/* A CSV record is complete: the header, or a row. */
static void csv_record(yw_req *req, import_state *st)
{
    if (st->nfields == 1 && st->fields[0][0] == '\0')
        return; /* a blank line */
    if (!st->header_done) {
        if (st->nfields > MAX_COLUMNS) {
            yw_reply_problem(req, 422, "validation_failed", "the header has more than %d columns", MAX_COLUMNS);
            return;
        }
        bool has_key = false;
        for (size_t c = 0; c < st->nfields; c++) {
            const char *name = st->fields[c];
            const item_spec *item = NULL;
            for (size_t i = 0; i < st->r.nitems && !item; i++)
                if (strcmp(st->r.items[i].name, name) == 0 ||
                    (st->r.items[i].element_id && strcmp(st->r.items[i].element_id, name) == 0))
                    item = &st->r.items[i];
            if (!item) {
                yw_reply_problem(req, 422, "validation_failed",
                                 "header column %zu ('%.64s') names no item or data element of the resource", c + 1, name);
                return;
            }
            for (size_t k = 0; k < c; k++)
                if (st->columns[k] == item) {
                    yw_reply_problem(req, 422, "validation_failed", "item '%s' has two columns", item->name);
                    return;
                }
            st->columns[c] = item;
            has_key |= strcmp(item->name, st->r.key_item) == 0;
            json_array_append_new(st->items, json_string(item->name));
        }
        if (!has_key) {
            yw_reply_problem(req, 422, "validation_failed", "the header has no column for the key item '%s'",
                             st->r.key_item);
            return;
        }
        st->ncolumns = st->nfields;
        st->header_done = true;
        return;
    }
    if (st->nfields != st->ncolumns) {
        reject(st, st->record_line, NULL, "the row has a different number of fields than the header");
        return;
    }
    json_t *data = json_object();
    const char *key = NULL;
    for (size_t c = 0; c < st->ncolumns; c++) {
        if (!st->fields[c][0])
            continue; /* an empty field leaves the item out */
        json_object_set_new(data, st->columns[c]->name, json_string(st->fields[c]));
        if (strcmp(st->columns[c]->name, st->r.key_item) == 0)
            key = yw_arena_strdup(st->arena, st->fields[c]);
    }
    take_row(req, st, st->record_line, key, data);
}

static void end_field(import_state *st)
{
    if (st->nfields < MAX_COLUMNS + 1) {
        st->fields[st->nfields++] = strdup(st->field.data ? st->field.data : "");
    }
    yw_buf_reset(&st->field);
}

static void clear_fields(import_state *st)
{
    for (size_t i = 0; i < st->nfields; i++)
        free(st->fields[i]);
    st->nfields = 0;
}

static void csv_bytes(yw_req *req, import_state *st, const char *data, size_t len)
{
    for (size_t i = 0; i < len && !req->status; i++) {
        char c = data[i];
        if (st->field.len > MAX_LINE) {
            yw_reply_problem(req, 422, "validation_failed", "line %lld: a field longer than 1 MiB", (long long)st->line);
            return;
        }
        switch (st->state) {
        case QUOTED:
            if (c == '"')
                st->state = QUOTE_IN_QUOTED;
            else {
                if (c == '\n')
                    st->line++;
                yw_buf_append(&st->field, &c, 1);
            }
            continue;
        case QUOTE_IN_QUOTED:
            if (c == '"') {
                yw_buf_append(&st->field, &c, 1);
                st->state = QUOTED;
                continue;
            }
            st->state = UNQUOTED; /* the closing quote; c is handled below */
            break;
        case FIELD_START:
            if (c == '"') {
                st->state = QUOTED;
                continue;
            }
            st->state = UNQUOTED;
            break;
        case UNQUOTED: break;
        }
        if (c == ',') {
            end_field(st);
            st->state = FIELD_START;
        } else if (c == '\n') {
            end_field(st);
            csv_record(req, st);
            clear_fields(st);
            st->state = FIELD_START;
            st->line++;
            st->record_line = st->line;
        } else if (c != '\r') {
            yw_buf_append(&st->field, &c, 1);
        }
    }
}

static void ndjson_line(yw_req *req, import_state *st)
{
    const char *text = st->text.data ? st->text.data : "";
    if (strspn(text, " \t\r") == st->text.len)
        return; /* a blank line */
    json_error_t je;
    json_t *obj = json_loadb(text, st->text.len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(obj)) {
        json_decref(obj);
        reject(st, st->line, NULL, "not a JSON object");
        return;
    }
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v) {
        bool seen = false;
        for (size_t i = 0; i < json_array_size(st->items) && !seen; i++)
            seen = strcmp(json_string_value(json_array_get(st->items, i)), name) == 0;
        if (!seen && json_array_size(st->items) < MAX_COLUMNS)
            json_array_append_new(st->items, json_string(name));
    }
    json_t *k = json_object_get(obj, st->r.key_item);
    const char *key = json_is_string(k) ? yw_arena_strdup(st->arena, json_string_value(k)) : NULL;
    take_row(req, st, st->line, key, obj);
}

static void ndjson_bytes(yw_req *req, import_state *st, const char *data, size_t len)
{
    while (len && !req->status) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) : len;
        if (st->text.len + n > MAX_LINE) {
            yw_reply_problem(req, 422, "validation_failed", "line %lld is longer than 1 MiB", (long long)st->line);
            return;
        }
        yw_buf_append(&st->text, data, n);
        if (!nl)
            return;
        ndjson_line(req, st);
        yw_buf_reset(&st->text);
        st->line++;
        data += n + 1;
        len -= n + 1;
    }
}

static void free_state(void *arg)
{
    import_state *st = arg;
    clear_fields(st);
    free(st->fields);
    yw_buf_free(&st->field);
    yw_buf_free(&st->text);
    yw_arena_free(st->arena);
    json_decref(st->errors);
    json_decref(st->items);
}

/* The stream: set up before the body, then every piece of it. */
void records_import_stream(yw_req *req, const char *data, size_t len)
{
    import_state *st = req->route_state;
    if (!st) {
        yw_db *db = yw_app_reader_or_reply(req);
        if (!db)
            return;
        st = yw_arena_alloc(req->arena, sizeof *st);
        if (!resource_or_reply(req, db, &st->r))
            return;
        req->audit.stage = "store";
        req->audit.object_type = "resource";
        req->audit.object_ids = yw_req_keep(req, json_pack("[s]", st->r.code));
        if (strcmp(st->r.status, "retired") == 0) {
            yw_reply_problem(req, 409, "retired", "a retired resource takes no more records");
            return;
        }
        const char *ct = yw_req_header(req, "Content-Type");
        size_t ctlen = ct ? strcspn(ct, "; ") : 0;
        if (ct && ctlen == 8 && strncasecmp(ct, "text/csv", 8) == 0)
            st->csv = true;
        else if (!ct || ctlen != 20 || strncasecmp(ct, "application/x-ndjson", 20) != 0) {
            yw_reply_problem(req, 415, "unsupported_media_type", "send text/csv (a header row) or application/x-ndjson");
            return;
        }
        st->line = st->record_line = 1;
        st->fields = calloc(MAX_COLUMNS + 1, sizeof *st->fields);
        st->arena = yw_arena_new(65536);
        st->errors = json_array();
        st->items = json_array();
        req->audit.items = st->items; /* filled as columns and items appear; each batch's entry names them */
        yw_arena_on_free(req->arena, free_state, st);
        req->route_state = st;
        return;
    }
    if (st->bom < 3) { /* skip a UTF-8 byte order mark */
        static const char bom[] = "\xEF\xBB\xBF";
        while (len && st->bom < 3 && data[0] == bom[st->bom]) {
            st->bom++;
            data++;
            len--;
        }
        if (len)
            st->bom = 3;
    }
    if (st->csv)
        csv_bytes(req, st, data, len);
    else
        ndjson_bytes(req, st, data, len);
}

/* The body is complete: the last row, the last batch, the report. */
void records_import(yw_req *req)
{
    import_state *st = req->route_state;
    if (!st) {
        yw_reply_problem(req, 500, "internal", "the import did not start");
        return;
    }
    if (st->csv && (st->field.len || st->nfields || st->state != FIELD_START)) {
        if (st->state == QUOTED) {
            reject(st, st->record_line, NULL, "a quoted field is not closed");
        } else {
            end_field(st);
            csv_record(req, st);
        }
        clear_fields(st);
    } else if (!st->csv && st->text.len) {
        ndjson_line(req, st);
    }
    if (req->status)
        return;
    if (st->csv && !st->header_done) {
        yw_reply_problem(req, 422, "validation_failed", "the CSV has no header row naming the items");
        return;
    }
    if (!flush(req, st))
        return;
    yw_reply_json_new(req, 200, json_pack("{s:I, s:I, s:I, s:O, s:b}", "accepted", (json_int_t)st->accepted,
                                          "unchanged", (json_int_t)st->unchanged, "rejected", (json_int_t)st->rejected,
                                          "errors", st->errors, "errors_truncated",
                                          st->rejected > (int64_t)json_array_size(st->errors)));
}
