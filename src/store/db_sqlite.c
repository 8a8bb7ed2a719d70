/*
 * SQLite backend of db.h.
 *
 * Connections run in WAL mode with foreign keys on and synchronous=FULL, so
 * a committed transaction survives power loss; readers never block the
 * writer. Prepared statements are cached per connection in a small hash
 * table keyed by SQL text: handlers prepare the same statements on every
 * request, and preparing is the dominant cost of a point query. Some texts
 * are made at run time (a filter's shape, a resource's code), so the cache
 * keeps CACHE_MAX of them and lets the least recently used idle one go.
 *
 * Parameters are written $1..$n; SQLite treats "$1" as a named parameter
 * numbered by first appearance, so each statement keeps a map from the
 * number in its name to SQLite's index.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and friends: no per-call lookup */
#include "store/db.h"

#include "core/error.h"
#include "core/log.h"
#include "store/fts_cjk.h"
#include "store/sqlite_map.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 128
#define CACHE_MAX 512 /* statements kept per connection */

typedef struct sqlite_stmt {
    yw_stmt base;
    sqlite3_stmt *stmt;
    struct sqlite_conn *conn;
    char *sql;
    int *param_map; /* param_map[n] = SQLite index of $n, 0 when unused */
    int nparams;    /* highest $n */
    int in_use;
    int cached;
    unsigned bucket;
    struct sqlite_stmt *next;           /* in its bucket */
    struct sqlite_stmt *newer, *older;  /* in the cache's order of use */
} sqlite_stmt;

typedef struct {
    void (*fn)(void *ctx, const char *table);
    void *ctx;
} watcher;

/*
 * Checkpoints off the committing thread (YW_DB_BACKGROUND_CHECKPOINTS):
 * SQLite's automatic checkpoint runs inside the commit that crosses its
 * threshold, so the writer would stop to copy the log back to the
 * database and sync it. Instead the commit only tells this thread, whose
 * own connection does a PASSIVE checkpoint (never waiting for readers or
 * the writer) while the writer goes on.
 *
 * The log starts over only when a write begins with every frame copied
 * back, which a busy writer never sees: frames keep coming while this
 * thread copies. So a log grown to CHECKPOINT_IN_COMMIT_FRAMES is
 * checkpointed by the commit itself, as SQLite would: by then this thread
 * has copied nearly all of it, and the next write starts the log over.
 */
#define CHECKPOINT_BYTES (4 << 20)            /* SQLite's default threshold: 1000 pages of 4 KB */
#define CHECKPOINT_IN_COMMIT_BYTES (64 << 20) /* a log this long is checkpointed by the commit */

typedef struct {
    sqlite3 *db;
    int frames, frames_in_commit; /* the thresholds above, in pages of this database */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool pending, stopping;
} checkpointer;

typedef struct sqlite_conn {
    sqlite3 *db;
    checkpointer *checkpoints; /* NULL: SQLite's own, in the commits */
    sqlite_stmt *cache[CACHE_BUCKETS];
    sqlite_stmt *newest, *oldest; /* the cached statements by last use */
    int ncached;
    char errmsg[256];
    watcher watcher; /* yw_db_watch */
} sqlite_conn;

extern const yw_migration yw_sqlite_migrations[]; /* generated from migrations/sqlite */

static int map_rc(sqlite_conn *c, int rc)
{
    if (rc == SQLITE_OK || rc == SQLITE_DONE)
        return 0;
    snprintf(c->errmsg, sizeof c->errmsg, "%s", sqlite3_errmsg(c->db));
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return YW_ECONFLICT;
        return YW_EINVAL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return YW_EBUSY;
    case SQLITE_NOMEM: return YW_ENOMEM;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN: return YW_EIO;
    case SQLITE_READONLY: return YW_EPERM;
    default: return YW_EDB;
    }
}

