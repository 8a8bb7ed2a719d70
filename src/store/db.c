/*
 * Backend-neutral wrappers of db.h: URL dispatch, argument binding from a
 * format string, and the migration runner.
 */
#include "store/db.h"

#include "core/error.h"
#include "core/time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const yw_db_backend yw_db_sqlite;

static const yw_db_backend *const backends[] = {&yw_db_sqlite};

struct yw_db {
    const yw_db_backend *ops;
    void *impl;
    const char *deferred; /* yw_db_defer: runs before the next statement */
};

int yw_db_open(const char *url, int flags, yw_db **out, char *err, size_t errlen)
{
    const yw_db_backend *ops = &yw_db_sqlite; /* a bare path is a SQLite file */
    const char *target = url;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        size_t n = strlen(backends[i]->scheme);
        if (strncmp(url, backends[i]->scheme, n) == 0 && url[n] == ':') {
            ops = backends[i];
            target = url + n + 1;
        }
    }
    if (strncmp(url, "postgres", 8) == 0 && ops == &yw_db_sqlite && target == url) {
        snprintf(err, errlen, "this build has no PostgreSQL backend");
        return YW_EINVAL;
    }
    void *impl;
    int rc = ops->open(target, flags, &impl, err, errlen);
    if (rc < 0)
        return rc;
    yw_db *db = calloc(1, sizeof *db);
    if (!db) {
        ops->close(impl);
        return YW_ENOMEM;
    }
    db->ops = ops;
    db->impl = impl;
    *out = db;
    return 0;
}

void yw_db_close(yw_db *db)
{
    if (!db)
        return;
    db->ops->close(db->impl);
    free(db);
}

const char *yw_db_errmsg(yw_db *db)
{
    return db->ops->errmsg(db->impl);
}

void yw_db_watch(yw_db *db, void (*fn)(void *ctx, const char *table), void *ctx)
{
    db->ops->watch(db->impl, fn, ctx);
}

void yw_db_defer(yw_db *db, const char *sql)
{
    db->deferred = sql;
}

bool yw_db_drop_deferred(yw_db *db)
{
    bool pending = db->deferred != NULL;
    db->deferred = NULL;
    return pending;
}

/* Runs what yw_db_defer left, before the statement that needs it; 0 or its failure. */
static int run_deferred(yw_db *db)
{
    const char *sql = db->deferred;
    db->deferred = NULL;
    return sql ? db->ops->exec(db->impl, sql) : 0;
}

int yw_db_exec(yw_db *db, const char *sql)
{
    int rc = run_deferred(db);
    return rc < 0 ? rc : db->ops->exec(db->impl, sql);
}

int yw_db_begin(yw_db *db)
{
    return db->ops->exec(db->impl, "BEGIN IMMEDIATE");
}

int yw_db_commit(yw_db *db)
{
    return db->ops->exec(db->impl, "COMMIT");
}

int yw_db_rollback(yw_db *db)
{
    return db->ops->exec(db->impl, "ROLLBACK");
}

static int bind_args(yw_stmt *s, const char *fmt, va_list ap)
{
    const yw_db_backend *ops = s->ops;
    int rc = 0;
    for (int idx = 1; *fmt && rc == 0; fmt++, idx++) {
        switch (*fmt) {
        case 't': {
            const char *v = va_arg(ap, const char *);
            rc = v ? ops->bind_text(s, idx, v, strlen(v)) : ops->bind_null(s, idx);
            break;
        }
        case 'i': rc = ops->bind_int(s, idx, va_arg(ap, int64_t)); break;
        case 'd': rc = ops->bind_double(s, idx, va_arg(ap, double)); break;
        case 'b': {
            const void *v = va_arg(ap, const void *);
            size_t len = va_arg(ap, size_t);
            rc = ops->bind_blob(s, idx, v, len);
            break;
        }
        case 'n': rc = ops->bind_null(s, idx); break;
        default: rc = YW_EINVAL; break;
        }
    }
    return rc;
}

