/*
 * What the catalog offers other modules (the demo city, later the sharing
 * module): keeping a resource's search row in step with its metadata.
 */
#ifndef YW_CATALOG_CATALOG_H
#define YW_CATALOG_CATALOG_H

#include "store/db.h"

/* Rewrites the full-text row of resource code from its stored metadata. Writer thread; 0 or < 0. */
int yw_catalog_index_resource(yw_db *db, const char *code);

#endif
