/* The SQLite VFS of reader connections: the database file stays mapped across commits (sqlite_map.c). */
#ifndef YW_STORE_SQLITE_MAP_H
#define YW_STORE_SQLITE_MAP_H

#include <sqlite3.h>

#define YW_SQLITE_MAP_VFS "yiwang-map"

/* Registers the VFS once; its name, or NULL when SQLite has no default VFS to build on. */
const char *yw_sqlite_map_vfs(void);

#endif
