/*
 * What the catalog offers other modules (the demo city, the sharing
 * module) and the search benchmark: keeping a resource's search row and the
 * query indexes of its records in step with its metadata, and searching the
 * catalog as GET /api/v1/resources?q= does.
 */
#ifndef YW_CATALOG_CATALOG_H
#define YW_CATALOG_CATALOG_H

#include <jansson.h>
#include <stdbool.h>

#include "store/db.h"

/*
 * Rewrites the full-text row of resource code from its stored metadata, and
 * brings the query indexes of its records in step (yw_catalog_sync_indexes).
 * Writer thread; 0 or < 0.
 */
int yw_catalog_index_resource(yw_db *db, const char *code);

#define YW_CATALOG_INDEX_NAME 160

/*
 * Query indexes (src/catalog/indexes.c): one partial expression index over
 * the records of resource code for each item marked "indexed". Creates the
 * missing ones and drops those no longer marked. Writer thread; 0 or < 0.
 */
int yw_catalog_sync_indexes(yw_db *db, const char *code);

/* True when records of code can be filtered on item through an index. */
bool yw_catalog_item_indexed(yw_db *db, const char *code, const char *item);

/* The name of the index of item over the records of code, in out; NULL when too long. */
const char *yw_catalog_index_name(const char *code, const char *item, char out[YW_CATALOG_INDEX_NAME]);


/* A catalog search: what GET /api/v1/resources?q= asks. Every pointer is borrowed for the call. */
typedef struct {
    const char *text;       /* whitespace-separated terms; a resource must contain each one */
    const char *viewer_org; /* also finds this org's drafts and retired resources; NULL: published ones only */
    const char *status, *category, *share_type, *format, *provider; /* filters; NULL: any */
    const char *after;      /* the previous page's next cursor (decoded); NULL: the first page */
    int limit;              /* results per page, at least 1 */
} yw_catalog_search_query;

/*
 * Appends one page of results, best first, to items (resource objects as
 * GET /api/v1/resources/{code} shows them) and sets *next to the cursor of
 * the following page (malloc'd, the caller frees it), NULL after the last.
 * Returns 0, YW_EINVAL when text has no term, YW_ERANGE when after is not a
 * cursor this function made, or < 0 on a store error. Any thread, with its
 * own connection.
 */
int yw_catalog_search(yw_db *db, const yw_catalog_search_query *q, json_t *items, char **next);

#endif
