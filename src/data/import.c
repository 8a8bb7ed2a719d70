/*
 * Importing many records: the parser and batcher behind both
 * POST /api/v1/resources/{code}/records:import (import_http.c) and
 * yiwang import (src/cli/import.c).
 *
 * The input (CSV whose header row names items or data elements, or NDJSON
 * with one JSON object per line) is fed in pieces as it arrives: rows are
 * parsed, checked like single writes, and the good ones handed to the
 * caller's commit function in batches of 500 rows growing to IMPORT_BATCH
 * (import.h), so a file of any size imports in constant memory. The report gives the counts and, for the
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
#include "core/time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define MAX_ERRORS 1000
#define MAX_SEEN (1u << 22) /* 32 MB of key hashes: 2 million keys are marked, the rest are looked up */
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
    /* CSV: the fields of the row being read, one after the other in row, each ended by a NUL */
    csv_state state;
    yw_buf row;
    size_t field_start;                 /* where the field being read begins in row */
    size_t starts[MAX_COLUMNS + 1];     /* where each complete field begins */
    size_t nfields;
    given_value given[MAX_COLUMNS];
    const item_spec *columns[MAX_COLUMNS];
    size_t ncolumns;
    bool header_done;
    /* NDJSON */
    yw_buf text;
    record_scratch scratch; /* buffers reused by every row's preparation */
    /* two batches: one prepared (slot cur) while the other commits; each in its own arena */
    yw_arena *arenas[2];
    record_write batches[2][IMPORT_BATCH];
    int sizes[2];    /* rows of a batch in flight, 0 when none */
    int cur, nbatch; /* the slot being prepared and its rows */
    int batch_rows;  /* the size of the batch being prepared */
    /* a first load (import_fresh): the keys seen, as 64-bit hashes in an open-addressed set */
    import_fresh fresh; /* the writer's; read only between batches */
    bool marking;       /* rows are still marked surely_new */
    uint64_t *seen;
    size_t seen_cap, seen_count;
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
    st->marking = st->marking && st->fresh.on; /* the writer is done with it */
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
    st->ops->submit(st->sink, st->cur, st->batches[st->cur], st->nbatch, &st->fresh);
    st->sizes[st->cur] = st->nbatch;
    st->cur = other;
    st->nbatch = 0;
    st->batch_rows = st->batch_rows * 2 < IMPORT_BATCH ? st->batch_rows * 2 : IMPORT_BATCH;
}

/* Where the next row is prepared: the current batch, in its arena (freed once the batch is committed). */
static record_ctx batch_ctx(import_state *st)
{
    record_ctx ctx = st->base;
    ctx.arena = st->arenas[st->cur];
    ctx.scratch = &st->scratch;
    return ctx;
}

/* FNV-1a, never 0 (the empty slot). */
static uint64_t key_hash(const char *key)
{
    uint64_t h = 14695981039346656037ull;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ull;
    return h ? h : 1;
}

/* Adds key to the seen set: true when it was not there (nor anything of the same hash). */
static bool first_sight(import_state *st, const char *key)
{
    if (st->seen_count + 1 > st->seen_cap / 2) { /* grow, rehashing what is there */
        size_t cap = st->seen_cap ? st->seen_cap * 2 : 1 << 16;
        uint64_t *slots = cap <= MAX_SEEN ? calloc(cap, sizeof *slots) : NULL;
        if (!slots) {
            st->marking = false; /* from now on every key is looked up */
            return false;
        }
        for (size_t i = 0; i < st->seen_cap; i++)
            for (size_t k = st->seen[i] & (cap - 1); st->seen[i]; k = (k + 1) & (cap - 1))
                if (!slots[k]) {
                    slots[k] = st->seen[i];
                    break;
                }
        free(st->seen);
        st->seen = slots;
        st->seen_cap = cap;
    }
    uint64_t h = key_hash(key);
    size_t k = h & (st->seen_cap - 1);
    for (; st->seen[k]; k = (k + 1) & (st->seen_cap - 1))
        if (st->seen[k] == h)
            return false;
    st->seen[k] = h;
    st->seen_count++;
    return true;
}