/* Hash of the length and the first and last 32 bytes: cheap for long SQL, and strcmp settles collisions. */
static unsigned hash_sql(const char *s)
{
    size_t len = strlen(s);
    unsigned h = 2166136261u ^ (unsigned)len;
    for (size_t i = 0; i < len && i < 32; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    for (size_t i = len > 32 ? len - 32 : len; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h % CACHE_BUCKETS;
}

/*
 * yw_key_hash(text): 47 bits of the text's SHA-256, an integer SQLite
 * stores in 6 bytes. Records are indexed by the hash of their key index
 * (migration 0015): a random key lands anywhere in that index, so each
 * commit of a bulk load rewrites most of its pages, and the narrower its
 * entries, the fewer pages; integers also compare faster than text. The
 * whole key settles the rare rows that share a hash. A cryptographic hash,
 * so that no one can choose keys that pile up on one hash.
 */
static void key_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return; /* NULL */
    const unsigned char *text = sqlite3_value_text(argv[0]);
    if (!text) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256_CTX sha;
    SHA256_Init(&sha);
    SHA256_Update(&sha, text, (size_t)sqlite3_value_bytes(argv[0]));
    SHA256_Final(h, &sha);
    int64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | h[i];
    sqlite3_result_int64(ctx, v >> 1);
}

/* SQLite's allocation statistics take a global mutex on every malloc; nothing here reads them. */
static void configure_library(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void *checkpoint_main(void *arg)
{
    checkpointer *k = arg;
    pthread_mutex_lock(&k->lock);
    for (;;) {
        while (!k->pending && !k->stopping)
            pthread_cond_wait(&k->wake, &k->lock);
        if (k->stopping)
            break;
        k->pending = false;
        pthread_mutex_unlock(&k->lock);
        int rc = sqlite3_wal_checkpoint_v2(k->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            yw_logf(YW_LOG_WARN, "checkpoint of the write-ahead log failed: %s", sqlite3_errmsg(k->db));
        pthread_mutex_lock(&k->lock);
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

/* After each commit of the connection: frames is the length of the log. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    checkpointer *k = arg;
    if (frames >= k->frames_in_commit) {
        int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return rc == SQLITE_BUSY ? SQLITE_OK : rc; /* busy: the thread is at it; the next commit tries again */
    }
    if (frames >= k->frames) {
        pthread_mutex_lock(&k->lock);
        k->pending = true;
        pthread_cond_signal(&k->wake);
        pthread_mutex_unlock(&k->lock);
    }
    return SQLITE_OK;
}

static void checkpointer_stop(checkpointer *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    k->stopping = true;
    pthread_cond_signal(&k->wake);
    pthread_mutex_unlock(&k->lock);
    pthread_join(k->thread, NULL);
    sqlite3_close(k->db);
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->wake);
    free(k);
}

/* Starts the checkpoints of c's database; 0 or YW_E*, with c's own checkpoints left on. */
static int checkpointer_start(sqlite_conn *c, const char *target, const char *vfs)
{
    checkpointer *k = calloc(1, sizeof *k);
    if (!k)
        return YW_ENOMEM;
    if (sqlite3_open_v2(target, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, vfs) != SQLITE_OK) {
        sqlite3_close(k->db);
        free(k);
        return YW_EIO;
    }
    sqlite3_busy_timeout(k->db, 1000);
    /* a connection opens its log only once it reads: until then a checkpoint finds no log */
    if (sqlite3_exec(k->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(k->db);
        free(k);
        return YW_EIO;
    }
    sqlite3_stmt *ps = NULL;
    int page = 4096;
    if (sqlite3_prepare_v2(c->db, "PRAGMA page_size", -1, &ps, NULL) == SQLITE_OK && sqlite3_step(ps) == SQLITE_ROW)
        page = sqlite3_column_int(ps, 0);
    sqlite3_finalize(ps);
    k->frames = CHECKPOINT_BYTES / page;
    k->frames_in_commit = CHECKPOINT_IN_COMMIT_BYTES / page;
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->wake, NULL);
    if (pthread_create(&k->thread, NULL, checkpoint_main, k) != 0) {
        sqlite3_close(k->db);
        pthread_mutex_destroy(&k->lock);
        pthread_cond_destroy(&k->wake);
        free(k);
        return YW_ENOMEM;
    }
    c->checkpoints = k;
    sqlite3_wal_hook(c->db, on_wal_commit, k); /* replaces SQLite's automatic checkpoint */
    return 0;
}

static int sqlite_open(const char *target, int flags, void **impl, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_library);
    sqlite_conn *c = calloc(1, sizeof *c);
    if (!c)
        return YW_ENOMEM;
    int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READWRITE;
    if (flags & YW_DB_CREATE)
        oflags |= SQLITE_OPEN_CREATE;
    bool exclusive = flags & YW_DB_EXCLUSIVE;
    const char *vfs = (flags & YW_DB_READONLY) ? yw_sqlite_map_vfs(exclusive) : exclusive ? "unix-excl" : NULL;
    int rc = sqlite3_open_v2(target, &c->db, oflags, vfs);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "opening %s: %s", target, c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        free(c);
        return YW_EIO;
    }
    sqlite3_extended_result_codes(c->db, 1);
    if (yw_fts_cjk_register(c->db) != SQLITE_OK ||
        sqlite3_create_function(c->db, "yw_key_hash", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                key_hash, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "opening %s: cannot register the tokenizer and functions", target);
        sqlite3_close(c->db);
        free(c);
        return YW_EDB;
    }
    sqlite3_busy_timeout(c->db, 10000);
    /*
     * Readers map the file (sqlite_map.c keeps the map across commits; SQLite
     * caps it at 2 GB, reading pages past that with pread). The writer reads
     * through its page cache, which bounds its memory (mapped pages count as
     * the process's) and costs an import nothing.
     *
     * A new database gets pages of 8 KB, twice SQLite's default: a bulk load
     * writes each page to the log and again to the database, and the kernel
     * costs about as much per page written as per byte (a million-row import
     * measured a quarter faster); a point read walks fewer levels. An
     * existing database keeps its page size.
     */
    const char *setup = (flags & YW_DB_READONLY)
                            ? "PRAGMA foreign_keys=ON; PRAGMA query_only=1; PRAGMA mmap_size=1099511627776;"
                            : "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              " PRAGMA foreign_keys=ON;"
                              /* the writer touches records all over their index: keep it in memory */
                              " PRAGMA cache_size=-65536; PRAGMA mmap_size=0;";
    char *msg = NULL;
    if (sqlite3_exec(c->db, setup, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "configuring %s: %s", target, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(c->db);
        free(c);
        return YW_EIO;
    }
    if ((flags & YW_DB_BACKGROUND_CHECKPOINTS) && checkpointer_start(c, target, exclusive ? "unix-excl" : NULL) < 0)
        yw_logf(YW_LOG_WARN, "checkpoints of %s stay in the commits: no thread for them", target);
    *impl = c;
    return 0;
}

static void stmt_destroy(sqlite_stmt *s)
{
    sqlite3_finalize(s->stmt);
    free(s->sql);
    free(s->param_map);
    free(s);
}

static void sqlite_close(void *impl)
{
    sqlite_conn *c = impl;
    checkpointer_stop(c->checkpoints);
    for (int i = 0; i < CACHE_BUCKETS; i++) {
        while (c->cache[i]) {
            sqlite_stmt *s = c->cache[i];
            c->cache[i] = s->next;
            stmt_destroy(s);
        }
    }
    sqlite3_close(c->db);
    free(c);
}

static const char *sqlite_errmsg(void *impl)
{
    return ((sqlite_conn *)impl)->errmsg;
}

static int build_param_map(sqlite_stmt *s)
{
    int count = sqlite3_bind_parameter_count(s->stmt);
    int highest = 0;
    for (int i = 1; i <= count; i++) {
        const char *name = sqlite3_bind_parameter_name(s->stmt, i);
        if (!name || name[0] != '$')
            return YW_EINVAL; /* only $n parameters are allowed */
        int n = atoi(name + 1);
        if (n <= 0)
            return YW_EINVAL;
        if (n > highest)
            highest = n;
    }
    s->param_map = calloc((size_t)highest + 1, sizeof(int));
    if (!s->param_map)
        return YW_ENOMEM;
    s->nparams = highest;
    for (int i = 1; i <= count; i++)
        s->param_map[atoi(sqlite3_bind_parameter_name(s->stmt, i) + 1)] = i;
    return 0;
}

static void use_order_unlink(sqlite_conn *c, sqlite_stmt *s)
{
    *(s->newer ? &s->newer->older : &c->newest) = s->older;
    *(s->older ? &s->older->newer : &c->oldest) = s->newer;
    s->newer = s->older = NULL;
}

static void use_order_push(sqlite_conn *c, sqlite_stmt *s)
{
    s->older = c->newest;
    s->newer = NULL;
    *(c->newest ? &c->newest->newer : &c->oldest) = s;
    c->newest = s;
}

/* Makes room for one more cached statement: the least recently used idle one goes. False: all are in use. */
static bool cache_make_room(sqlite_conn *c)
{
    if (c->ncached < CACHE_MAX)
        return true;
    sqlite_stmt *victim = c->oldest;
    while (victim && victim->in_use)
        victim = victim->newer;
    if (!victim)
        return false;
    use_order_unlink(c, victim);
    sqlite_stmt **at = &c->cache[victim->bucket];
    while (*at != victim)
        at = &(*at)->next;
    *at = victim->next;
    c->ncached--;
    stmt_destroy(victim);
    return true;
}

static int sqlite_prepare(void *impl, const char *sql, yw_stmt **out)
{
    sqlite_conn *c = impl;
    unsigned h = hash_sql(sql);
    for (sqlite_stmt *s = c->cache[h]; s; s = s->next) {
        if (!s->in_use && strcmp(s->sql, sql) == 0) {
            s->in_use = 1;
            if (c->newest != s) {
                use_order_unlink(c, s);
                use_order_push(c, s);
            }
            *out = &s->base;
            return 0;
        }
    }
    sqlite_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return YW_ENOMEM;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt, NULL);
    if (rc != SQLITE_OK) {
        rc = map_rc(c, rc);
        free(s);
        return rc < 0 ? rc : YW_EDB;
    }
    s->conn = c;
    s->sql = strdup(sql);
    if (!s->sql || (rc = build_param_map(s)) < 0) {
        snprintf(c->errmsg, sizeof c->errmsg, "bad parameters in: %.200s", sql);
        stmt_destroy(s);
        return rc < 0 ? rc : YW_ENOMEM;
    }
    s->in_use = 1;
    /* Cache at most one idle copy per text; a nested use gets its own. */
    int dup = 0;
    for (sqlite_stmt *o = c->cache[h]; o; o = o->next)
        dup |= strcmp(o->sql, sql) == 0;
    if (!dup && cache_make_room(c)) {
        s->cached = 1;
        s->bucket = h;
        s->next = c->cache[h];
        c->cache[h] = s;
        use_order_push(c, s);
        c->ncached++;
    }
    *out = &s->base;
    return 0;
}

