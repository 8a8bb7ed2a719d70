/* The SQLite VFS of reader connections: the database file stays mapped across commits (sqlite_map.c). */
#ifndef YW_STORE_SQLITE_MAP_H
#define YW_STORE_SQLITE_MAP_H

#include <sqlite3.h>
#include <stdbool.h>

#define YW_SQLITE_MAP_VFS "yiwang-map"

/*
 * Registers the VFS once; its name, or NULL when SQLite lacks the VFS it
 * builds on: "unix", or "unix-excl" when exclusive (the process holds the
 * database alone: see YW_DB_EXCLUSIVE).
 */
const char *yw_sqlite_map_vfs(bool exclusive);

#endif
