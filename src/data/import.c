/*
 * Importing many records: the parser and batcher behind both
 * POST /api/v1/resources/{code}/records:import (import_http.c) and
 * yiwang import (src/cli/import.c).
 *
 * The input (CSV whose header row names items or data elements, or NDJSON
 * with one JSON object per line) is fed in pieces as it arrives: rows are
 * parsed, checked like single writes, and the good ones handed to the
 * caller's commit function in batches of IMPORT_BATCH, so a file of any size
 * imports in constant memory. The report gives the counts and, for the
 * first MAX_ERRORS rejected rows, the line, the item and the reason.
 * Loading the same data again leaves every record as it was ("unchanged").
 *
 * CSV follows RFC 4180: quoted fields may hold commas, quotes ("") and line
 * breaks; an empty field leaves the item out; a UTF-8 byte order mark is
 * skipped. Lines are counted from 1, the header being line 1.
 */
#include "data/import.h"

#include "core/buf.h"
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define MAX_ERRORS 1000
#define MAX_LINE (1 << 20)
#define MAX_COLUMNS 256

typedef enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } csv_state;

struct import_state {
    const resource_spec *r;
    record_ctx base; /* keys and source; rows are prepared in the batch's arena */
    const import_sink *ops;
    void *sink;
    char failure[256]; /* why the whole import stopped */
    int failure_rc;    /* 0: the input is wrong; < 0: the store failed */
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
    /* two batches: one prepared (slot cur) while the other commits; each in its own arena */
    yw_arena *arenas[2];
    record_write batches[2][IMPORT_BATCH];
    int sizes[2];    /* rows of a batch in flight, 0 when none */
    int cur, nbatch; /* the slot being prepared and its rows */
    /* the report */
    int64_t accepted, unchanged, rejected;
    json_t *errors;
    json_t *items; /* the item names the import writes, for the audit entry */
};