static int param_index(sqlite_stmt *s, int idx)
{
    return idx >= 1 && idx <= s->nparams ? s->param_map[idx] : 0;
}

#define BIND(expr)                                                                                 \
    do {                                                                                           \
        sqlite_stmt *s = (sqlite_stmt *)st;                                                        \
        int i = param_index(s, idx);                                                               \
        if (!i)                                                                                    \
            return 0; /* $idx does not occur in this statement */                                 \
        int rc = (expr);                                                                           \
        return rc == SQLITE_OK ? 0 : map_rc(s->conn, rc);                                          \
    } while (0)

static int sqlite_bind_text(yw_stmt *st, int idx, const char *v, size_t len)
{
    BIND(sqlite3_bind_text(s->stmt, i, v, (int)len, SQLITE_TRANSIENT));
}

static int sqlite_bind_int(yw_stmt *st, int idx, int64_t v)
{
    BIND(sqlite3_bind_int64(s->stmt, i, v));
}

static int sqlite_bind_double(yw_stmt *st, int idx, double v)
{
    BIND(sqlite3_bind_double(s->stmt, i, v));
}

static int sqlite_bind_blob(yw_stmt *st, int idx, const void *v, size_t len)
{
    BIND(sqlite3_bind_blob(s->stmt, i, v, (int)len, SQLITE_TRANSIENT));
}

