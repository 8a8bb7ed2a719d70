/*
 * The database interface every domain module uses.
 *
 * A yw_db is one connection to a backend chosen by URL ("sqlite:PATH" or a
 * bare path; "postgres://..." once that backend exists). Backends implement
 * yw_db_backend, a table of function pointers, and this file's functions
 * are thin wrappers over it — the SQLite VFS pattern — so domain code never
 * names a backend.
 *
 * SQL is written with numbered parameters $1, $2, ... which both SQLite and
 * PostgreSQL understand. yw_db_query prepares (statements are cached per
 * connection, keyed by their text) and binds in one call; the format string
 * names each argument's type:
 *
 *   't'  const char *        text; NULL binds SQL NULL
 *   'i'  int64_t             integer
 *   'd'  double
 *   'b'  const void *, size_t   blob
 *   'n'  (no argument)       NULL
 *
 * Status convention: 0 or a negative YW_E* code; yw_db_errmsg tells more.
 * A connection is used by one thread at a time.
 */
#ifndef YW_STORE_DB_H
#define YW_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct yw_db yw_db;
typedef struct yw_stmt yw_stmt;

enum { YW_DB_DONE = 0, YW_DB_ROW = 1 };

enum {
    YW_DB_READONLY = 1 << 0, /* a reader: refuses writes */
    YW_DB_CREATE = 1 << 1,   /* create the database when missing */
    /* the write-ahead log is copied back to the database by a thread of its own, not in this connection's commits */
    YW_DB_BACKGROUND_CHECKPOINTS = 1 << 2,
    /*
     * This process alone opens the database, while any connection of it is
     * open: no other process can read it meanwhile (sqlite3, yiwang audit
     * verify), and its connections skip the file locks between processes
     * (SQLite's "unix-excl"; the log's index lives in memory). Every
     * connection of the process must say so alike.
     */
    YW_DB_EXCLUSIVE = 1 << 3,
};

typedef struct {
    int version;
    const char *name;
    const char *sql;
} yw_migration;

/* The backend table; one per file (db_sqlite.c, ...). */
typedef struct {
    const char *scheme;
    int (*open)(const char *target, int flags, void **impl, char *err, size_t errlen);
    void (*close)(void *impl);
    const char *(*errmsg)(void *impl);
    int (*exec)(void *impl, const char *sql);
    int (*prepare)(void *impl, const char *sql, yw_stmt **out);
    int (*bind_text)(yw_stmt *s, int idx, const char *v, size_t len);
    int (*bind_int)(yw_stmt *s, int idx, int64_t v);
    int (*bind_double)(yw_stmt *s, int idx, double v);
    int (*bind_blob)(yw_stmt *s, int idx, const void *v, size_t len);
    int (*bind_null)(yw_stmt *s, int idx);
    int (*step)(yw_stmt *s);
    const char *(*column_text)(yw_stmt *s, int col);
    int64_t (*column_int)(yw_stmt *s, int col);
    double (*column_double)(yw_stmt *s, int col);
    const void *(*column_blob)(yw_stmt *s, int col, size_t *len);
    bool (*column_is_null)(yw_stmt *s, int col);
    void (*release)(yw_stmt *s); /* reset and return to the cache */
    int64_t (*changes)(void *impl);
    bool (*in_transaction)(void *impl);
    /* fn(ctx, table) for each row this connection inserts, updates or deletes (rowid tables) */
    void (*watch)(void *impl, void (*fn)(void *ctx, const char *table), void *ctx);
    const yw_migration *migrations; /* in version order, ended by {0} */
} yw_db_backend;

/* Opens url; on failure returns a negative code and a message in err. */
int yw_db_open(const char *url, int flags, yw_db **out, char *err, size_t errlen);
void yw_db_close(yw_db *db);
const char *yw_db_errmsg(yw_db *db);

/* Runs one or more statements without parameters. */
int yw_db_exec(yw_db *db, const char *sql);
int yw_db_begin(yw_db *db);    /* takes the write lock at once */
int yw_db_commit(yw_db *db);
int yw_db_rollback(yw_db *db);

/*
 * Runs sql (one statement without parameters, kept by the caller) just
 * before the next statement on db: work that may need none skips it.
 * yw_db_drop_deferred forgets it and tells whether it was still waiting.
 */
void yw_db_defer(yw_db *db, const char *sql);
bool yw_db_drop_deferred(yw_db *db);

/*
 * Prepares sql and binds the arguments described by fmt. On success *out
 * is ready to step; give it back with yw_stmt_release.
 */
int yw_db_query(yw_db *db, yw_stmt **out, const char *sql, const char *fmt, ...);

/*
 * Prepares sql without binding, for statements built at run time with a
 * varying number of parameters; bind with yw_stmt_bind_* ($idx), then step.
 */
int yw_db_prepare(yw_db *db, yw_stmt **out, const char *sql);
int yw_stmt_bind_text(yw_stmt *s, int idx, const char *v); /* NULL binds NULL */
int yw_stmt_bind_int(yw_stmt *s, int idx, int64_t v);

/* Runs a statement that returns no rows; returns rows changed or < 0. */
int yw_db_run(yw_db *db, const char *sql, const char *fmt, ...);

/*
 * Runs a query expected to return at most one row and copies its first
 * column as an integer into *out. Returns 1 when a row was found, 0 when
 * none, < 0 on error.
 */
int yw_db_int(yw_db *db, int64_t *out, const char *sql, const char *fmt, ...);

int yw_stmt_step(yw_stmt *s); /* YW_DB_ROW, YW_DB_DONE or < 0 */
/* Column values stay valid until the next step or release. */
const char *yw_stmt_text(yw_stmt *s, int col); /* NULL for SQL NULL */
int64_t yw_stmt_int(yw_stmt *s, int col);
double yw_stmt_double(yw_stmt *s, int col);
const void *yw_stmt_blob(yw_stmt *s, int col, size_t *len);
bool yw_stmt_is_null(yw_stmt *s, int col);
void yw_stmt_release(yw_stmt *s);

/* Rows changed by the last statement. */
int64_t yw_db_changes(yw_db *db);

/* True while a transaction is open (some errors end one on their own). */
bool yw_db_in_transaction(yw_db *db);
/*
 * Calls fn(ctx, table) for each row this connection changes, as it changes
 * it (before the commit; rows of WITHOUT ROWID tables are not reported).
 */
void yw_db_watch(yw_db *db, void (*fn)(void *ctx, const char *table), void *ctx);

/*
 * Applies the backend's numbered migrations that are not yet recorded in
 * schema_migrations, each in its own transaction. Returns 0 or < 0 with a
 * message in err.
 */
int yw_db_migrate(yw_db *db, char *err, size_t errlen);

/* Every statement handle starts with this header so wrappers can reach the backend. */
struct yw_stmt {
    const yw_db_backend *ops;
    yw_db *db;
};

#endif