static void fail(import_state *st, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(import_state *st, int rc, const char *fmt, ...)
{
    if (st->failure[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->failure, sizeof st->failure, fmt, ap);
    va_end(ap);
    st->failure_rc = rc;
}

static void reject(import_state *st, int64_t line, const char *item, const char *reason)
{
    st->rejected++;
    if (json_array_size(st->errors) < MAX_ERRORS)
        json_array_append_new(st->errors, json_pack("{s:I, s:s?, s:s}", "row", (json_int_t)line, "item", item,
                                                    "reason", reason));
}

/* Waits for the batch in slot to be stored and counts it. */
static void settle(import_state *st, int slot)
{
    if (!st->sizes[slot])
        return;
    int rc = st->ops->wait(st->sink, slot);
    if (rc < 0)
        fail(st, rc, "the records could not be stored");
    for (int i = 0; rc >= 0 && i < st->sizes[slot]; i++) {
        if (st->batches[slot][i].changed)
            st->accepted++;
        else
            st->unchanged++;
    }
    st->sizes[slot] = 0;
    yw_arena_free(st->arenas[slot]);
    st->arenas[slot] = yw_arena_new(65536);
}

/* Sends the prepared batch to be stored and goes on preparing in the other slot. */
static void flush(import_state *st)
{
    int other = 1 - st->cur;
    settle(st, other); /* at most one batch in flight */
    if (st->nbatch == 0 || st->failure[0])
        return;
    st->ops->submit(st->sink, st->cur, st->batches[st->cur], st->nbatch);
    st->sizes[st->cur] = st->nbatch;
    st->cur = other;
    st->nbatch = 0;
}

/* Checks one row and adds it to the batch, or reports it. data is stolen. */
static void take_row(import_state *st, int64_t line, const char *key, json_t *data)
{
    /* Everything prepared for the batch lives in the batch's arena, freed when it is committed. */
    record_ctx ctx = st->base;
    ctx.arena = st->arenas[st->cur];
    const char *item = NULL;
    const char *why =
        key ? prepare_record(&ctx, st->r, key, data, &st->batches[st->cur][st->nbatch], &item) : "is missing";
    if (!key)
        item = st->r->key_item;
    if (why)
        reject(st, line, item, why); /* item may point into data: report before letting it go */
    json_decref(data);
    if (why)
        return;
    if (++st->nbatch == IMPORT_BATCH)
        flush(st);
}

/* A CSV record is complete: the header, or a row. */
static void csv_record(import_state *st)
{
    if (st->nfields == 1 && st->fields[0][0] == '\0')
        return; /* a blank line */
    if (!st->header_done) {
        if (st->nfields > MAX_COLUMNS) {
            fail(st, 0, "the header has more than %d columns", MAX_COLUMNS);
            return;
        }
        bool has_key = false;
        for (size_t c = 0; c < st->nfields; c++) {
            const char *name = st->fields[c];
            const item_spec *item = NULL;
            for (size_t i = 0; i < st->r->nitems && !item; i++)
                if (strcmp(st->r->items[i].name, name) == 0 ||
                    (st->r->items[i].element_id && strcmp(st->r->items[i].element_id, name) == 0))
                    item = &st->r->items[i];
            if (!item) {
                fail(st, 0, "header column %zu ('%.64s') names no item or data element of the resource", c + 1, name);
                return;
            }
            for (size_t k = 0; k < c; k++)
                if (st->columns[k] == item) {
                    fail(st, 0, "item '%s' has two columns", item->name);
                    return;
                }
            st->columns[c] = item;
            has_key |= strcmp(item->name, st->r->key_item) == 0;
            json_array_append_new(st->items, json_string(item->name));
        }
        if (!has_key) {
            fail(st, 0, "the header has no column for the key item '%s'", st->r->key_item);
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
        if (strcmp(st->columns[c]->name, st->r->key_item) == 0)
            key = yw_arena_strdup(st->arenas[st->cur], st->fields[c]);
    }
    take_row(st, st->record_line, key, data);
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

static void csv_bytes(import_state *st, const char *data, size_t len)
{
    for (size_t i = 0; i < len && !st->failure[0]; i++) {
        char c = data[i];
        if (st->field.len > MAX_LINE) {
            fail(st, 0, "line %lld: a field longer than 1 MiB", (long long)st->line);
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
            csv_record(st);
            clear_fields(st);
            st->state = FIELD_START;
            st->line++;
            st->record_line = st->line;
        } else if (c != '\r') {
            yw_buf_append(&st->field, &c, 1);
        }
    }
}

static void ndjson_line(import_state *st)
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
    json_t *k = json_object_get(obj, st->r->key_item);
    const char *key = json_is_string(k) ? yw_arena_strdup(st->arenas[st->cur], json_string_value(k)) : NULL;
    take_row(st, st->line, key, obj);
}

static void ndjson_bytes(import_state *st, const char *data, size_t len)
{
    while (len && !st->failure[0]) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) : len;
        if (st->text.len + n > MAX_LINE) {
            fail(st, 0, "line %lld is longer than 1 MiB", (long long)st->line);
            return;
        }
        yw_buf_append(&st->text, data, n);
        if (!nl)
            return;
        ndjson_line(st);
        yw_buf_reset(&st->text);
        st->line++;
        data += n + 1;
        len -= n + 1;
    }
}

int import_store_rows(yw_db *db, record_write *rows, int n, bool *changed)
{
    *changed = false;
    for (int i = 0; i < n; i++) {
        int rc = record_job(db, &rows[i]);
        if (rc < 0)
            return rc;
        *changed |= rows[i].changed;
    }
    return 0;
}

import_state *import_begin(const resource_spec *r, bool csv, record_ctx base, const import_sink *ops, void *sink)
{
    import_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->r = r;
    st->csv = csv;
    st->base = base;
    st->ops = ops;
    st->sink = sink;
    st->line = st->record_line = 1;
    st->fields = calloc(MAX_COLUMNS + 1, sizeof *st->fields);
    st->arenas[0] = yw_arena_new(65536);
    st->arenas[1] = yw_arena_new(65536);
    st->errors = json_array();
    st->items = json_array();
    if (!st->fields) {
        import_free(st);
        return NULL;
    }
    return st;
}

void import_feed(import_state *st, const char *data, size_t len)
{
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
        csv_bytes(st, data, len);
    else
        ndjson_bytes(st, data, len);
}

int import_finish(import_state *st)
{
    if (st->csv && (st->field.len || st->nfields || st->state != FIELD_START)) {
        if (st->state == QUOTED) {
            reject(st, st->record_line, NULL, "a quoted field is not closed");
        } else {
            end_field(st);
            csv_record(st);
        }
        clear_fields(st);
    } else if (!st->csv && st->text.len) {
        ndjson_line(st);
    }
    if (!st->failure[0] && st->csv && !st->header_done)
        fail(st, 0, "the CSV has no header row naming the items");
    flush(st);
    settle(st, 1 - st->cur); /* the last batch */
    return st->failure[0] ? -1 : 0;
}

const char *import_failure(const import_state *st, int *rc)
{
    *rc = st->failure_rc;
    return st->failure[0] ? st->failure : NULL;
}

json_t *import_items(const import_state *st)
{
    return st->items;
}

void import_progress(const import_state *st, int64_t *rows, int64_t *rejected)
{
    *rows = st->accepted + st->unchanged + st->rejected + st->nbatch + st->sizes[0] + st->sizes[1];
    *rejected = st->rejected;
}

json_t *import_report(const import_state *st)
{
    return json_pack("{s:I, s:I, s:I, s:O, s:b}", "accepted", (json_int_t)st->accepted, "unchanged",
                     (json_int_t)st->unchanged, "rejected", (json_int_t)st->rejected, "errors", st->errors,
                     "errors_truncated", st->rejected > (int64_t)json_array_size(st->errors));
}

void import_free(import_state *st)
{
    if (!st)
        return;
    clear_fields(st);
    free(st->fields);
    yw_buf_free(&st->field);
    yw_buf_free(&st->text);
    /* a batch still in flight must land before its memory goes */
    for (int slot = 0; slot < 2; slot++)
        if (st->sizes[slot])
            st->ops->wait(st->sink, slot);
    yw_arena_free(st->arenas[0]);
    yw_arena_free(st->arenas[1]);
    json_decref(st->errors);
    json_decref(st->items);
    free(st);
}