static int sqlite_bind_null(yw_stmt *st, int idx)
{
    BIND(sqlite3_bind_null(s->stmt, i));
}

static int sqlite_step(yw_stmt *st)
{
    sqlite_stmt *s = (sqlite_stmt *)st;
    int rc = sqlite3_step(s->stmt);
    if (rc == SQLITE_ROW)
        return YW_DB_ROW;
    if (rc == SQLITE_DONE)
        return YW_DB_DONE;
    return map_rc(s->conn, sqlite3_extended_errcode(s->conn->db));
}

static const char *sqlite_column_text(yw_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(((sqlite_stmt *)st)->stmt, col);
}

static int64_t sqlite_column_int(yw_stmt *st, int col)
{
    return sqlite3_column_int64(((sqlite_stmt *)st)->stmt, col);
}

static double sqlite_column_double(yw_stmt *st, int col)
{
    return sqlite3_column_double(((sqlite_stmt *)st)->stmt, col);
}

static const void *sqlite_column_blob(yw_stmt *st, int col, size_t *len)
{
    sqlite_stmt *s = (sqlite_stmt *)st;
    const void *p = sqlite3_column_blob(s->stmt, col);
    *len = (size_t)sqlite3_column_bytes(s->stmt, col);
    return p;
}

static bool sqlite_column_is_null(yw_stmt *st, int col)
{
    return sqlite3_column_type(((sqlite_stmt *)st)->stmt, col) == SQLITE_NULL;
}

