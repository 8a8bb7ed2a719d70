/*
 * The record importer, independent of where the bytes come from (an HTTP
 * body, a local file). See import.c.
 *
 *   st = import_begin(resource, csv?, context, commit, sink);
 *   import_feed(st, piece, len) ... as the input arrives
 *   import_finish(st);             the last row and batch
 *   import_report(st);             {accepted, unchanged, rejected, errors, errors_truncated}
 *   import_free(st);
 *
 * The sink stores batches of prepared rows durably, with their audit entry:
 * submit(sink, slot, rows, n) queues one and returns, wait(sink, slot)
 * returns 0 once it is stored, or < 0 to stop the import. Two slots
 * alternate, so the next batch is parsed and prepared while one commits.
 */
#ifndef YW_DATA_IMPORT_H
#define YW_DATA_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "data/record.h"

/*
 * Batches grow: the first has IMPORT_FIRST_BATCH rows, each next one twice
 * as many, up to IMPORT_BATCH. A small import lands at once; a large one
 * commits few large transactions. Keys arrive in no order, so a batch
 * touches pages all over the key index, and every page it touched is
 * written to the log at its commit: 30,000 rows per batch write each page
 * for many rows, where 10,000 wrote about 2 KB of index per row. Two
 * batches are in memory at once (one prepared while the other commits):
 * about 70 MB at this size, within an import's 200 MB.
 */
#define IMPORT_FIRST_BATCH 500
#define IMPORT_BATCH 30000

/*
 * A first load: into a resource that never held a record, a key this
 * import has not seen before cannot exist yet, so its row is stored
 * without looking for an older version (rows marked surely_new). The
 * writer trusts the marks only while the resource's change sequence stands
 * where this import left it (seq): nobody else wrote to it meanwhile.
 * Written by the writer job of each batch, read between batches.
 */
typedef struct {
    bool on;
    int64_t seq;
} import_fresh;

typedef struct import_state import_state;
typedef struct {
    /* fresh goes to import_store_rows with the rows */
    void (*submit)(void *sink, int slot, record_write *rows, int n, import_fresh *fresh);
    int (*wait)(void *sink, int slot);
} import_sink;

/* r, base and sink must outlive the import. NULL when out of memory. */
import_state *import_begin(const resource_spec *r, bool csv, record_ctx base, const import_sink *ops, void *sink);
void import_feed(import_state *st, const char *data, size_t len);
/* 0, or -1 when the import stopped (see import_failure). */
int import_finish(import_state *st);
/* Why the import stopped, or NULL; *rc is 0 for bad input, < 0 when the store failed. */
const char *import_failure(const import_state *st, int *rc);
/* The item names seen so far (owned by st), for audit entries. */
json_t *import_items(const import_state *st);
/* Rows read so far, and how many were rejected. */
void import_progress(const import_state *st, int64_t *rows, int64_t *rejected);
/* The report (new reference). */
json_t *import_report(const import_state *st);
void import_free(import_state *st);

/* Writer job storing n prepared rows; sets *changed when any record changed. For commit functions. */
int import_store_rows(yw_db *db, record_write *rows, int n, import_fresh *fresh, bool *changed);

#endif