/* A row was prepared into the batch (why NULL), or is reported. */
static void take_row(import_state *st, int64_t line, const char *why, const char *item)
{
    if (why) {
        reject(st, line, item, why);
        return;
    }
    record_write *w = &st->batches[st->cur][st->nbatch];
    w->surely_new = st->marking && first_sight(st, w->key_index);
    if (++st->nbatch == st->batch_rows)
        flush(st);
}

/* A CSV record is complete: the header, or a row. */
static void csv_record(import_state *st)
{
    if (st->nfields == 1 && st->row.data[st->starts[0]] == '\0')
        return; /* a blank line */
    if (!st->header_done) {
        char *fields[MAX_COLUMNS + 1];
        for (size_t c = 0; c < st->nfields; c++)
            fields[c] = st->row.data + st->starts[c];
        if (st->nfields > MAX_COLUMNS) {
            fail(st, 0, "the header has more than %d columns", MAX_COLUMNS);
            return;
        }
        bool has_key = false;
        for (size_t c = 0; c < st->nfields; c++) {
            const char *name = fields[c];
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
    size_t n = 0;
    const char *key = NULL;
    for (size_t c = 0; c < st->ncolumns; c++) {
        const char *field = st->row.data + st->starts[c];
        if (!field[0])
            continue; /* an empty field leaves the item out */
        int item = (int)(st->columns[c] - st->r->items);
        st->given[n++] = (given_value){.name = st->columns[c]->name, .item = item, .kind = VALUE_STRING, .text = field};
        if (item == st->r->key)
            key = field;
    }
    if (!key) {
        take_row(st, st->record_line, "is missing", st->r->key_item);
        return;
    }
    record_ctx ctx = batch_ctx(st);
    const char *item = NULL;
    const char *why = prepare_values(&ctx, st->r, key, st->given, n, &st->batches[st->cur][st->nbatch], &item);
    take_row(st, st->record_line, why, item);
}

/* The field being read is complete: it ends with a NUL in row (fields past the limit are dropped). */
static void end_field(import_state *st)
{
    if (st->nfields < MAX_COLUMNS + 1) {
        yw_buf_append(&st->row, "", 1);
        st->starts[st->nfields++] = st->field_start;
    } else {
        st->row.len = st->field_start;
    }
    st->field_start = st->row.len;
}

static void clear_fields(import_state *st)
{
    yw_buf_reset(&st->row);
    st->field_start = 0;
    st->nfields = 0;
}

/* Appends a run of field bytes; false (and the import stops) when the field grows past the limit. */
static bool field_bytes(import_state *st, const char *data, size_t len)
{
    yw_buf_append(&st->row, data, len);
    if (st->row.len - st->field_start <= MAX_LINE)
        return true;
    fail(st, 0, "line %lld: a field longer than 1 MiB", (long long)st->line);
    return false;
}

/* The CSV state machine, taking runs of plain bytes at once. */
static void csv_bytes(import_state *st, const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && !st->failure[0]) {
        switch (st->state) {
        case QUOTED: {
            size_t j = i;
            while (j < len && data[j] != '"' && data[j] != '\n')
                j++;
            if (!field_bytes(st, data + i, j - i) || j == len)
                return;
            if (data[j] == '\n') {
                st->line++;
                field_bytes(st, "\n", 1);
            } else {
                st->state = QUOTE_IN_QUOTED;
            }
            i = j + 1;
            continue;
        }
        case QUOTE_IN_QUOTED:
            if (data[i] == '"') { /* a doubled quote is one quote */
                field_bytes(st, "\"", 1);
                st->state = QUOTED;
                i++;
                continue;
            }
            st->state = UNQUOTED; /* the closing quote; what follows is read below */
            break;
        case FIELD_START:
            if (data[i] == '"') {
                st->state = QUOTED;
                i++;
                continue;
            }
            st->state = UNQUOTED;
            break;
        case UNQUOTED: break;
        }
        size_t j = i;
        while (j < len && data[j] != ',' && data[j] != '\n' && data[j] != '\r')
            j++;
        if (!field_bytes(st, data + i, j - i) || j == len)
            return;
        i = j + 1;
        if (data[j] == ',') {
            end_field(st);
            st->state = FIELD_START;
        } else if (data[j] == '\n') {
            end_field(st);
            csv_record(st);
            clear_fields(st);
            st->state = FIELD_START;
            st->line++;
            st->record_line = st->line;
        } /* a carriage return outside quotes is dropped */
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
    const char *item = st->r->key_item, *why = "is missing";
    if (json_is_string(k)) {
        record_ctx ctx = batch_ctx(st);
        why = prepare_record(&ctx, st->r, json_string_value(k), obj, &st->batches[st->cur][st->nbatch], &item);
    }
    take_row(st, st->line, why, item); /* item may point into obj: report before letting it go */
    json_decref(obj);
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

/*
 * A bulk load mostly brings keys the resource does not have yet: a row
 * whose key is not there goes in as version 1 at once; only a key already
 * there takes the way of single writes (compare, keep the old version in
 * the history, replace). The change sequence is
 * read once per batch and counted on from there.
 */
int import_store_rows(yw_db *db, record_write *rows, int n, import_fresh *fresh, bool *changed)
{
    *changed = false;
    if (n == 0)
        return 0;
    int64_t seq = 0, now = yw_now_ms();
    int rc = yw_db_int(db, &seq, "SELECT coalesce(max(seq), 0) FROM record_changes WHERE resource = $1", "t",
                       rows[0].resource);
    /* the marks hold while nobody but this import wrote to the resource */
    bool trust_marks = fresh && fresh->on && rc >= 0 && seq == fresh->seq;
    for (int i = 0; rc >= 0 && i < n; i++) {
        record_write *w = &rows[i];
        int64_t found = 0;
        rc = trust_marks && w->surely_new
                 ? YW_DB_DONE
                 : yw_db_int(db, &found, "SELECT 1 FROM records WHERE " RECORD_OF_KEY, "tt", w->resource, w->key_index);
        if (rc == YW_DB_DONE)
            rc = yw_db_run(db,
                           "INSERT INTO records(resource, key_index, key_hash, version, data, hash, deleted, source, updated_at)"
                           " VALUES ($1, $2, yw_key_hash($2), 1, $3, $4, 0, $5, $6)",
                           "ttttti", w->resource, w->key_index, w->data, w->hash, w->source, now);
        else if (rc == YW_DB_ROW)
            rc = 0;
        if (rc == 1) {
            *w = (record_write){.resource = w->resource, .key_index = w->key_index, .source = w->source, .data = w->data,
                                .hash = w->hash, .version = 1, .created = true, .changed = true, .updated_at = now};
            rc = yw_db_run(db,
                           "INSERT INTO record_changes(resource, seq, key_index, version, deleted, changed_at)"
                           " VALUES ($1, $2, $3, 1, 0, $4)",
                           "titi", w->resource, ++seq, w->key_index, now);
        } else if (rc == 0) {
            rc = record_job(db, w);
            seq += w->changed;
        }
        *changed |= w->changed;
    }
    if (fresh) {
        fresh->on = trust_marks && rc >= 0;
        fresh->seq = seq;
    }
    return rc < 0 ? rc : 0;
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
    st->batch_rows = IMPORT_FIRST_BATCH;
    st->fresh = (import_fresh){.on = true, .seq = 0}; /* the writer checks it on the first batch */
    st->marking = true;
    st->arenas[0] = yw_arena_new(65536);
    st->arenas[1] = yw_arena_new(65536);
    st->errors = json_array();
    st->items = json_array();
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
    if (st->csv && (st->row.len || st->nfields || st->state != FIELD_START)) {
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
    yw_buf_wipe(&st->row); /* rows in clear */
    yw_buf_wipe(&st->text);
    yw_buf_wipe(&st->scratch.plain);
    yw_buf_free(&st->scratch.stored);
    free(st->seen);
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
