/*
 * What the catalog offers other modules (the demo city, the sharing
 * module): keeping a resource's search row and the query indexes of its
 * records in step with its metadata.
 */
#ifndef YW_CATALOG_CATALOG_H
#define YW_CATALOG_CATALOG_H

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

#endif