static void sqlite_release(yw_stmt *st)
{
    sqlite_stmt *s = (sqlite_stmt *)st;
    sqlite3_reset(s->stmt);
    sqlite3_clear_bindings(s->stmt);
    s->in_use = 0;
    if (!s->cached)
        stmt_destroy(s);
}

/*
 * Transaction control (BEGIN, COMMIT, SAVEPOINT job, ...) runs on every
 * request and every writer job: such one-statement texts go through the
 * statement cache instead of being parsed again; scripts go to sqlite3_exec.
 */
static int sqlite_exec(void *impl, const char *sql)
{
    sqlite_conn *c = impl;
    if (!strchr(sql, ';') && strlen(sql) < 64) {
        yw_stmt *st;
        int rc = sqlite_prepare(impl, sql, &st);
        if (rc < 0)
            return rc;
        while ((rc = sqlite_step(st)) == YW_DB_ROW)
            ;
        sqlite_release(st);
        return rc == YW_DB_DONE ? 0 : rc < 0 ? rc : YW_EDB;
    }
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        int code = map_rc(c, sqlite3_extended_errcode(c->db));
        snprintf(c->errmsg, sizeof c->errmsg, "%s", msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        return code < 0 ? code : YW_EDB;
    }
    return 0;
}

static int64_t sqlite_changes(void *impl)
{
    return sqlite3_changes64(((sqlite_conn *)impl)->db);
}

static bool sqlite_in_transaction(void *impl)
{
    return sqlite3_get_autocommit(((sqlite_conn *)impl)->db) == 0;
}

static void on_update(void *arg, int op, const char *database, const char *table, sqlite3_int64 rowid)
{
    (void)op, (void)database, (void)rowid;
    watcher *w = arg;
    w->fn(w->ctx, table);
}

static void sqlite_watch(void *impl, void (*fn)(void *ctx, const char *table), void *ctx)
{
    sqlite_conn *c = impl;
    c->watcher = (watcher){fn, ctx};
    sqlite3_update_hook(c->db, fn ? on_update : NULL, &c->watcher);
}

const yw_db_backend yw_db_sqlite = {
    .scheme = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .errmsg = sqlite_errmsg,
    .exec = sqlite_exec,
    .prepare = sqlite_prepare,
    .bind_text = sqlite_bind_text,
    .bind_int = sqlite_bind_int,
    .bind_double = sqlite_bind_double,
    .bind_blob = sqlite_bind_blob,
    .bind_null = sqlite_bind_null,
    .step = sqlite_step,
    .column_text = sqlite_column_text,
    .column_int = sqlite_column_int,
    .column_double = sqlite_column_double,
    .column_blob = sqlite_column_blob,
    .column_is_null = sqlite_column_is_null,
    .release = sqlite_release,
    .changes = sqlite_changes,
    .in_transaction = sqlite_in_transaction,
    .watch = sqlite_watch,
    .migrations = yw_sqlite_migrations,
};