static int vquery(yw_db *db, yw_stmt **out, const char *sql, const char *fmt, va_list ap)
{
    yw_stmt *s;
    int rc = run_deferred(db);
    if (rc < 0)
        return rc;
    rc = db->ops->prepare(db->impl, sql, &s);
    if (rc < 0)
        return rc;
    s->ops = db->ops;
    s->db = db;
    rc = bind_args(s, fmt, ap);
    if (rc < 0) {
        db->ops->release(s);
        return rc;
    }
    *out = s;
    return 0;
}

int yw_db_prepare(yw_db *db, yw_stmt **out, const char *sql)
{
    int rc = run_deferred(db);
    if (rc < 0)
        return rc;
    rc = db->ops->prepare(db->impl, sql, out);
    if (rc == 0) {
        (*out)->ops = db->ops;
        (*out)->db = db;
    }
    return rc;
}

int yw_stmt_bind_text(yw_stmt *s, int idx, const char *v)
{
    return v ? s->ops->bind_text(s, idx, v, strlen(v)) : s->ops->bind_null(s, idx);
}

int yw_stmt_bind_int(yw_stmt *s, int idx, int64_t v)
{
    return s->ops->bind_int(s, idx, v);
}

int yw_db_query(yw_db *db, yw_stmt **out, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vquery(db, out, sql, fmt, ap);
    va_end(ap);
    return rc;
}

int yw_db_run(yw_db *db, const char *sql, const char *fmt, ...)
{
    yw_stmt *s;
    va_list ap;
    va_start(ap, fmt);
    int rc = vquery(db, &s, sql, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return rc;
    while ((rc = s->ops->step(s)) == YW_DB_ROW)
        ;
    s->ops->release(s);
    if (rc < 0)
        return rc;
    return (int)db->ops->changes(db->impl);
}

int yw_db_int(yw_db *db, int64_t *out, const char *sql, const char *fmt, ...)
{
    yw_stmt *s;
    va_list ap;
    va_start(ap, fmt);
    int rc = vquery(db, &s, sql, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return rc;
    rc = s->ops->step(s);
    if (rc == YW_DB_ROW)
        *out = s->ops->column_int(s, 0);
    s->ops->release(s);
    return rc;
}

int yw_stmt_step(yw_stmt *s) { return s->ops->step(s); }
const char *yw_stmt_text(yw_stmt *s, int col) { return s->ops->column_text(s, col); }
int64_t yw_stmt_int(yw_stmt *s, int col) { return s->ops->column_int(s, col); }
double yw_stmt_double(yw_stmt *s, int col) { return s->ops->column_double(s, col); }
const void *yw_stmt_blob(yw_stmt *s, int col, size_t *len) { return s->ops->column_blob(s, col, len); }
bool yw_stmt_is_null(yw_stmt *s, int col) { return s->ops->column_is_null(s, col); }
void yw_stmt_release(yw_stmt *s) { if (s) s->ops->release(s); }
int64_t yw_db_changes(yw_db *db) { return db->ops->changes(db->impl); }
bool yw_db_in_transaction(yw_db *db) { return db->ops->in_transaction(db->impl); }

int yw_db_migrate(yw_db *db, char *err, size_t errlen)
{
    int rc = yw_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    if (rc < 0) {
        snprintf(err, errlen, "creating schema_migrations: %s", yw_db_errmsg(db));
        return rc;
    }
    for (const yw_migration *m = db->ops->migrations; m->sql; m++) {
        int64_t applied = 0;
        rc = yw_db_int(db, &applied, "SELECT 1 FROM schema_migrations WHERE version = $1", "i",
                       (int64_t)m->version);
        if (rc < 0)
            break;
        if (rc == YW_DB_ROW)
            continue;
        if ((rc = yw_db_begin(db)) < 0)
            break;
        if ((rc = yw_db_exec(db, m->sql)) < 0 ||
            (rc = yw_db_run(db, "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)",
                            "iti", (int64_t)m->version, m->name, yw_now_ms())) < 0) {
            snprintf(err, errlen, "migration %d (%s): %s", m->version, m->name, yw_db_errmsg(db));
            yw_db_rollback(db);
            return rc;
        }
        if ((rc = yw_db_commit(db)) < 0)
            break;
    }
    if (rc < 0) {
        snprintf(err, errlen, "migrations: %s", yw_db_errmsg(db));
        return rc;
    }
    return 0;
}
