/*
 * The store a server runs on: the migrated database, its single writer and
 * one read connection per thread (opened on first use, closed when the
 * thread exits). Readers see every write the writer has committed.
 */
#ifndef YW_STORE_STORE_H
#define YW_STORE_STORE_H

#include <stddef.h>

#include "store/db.h"
#include "store/writer.h"

typedef struct yw_store yw_store;

/*
 * Opens url, applies migrations, starts the writer. db_flags, 0 or
 * YW_DB_EXCLUSIVE, applies to every connection. NULL with a message on err.
 */
yw_store *yw_store_open(const char *url, int db_flags, char *err, size_t errlen);
/* Stops the writer (flushing it) and closes every connection. */
void yw_store_close(yw_store *s);

yw_writer *yw_store_writer(yw_store *s);
/* This thread's read connection, or NULL when it cannot be opened. */
yw_db *yw_store_reader(yw_store *s);

/*
 * Writes the database as of one moment to path, a new file (VACUUM INTO on
 * a connection of its own: writers go on meanwhile), and syncs it. Takes
 * as long as the copy does: call it off the request threads. On failure
 * path may hold part of a copy; err says why.
 */
int yw_store_copy(yw_store *s, const char *path, char *err, size_t errlen);

#endif
