/*
 * Unit tests of store/: the database interface (db.h) over SQLite, the
 * group-commit writer (writer.h) and the store that ties them together
 * with per-thread readers (store.h). Each test works in its own temporary
 * directory, removed afterwards.
 */
#include <criterion/criterion.h>

#include <ftw.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "core/error.h"
#include "core/log.h"
#include "core/time.h"
#include "store/db.h"
#include "store/store.h"
#include "store/writer.h"

extern const yw_migration yw_sqlite_migrations[];

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/yw-store-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void remove_tmpdir(void)
{
    if (tmpdir[0])
        nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(db, .init = make_tmpdir, .fini = remove_tmpdir, .timeout = 30);
TestSuite(writer, .init = make_tmpdir, .fini = remove_tmpdir, .timeout = 60);
TestSuite(store, .init = make_tmpdir, .fini = remove_tmpdir, .timeout = 60);

/* A path inside the test's directory (static storage: one at a time). */
static const char *db_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static yw_db *open_db(const char *name, int flags)
{
    yw_db *db = NULL;
    char err[256] = "";
    int rc = yw_db_open(db_path(name), flags, &db, err, sizeof err);
    cr_assert_eq(rc, 0, "opening %s: %s", name, err);
    return db;
}

/* A fresh writable database with table t. */
static yw_db *open_scratch(void)
{
    yw_db *db = open_db("scratch.db", YW_DB_CREATE);
    cr_assert_eq(yw_db_exec(db, "CREATE TABLE t (a TEXT, b INTEGER, c REAL, d BLOB, e TEXT)"), 0, "%s",
                 yw_db_errmsg(db));
    return db;
}

static int64_t count_rows(yw_db *db, const char *sql)
{
    int64_t n = -1;
    int rc = yw_db_int(db, &n, sql, "");
    cr_assert_eq(rc, 1, "%s: rc %d: %s", sql, rc, yw_db_errmsg(db));
    return n;
}

/* ---- open and migrations ------------------------------------------------ */

Test(db, migrate_creates_the_tables_and_records_each_version)
{
    yw_db *db = open_db("m.db", YW_DB_CREATE);
    char err[256] = "";
    cr_assert_eq(yw_db_migrate(db, err, sizeof err), 0, "%s", err);
    const char *tables[] = {"schema_migrations", "orgs", "users", "sessions", "clients", "settings"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        int64_t n = 0;
        cr_expect_eq(yw_db_int(db, &n, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1", "t",
                               tables[i]),
                     1);
        cr_expect_eq(n, 1, "table %s missing", tables[i]);
    }
    int64_t nmig = 0;
    for (const yw_migration *m = yw_sqlite_migrations; m->sql; m++) {
        int64_t found = 0;
        cr_expect_eq(yw_db_int(db, &found, "SELECT count(*) FROM schema_migrations WHERE version = $1 AND name = $2",
                               "it", (int64_t)m->version, m->name),
                     1);
        cr_expect_eq(found, 1, "migration %d (%s) not recorded", m->version, m->name);
        nmig++;
    }
    cr_assert_gt(nmig, 0);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM schema_migrations"), nmig);
    yw_db_close(db);
}

Test(db, migrate_twice_changes_nothing)
{
    yw_db *db = open_db("m.db", YW_DB_CREATE);
    char err[256] = "";
    cr_assert_eq(yw_db_migrate(db, err, sizeof err), 0, "%s", err);
    int64_t before = count_rows(db, "SELECT count(*) FROM schema_migrations");
    int64_t applied = count_rows(db, "SELECT sum(applied_at) FROM schema_migrations");
    cr_assert_eq(yw_db_run(db, "INSERT INTO settings(key, value) VALUES ('k', 'v')", ""), 1, "%s", yw_db_errmsg(db));
    yw_db_close(db);

    /* again on a new connection, as a restarted server would */
    db = open_db("m.db", 0);
    cr_expect_eq(yw_db_migrate(db, err, sizeof err), 0, "second run failed: %s", err);
    cr_expect_eq(yw_db_migrate(db, err, sizeof err), 0, "third run failed: %s", err);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM schema_migrations"), before);
    cr_expect_eq(count_rows(db, "SELECT sum(applied_at) FROM schema_migrations"), applied);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM settings"), 1, "data lost by a second migrate");
    yw_db_close(db);
}

Test(db, open_refuses_a_missing_file_without_create)
{
    yw_db *db = NULL;
    char err[256] = "";
    cr_expect_lt(yw_db_open(db_path("missing.db"), 0, &db, err, sizeof err), 0);
    cr_expect(err[0] != '\0', "no message");
    cr_expect_eq(access(db_path("missing.db"), F_OK), -1, "the file was created");
}

Test(db, open_understands_sqlite_urls_and_refuses_postgres)
{
    char url[600], err[256] = "";
    snprintf(url, sizeof url, "sqlite:%s", db_path("u.db"));
    yw_db *db = NULL;
    cr_assert_eq(yw_db_open(url, YW_DB_CREATE, &db, err, sizeof err), 0, "%s", err);
    cr_expect_eq(yw_db_exec(db, "CREATE TABLE x (a)"), 0);
    yw_db_close(db);
    cr_expect_eq(access(db_path("u.db"), F_OK), 0, "sqlite: prefix not stripped");

    err[0] = '\0';
    cr_expect_eq(yw_db_open("postgres://localhost/yiwang", YW_DB_CREATE, &db, err, sizeof err), YW_EINVAL);
    cr_expect(strstr(err, "PostgreSQL") != NULL, "'%s'", err);
}

Test(db, connections_use_wal_and_full_sync)
{
    yw_db *db = open_db("w.db", YW_DB_CREATE);
    yw_stmt *s;
    cr_assert_eq(yw_db_query(db, &s, "PRAGMA journal_mode", ""), 0);
    cr_assert_eq(yw_stmt_step(s), YW_DB_ROW);
    cr_expect_str_eq(yw_stmt_text(s, 0), "wal");
    yw_stmt_release(s);
    int64_t sync = -1, fk = -1;
    cr_expect_eq(yw_db_int(db, &sync, "PRAGMA synchronous", ""), 1);
    cr_expect_eq(sync, 2, "synchronous is %lld, want 2 (FULL)", (long long)sync);
    cr_expect_eq(yw_db_int(db, &fk, "PRAGMA foreign_keys", ""), 1);
    cr_expect_eq(fk, 1);
    yw_db_close(db);
}

Test(db, a_new_database_has_pages_of_8_kb_and_an_old_one_keeps_its_own)
{
    yw_db *db = open_db("p.db", YW_DB_CREATE);
    cr_assert_eq(yw_db_exec(db, "CREATE TABLE t (a)"), 0);
    cr_expect_eq(count_rows(db, "PRAGMA page_size"), 8192);
    yw_db_close(db);
    sqlite3 *made_before;
    cr_assert_eq(sqlite3_open(db_path("old4k.db"), &made_before), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(made_before, "PRAGMA page_size=4096; CREATE TABLE t (a)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(made_before);
    db = open_db("old4k.db", 0);
    cr_expect_eq(count_rows(db, "PRAGMA page_size"), 4096);
    cr_expect_eq(yw_db_exec(db, "INSERT INTO t VALUES (1)"), 0);
    yw_db_close(db);
}

/* Whether this process maps the file at path (a line of /proc/self/maps ends with it). */
static bool maps_file(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[1024];
    bool found = false;
    size_t n = strlen(path);
    while (!found && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        found = len >= n && memcmp(line + len - n, path, n) == 0;
    }
    fclose(f);
    return found;
}

/* A reader keeps its map of the file across commits (store/sqlite_map.c): it must never read a stale page. */
Test(db, a_reader_maps_the_file_and_sees_every_commit_checkpoint_growth_and_shrink)
{
    yw_db *db = open_db("m.db", YW_DB_CREATE);
    cr_assert_eq(yw_db_exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);"
                                " WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 2000)"
                                " INSERT INTO t SELECT k, printf('%0900d', k) FROM n;"
                                " PRAGMA wal_checkpoint(TRUNCATE);"),
                 0, "%s", yw_db_errmsg(db));
    yw_db *ro = open_db("m.db", YW_DB_READONLY);
    cr_expect_eq(count_rows(ro, "SELECT count(*) FROM t"), 2000);
    cr_expect(maps_file(db_path("m.db")), "the reader reads the file without mapping it");
    for (int round = 1; round <= 6; round++) {
        /* rows changed in place and rows added; every other round the log goes back into the file */
        cr_assert_gt(yw_db_run(db, "UPDATE t SET v = printf('%0900d', k + $1 * 100000) WHERE k % 7 = $1", "i",
                               (int64_t)round),
                     0, "%s", yw_db_errmsg(db));
        cr_assert_eq(yw_db_run(db,
                               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
                               " INSERT INTO t SELECT (SELECT max(k) FROM t) + i, printf('%0900d', 0) FROM n",
                               ""),
                     300, "%s", yw_db_errmsg(db));
        if (round % 2 == 0)
            cr_assert_eq(yw_db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
        int64_t v = -1;
        cr_assert_eq(yw_db_int(ro, &v, "SELECT CAST(v AS INTEGER) FROM t WHERE k = $1", "i", (int64_t)(7 + round)), 1);
        cr_expect_eq(v, 7 + round + round * 100000, "round %d: a stale row", round);
        cr_expect_eq(count_rows(ro, "SELECT count(*) FROM t"), 2000 + 300 * round, "round %d", round);
        cr_expect_eq(count_rows(ro, "SELECT sum(length(v)) FROM t"), 900 * (2000 + 300 * round));
    }
    /* the file shrinks under the map, then grows past its old size */
    cr_assert_eq(yw_db_exec(db, "DELETE FROM t WHERE k > 500; VACUUM; PRAGMA wal_checkpoint(TRUNCATE);"), 0, "%s",
                 yw_db_errmsg(db));
    cr_expect_eq(count_rows(ro, "SELECT count(*) FROM t"), 500);
    cr_expect_eq(count_rows(ro, "SELECT sum(length(v)) FROM t"), 900 * 500);
    cr_assert_eq(yw_db_exec(db, "WITH RECURSIVE n(k) AS (SELECT 501 UNION ALL SELECT k + 1 FROM n WHERE k < 8000)"
                                " INSERT INTO t SELECT k, printf('%0900d', k) FROM n;"
                                " PRAGMA wal_checkpoint(TRUNCATE);"),
                 0, "%s", yw_db_errmsg(db));
    cr_expect_eq(count_rows(ro, "SELECT count(*) FROM t"), 8000);
    cr_expect_eq(count_rows(ro, "SELECT CAST(v AS INTEGER) FROM t WHERE k = 7999"), 7999);
    yw_db_close(ro);
    yw_db_close(db);
}

/* yw_key_hash is stored in records (migration 0015): it must never change. */
Test(db, key_hash_is_47_bits_of_sha256_on_every_connection)
{
    const char *key = "330106200201013438";
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)key, strlen(key));
    int64_t want = 0;
    for (int i = 0; i < 6; i++)
        want = want << 8 | h[i];
    want >>= 1;
    yw_db *db = open_db("h.db", YW_DB_CREATE);
    yw_db *ro = open_db("h.db", YW_DB_READONLY);
    yw_db *conns[] = {db, ro};
    for (int i = 0; i < 2; i++) {
        int64_t got = -1, null = -1;
        cr_assert_eq(yw_db_int(conns[i], &got, "SELECT yw_key_hash($1)", "t", key), 1, "%s", yw_db_errmsg(conns[i]));
        cr_expect_eq(got, want, "%lld, want %lld", (long long)got, (long long)want);
        cr_expect(got >= 0 && got < (1ll << 47));
        cr_assert_eq(yw_db_int(conns[i], &null, "SELECT yw_key_hash(NULL) IS NULL", ""), 1);
        cr_expect_eq(null, 1);
    }
    yw_db_close(ro);
    yw_db_close(db);
}

/* ---- binding and reading ------------------------------------------------ */

Test(db, binds_and_reads_every_type)
{
    yw_db *db = open_scratch();
    const unsigned char blob[] = {0, 1, 2, 0xff, 0};
    cr_assert_eq(yw_db_run(db, "INSERT INTO t (a, b, c, d, e) VALUES ($1, $2, $3, $4, $5)", "tidbn", "文本 text",
                           (int64_t)-9007199254740993LL, 2.5, blob, sizeof blob),
                 1, "%s", yw_db_errmsg(db));
    yw_stmt *s;
    cr_assert_eq(yw_db_query(db, &s, "SELECT a, b, c, d, e, typeof(b), typeof(d) FROM t", ""), 0);
    cr_assert_eq(yw_stmt_step(s), YW_DB_ROW);
    cr_expect_str_eq(yw_stmt_text(s, 0), "文本 text");
    cr_expect_eq(yw_stmt_int(s, 1), -9007199254740993LL, "64-bit integers must survive");
    cr_expect_eq(yw_stmt_double(s, 2), 2.5);
    size_t len = 0;
    const unsigned char *got = yw_stmt_blob(s, 3, &len);
    cr_assert_eq(len, sizeof blob);
    cr_expect_eq(memcmp(got, blob, len), 0);
    cr_expect(yw_stmt_is_null(s, 4));
    cr_expect_null(yw_stmt_text(s, 4));
    cr_expect_not(yw_stmt_is_null(s, 0));
    cr_expect_str_eq(yw_stmt_text(s, 5), "integer");
    cr_expect_str_eq(yw_stmt_text(s, 6), "blob");
    cr_expect_eq(yw_stmt_step(s), YW_DB_DONE);
    yw_stmt_release(s);
    yw_db_close(db);
}

Test(db, null_text_binds_sql_null)
{
    yw_db *db = open_scratch();
    cr_assert_eq(yw_db_run(db, "INSERT INTO t (a, b) VALUES ($1, $2)", "ti", (const char *)NULL, (int64_t)1), 1);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM t WHERE a IS NULL"), 1);
    /* and an empty string is not NULL */
    cr_assert_eq(yw_db_run(db, "INSERT INTO t (a, b) VALUES ($1, $2)", "ti", "", (int64_t)2), 1);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM t WHERE a = ''"), 1);
    yw_db_close(db);
}

Test(db, numbered_parameters_out_of_order_and_repeated)
{
    yw_db *db = open_scratch();
    /* $2 before $1 */
    cr_assert_eq(yw_db_run(db, "INSERT INTO t (b, a) VALUES ($2, $1)", "ti", "first", (int64_t)5), 1, "%s",
                 yw_db_errmsg(db));
    yw_stmt *s;
    cr_assert_eq(yw_db_query(db, &s, "SELECT a, b FROM t", ""), 0);
    cr_assert_eq(yw_stmt_step(s), YW_DB_ROW);
    cr_expect_str_eq(yw_stmt_text(s, 0), "first");
    cr_expect_eq(yw_stmt_int(s, 1), 5);
    yw_stmt_release(s);

    /* $1 used twice, $3 first, $2 not at all */
    cr_assert_eq(yw_db_query(db, &s, "SELECT $3, $1 + $1, $1 * 10", "iii", (int64_t)4, (int64_t)99, (int64_t)7), 0,
                 "%s", yw_db_errmsg(db));
    cr_assert_eq(yw_stmt_step(s), YW_DB_ROW);
    cr_expect_eq(yw_stmt_int(s, 0), 7);
    cr_expect_eq(yw_stmt_int(s, 1), 8);
    cr_expect_eq(yw_stmt_int(s, 2), 40);
    yw_stmt_release(s);

    /* a query using $1 in two places with text */
    cr_assert_eq(yw_db_query(db, &s, "SELECT count(*) FROM t WHERE a = $1 OR e = $1", "t", "first"), 0);
    cr_assert_eq(yw_stmt_step(s), YW_DB_ROW);
    cr_expect_eq(yw_stmt_int(s, 0), 1);
    yw_stmt_release(s);
    yw_db_close(db);
}

Test(db, only_numbered_parameters_are_accepted)
{
    yw_db *db = open_scratch();
    yw_stmt *s = NULL;
    cr_expect_eq(yw_db_query(db, &s, "SELECT ?", "i", (int64_t)1), YW_EINVAL);
    cr_expect_eq(yw_db_query(db, &s, "SELECT :a", "i", (int64_t)1), YW_EINVAL);
    cr_expect_eq(yw_db_query(db, &s, "SELECT $a", "i", (int64_t)1), YW_EINVAL);
    cr_expect_eq(yw_db_query(db, &s, "SELECT $0", "i", (int64_t)1), YW_EINVAL);
    yw_db_close(db);
}

Test(db, an_unknown_format_letter_is_rejected)
{
    yw_db *db = open_scratch();
    yw_stmt *s = NULL;
    cr_expect_eq(yw_db_query(db, &s, "SELECT $1", "x", 1), YW_EINVAL);
    /* the statement went back to the cache and still works */
    cr_assert_eq(yw_db_query(db, &s, "SELECT $1", "i", (int64_t)3), 0);
    cr_assert_eq(yw_stmt_step(s), YW_DB_ROW);
    cr_expect_eq(yw_stmt_int(s, 0), 3);
    yw_stmt_release(s);
    yw_db_close(db);
}

Test(db, bad_sql_fails_with_a_message)
{
    yw_db *db = open_scratch();
    yw_stmt *s = NULL;
    int rc = yw_db_query(db, &s, "SELEC 1", "");
    cr_expect_lt(rc, 0);
    cr_expect(strlen(yw_db_errmsg(db)) > 0);
    cr_expect_lt(yw_db_run(db, "INSERT INTO nowhere VALUES (1)", ""), 0);
    cr_expect(strstr(yw_db_errmsg(db), "nowhere") != NULL, "'%s'", yw_db_errmsg(db));
    cr_expect_lt(yw_db_exec(db, "DROP TABLE nowhere"), 0);
    yw_db_close(db);
}

Test(db, unique_violations_are_conflicts)
{
    yw_db *db = open_db("u.db", YW_DB_CREATE);
    cr_assert_eq(yw_db_exec(db, "CREATE TABLE u (k TEXT PRIMARY KEY, s TEXT UNIQUE, n TEXT NOT NULL)"), 0);
    const char *ins = "INSERT INTO u (k, s, n) VALUES ($1, $2, $3)";
    cr_assert_eq(yw_db_run(db, ins, "ttt", "a", "x", "n"), 1);
    cr_expect_eq(yw_db_run(db, ins, "ttt", "a", "y", "n"), YW_ECONFLICT, "primary key");
    cr_expect(strstr(yw_db_errmsg(db), "UNIQUE") != NULL, "'%s'", yw_db_errmsg(db));
    cr_expect_eq(yw_db_run(db, ins, "ttt", "b", "x", "n"), YW_ECONFLICT, "unique column");
    /* other constraint failures are not conflicts */
    int rc = yw_db_run(db, ins, "ttt", "c", "z", (const char *)NULL);
    cr_expect_lt(rc, 0);
    cr_expect_neq(rc, YW_ECONFLICT, "NOT NULL reported as a conflict");
    /* the cached statement is usable after failures */
    cr_expect_eq(yw_db_run(db, ins, "ttt", "d", "w", "n"), 1, "%s", yw_db_errmsg(db));
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM u"), 2);
    yw_db_close(db);
}

Test(db, unique_violation_in_exec_is_a_conflict)
{
    yw_db *db = open_db("u.db", YW_DB_CREATE);
    cr_assert_eq(yw_db_exec(db, "CREATE TABLE u (k TEXT PRIMARY KEY); INSERT INTO u VALUES ('a')"), 0);
    cr_expect_eq(yw_db_exec(db, "INSERT INTO u VALUES ('a')"), YW_ECONFLICT);
    yw_db_close(db);
}

Test(db, run_returns_rows_changed)
{
    yw_db *db = open_scratch();
    for (int i = 0; i < 5; i++)
        cr_assert_eq(yw_db_run(db, "INSERT INTO t (b) VALUES ($1)", "i", (int64_t)i), 1);
    cr_expect_eq(yw_db_run(db, "UPDATE t SET a = 'x' WHERE b >= $1", "i", (int64_t)2), 3);
    cr_expect_eq(yw_db_changes(db), 3);
    cr_expect_eq(yw_db_run(db, "DELETE FROM t WHERE b > $1", "i", (int64_t)100), 0);
    yw_db_close(db);
}

Test(db, int_reports_found_none_and_errors)
{
    yw_db *db = open_scratch();
    cr_assert_eq(yw_db_run(db, "INSERT INTO t (a, b) VALUES ('k', 42)", ""), 1);
    int64_t v = -1;
    cr_expect_eq(yw_db_int(db, &v, "SELECT b FROM t WHERE a = $1", "t", "k"), 1);
    cr_expect_eq(v, 42);
    v = -1;
    cr_expect_eq(yw_db_int(db, &v, "SELECT b FROM t WHERE a = $1", "t", "none"), 0);
    cr_expect_eq(v, -1, "*out written when no row was found");
    cr_expect_lt(yw_db_int(db, &v, "SELECT b FROM missing", ""), 0);
    yw_db_close(db);
}

Test(db, transactions_commit_and_roll_back)
{
    yw_db *db = open_scratch();
    cr_assert_eq(yw_db_begin(db), 0);
    cr_assert_eq(yw_db_run(db, "INSERT INTO t (b) VALUES (1)", ""), 1);
    cr_assert_eq(yw_db_rollback(db), 0);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM t"), 0);
    cr_assert_eq(yw_db_begin(db), 0);
    cr_assert_eq(yw_db_run(db, "INSERT INTO t (b) VALUES (2)", ""), 1);
    cr_assert_eq(yw_db_commit(db), 0);
    yw_db *other = open_db("scratch.db", YW_DB_READONLY);
    cr_expect_eq(count_rows(other, "SELECT count(*) FROM t"), 1);
    yw_db_close(other);
    yw_db_close(db);
}

Test(db, readonly_connections_refuse_writes)
{
    yw_db *db = open_scratch();
    yw_db *ro = open_db("scratch.db", YW_DB_READONLY);
    cr_expect_eq(yw_db_run(ro, "INSERT INTO t (b) VALUES (1)", ""), YW_EPERM, "%s", yw_db_errmsg(ro));
    cr_expect_lt(yw_db_exec(ro, "DELETE FROM t"), 0);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM t"), 0);
    yw_db_close(ro);
    yw_db_close(db);
}

Test(db, prepare_then_bind_by_number)
{
    yw_db *db = open_scratch();
    yw_stmt *s;
    cr_assert_eq(yw_db_prepare(db, &s, "INSERT INTO t (a, b, e) VALUES ($2, $1, $3)"), 0, "%s", yw_db_errmsg(db));
    cr_expect_eq(yw_stmt_bind_int(s, 1, 77), 0);
    cr_expect_eq(yw_stmt_bind_text(s, 2, "seventy-seven"), 0);
    cr_expect_eq(yw_stmt_bind_text(s, 3, NULL), 0);
    cr_expect_eq(yw_stmt_bind_int(s, 9, 1), 0, "binding a number the statement lacks is harmless");
    cr_expect_eq(yw_stmt_step(s), YW_DB_DONE, "%s", yw_db_errmsg(db));
    yw_stmt_release(s);
    cr_assert_eq(yw_db_query(db, &s, "SELECT a, b, e FROM t", ""), 0);
    cr_assert_eq(yw_stmt_step(s), YW_DB_ROW);
    cr_expect_str_eq(yw_stmt_text(s, 0), "seventy-seven");
    cr_expect_eq(yw_stmt_int(s, 1), 77);
    cr_expect(yw_stmt_is_null(s, 2));
    yw_stmt_release(s);
    cr_expect_lt(yw_db_prepare(db, &s, "SELECT ?"), 0, "anonymous parameters accepted");
    yw_db_close(db);
}

/* ---- statement cache ---------------------------------------------------- */

Test(db, statements_are_reused_with_fresh_bindings)
{
    yw_db *db = open_scratch();
    const char *sql = "SELECT $1, $2";
    yw_stmt *s1, *s2;
    cr_assert_eq(yw_db_query(db, &s1, sql, "it", (int64_t)5, "five"), 0);
    cr_assert_eq(yw_stmt_step(s1), YW_DB_ROW);
    yw_stmt_release(s1);
    /* same text: the cached handle comes back, without the old bindings */
    cr_assert_eq(yw_db_query(db, &s2, sql, "i", (int64_t)6), 0);
    cr_expect_eq(s2, s1, "the statement was prepared again");
    cr_assert_eq(yw_stmt_step(s2), YW_DB_ROW);
    cr_expect_eq(yw_stmt_int(s2, 0), 6);
    cr_expect(yw_stmt_is_null(s2, 1), "a binding of the previous use leaked: '%s'", yw_stmt_text(s2, 1));
    yw_stmt_release(s2);
    yw_db_close(db);
}

Test(db, a_statement_abandoned_midway_restarts_on_reuse)
{
    yw_db *db = open_scratch();
    for (int i = 1; i <= 3; i++)
        cr_assert_eq(yw_db_run(db, "INSERT INTO t (b) VALUES ($1)", "i", (int64_t)i), 1);
    const char *sql = "SELECT b FROM t ORDER BY b";
    yw_stmt *s;
    cr_assert_eq(yw_db_query(db, &s, sql, ""), 0);
    cr_assert_eq(yw_stmt_step(s), YW_DB_ROW);
    cr_assert_eq(yw_stmt_step(s), YW_DB_ROW);
    yw_stmt_release(s);
    cr_assert_eq(yw_db_query(db, &s, sql, ""), 0);
    cr_assert_eq(yw_stmt_step(s), YW_DB_ROW);
    cr_expect_eq(yw_stmt_int(s, 0), 1, "reuse did not start from the first row");
    yw_stmt_release(s);
    yw_db_close(db);
}

Test(db, nested_use_of_the_same_sql)
{
    yw_db *db = open_scratch();
    for (int i = 1; i <= 3; i++)
        cr_assert_eq(yw_db_run(db, "INSERT INTO t (b) VALUES ($1)", "i", (int64_t)i), 1);
    const char *sql = "SELECT b FROM t WHERE b >= $1 ORDER BY b";
    yw_stmt *outer, *inner;
    cr_assert_eq(yw_db_query(db, &outer, sql, "i", (int64_t)1), 0);
    int64_t seen_outer[3], seen_inner = 0;
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(yw_stmt_step(outer), YW_DB_ROW, "outer row %d", k);
        seen_outer[k] = yw_stmt_int(outer, 0);
        /* the same SQL while the outer statement is still stepping */
        cr_assert_eq(yw_db_query(db, &inner, sql, "i", seen_outer[k]), 0, "%s", yw_db_errmsg(db));
        cr_assert_neq(inner, outer, "the running statement was handed out twice");
        int rows = 0;
        while (yw_stmt_step(inner) == YW_DB_ROW)
            rows++, seen_inner++;
        cr_expect_eq(rows, 3 - k);
        yw_stmt_release(inner);
    }
    cr_expect_eq(yw_stmt_step(outer), YW_DB_DONE);
    cr_expect_eq(seen_outer[0], 1);
    cr_expect_eq(seen_outer[1], 2);
    cr_expect_eq(seen_outer[2], 3);
    cr_expect_eq(seen_inner, 6);
    yw_stmt_release(outer);
    /* after both are back, the cached one is used again */
    yw_stmt *again;
    cr_assert_eq(yw_db_query(db, &again, sql, "i", (int64_t)3), 0);
    cr_expect_eq(again, outer);
    cr_assert_eq(yw_stmt_step(again), YW_DB_ROW);
    cr_expect_eq(yw_stmt_int(again, 0), 3);
    yw_stmt_release(again);
    yw_db_close(db);
}

Test(db, many_distinct_statements)
{
    /* more texts than cache buckets; each must still answer correctly */
    yw_db *db = open_scratch();
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 400; i++) {
            char sql[64];
            snprintf(sql, sizeof sql, "SELECT %d + $1", i);
            int64_t v = -1;
            cr_assert_eq(yw_db_int(db, &v, sql, "i", (int64_t)round), 1);
            cr_assert_eq(v, i + round);
        }
    yw_db_close(db);
}

Test(db, the_statement_cache_is_bounded_and_keeps_what_is_used)
{
    /* Texts made at run time (a filter's shape, a resource's code) must not pile up on a connection. */
    yw_db *db = open_scratch();
    int64_t v = -1;
    for (int i = 0; i < 2000; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d + $1", i);
        cr_assert_eq(yw_db_int(db, &v, sql, "i", (int64_t)1), 1);
        cr_assert_eq(v, i + 1);
        cr_assert_eq(yw_db_int(db, &v, "SELECT 7 AS hot", ""), 1); /* used all along */
    }
    int64_t prepared = -1, hot_runs = -1;
    cr_assert_eq(yw_db_int(db, &prepared, "SELECT count(*) FROM sqlite_stmt", ""), 1);
    cr_expect_leq(prepared, 520, "%lld statements stay prepared after 2,000 distinct texts", (long long)prepared);
    cr_expect_geq(prepared, 100, "the cache still keeps recent statements (%lld)", (long long)prepared);
    cr_assert_eq(yw_db_int(db, &hot_runs, "SELECT run FROM sqlite_stmt WHERE sql = 'SELECT 7 AS hot'", ""), 1);
    cr_expect_eq(hot_runs, 2000, "a statement in constant use is never let go (run %lld times)", (long long)hot_runs);
    yw_db_close(db);
}

Test(db, release_of_null_is_ignored)
{
    yw_stmt_release(NULL);
    yw_db_close(NULL);
}

/* ---- writer ------------------------------------------------------------- */

static yw_writer *start_writer(const char *name)
{
    char err[256] = "";
    yw_writer *w = yw_writer_start(db_path(name), 0, err, sizeof err);
    cr_assert_not_null(w, "writer: %s", err);
    return w;
}

static int create_w_table(yw_db *db, void *arg)
{
    return yw_db_exec(db, "CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT)");
}

static int insert_w(yw_db *db, void *arg)
{
    int64_t id = *(int64_t *)arg;
    int rc = yw_db_run(db, "INSERT INTO w (id, v) VALUES ($1, 'x')", "i", id);
    return rc < 0 ? rc : 0;
}

Test(writer, run_returns_after_the_write_is_committed)
{
    yw_writer *w = start_writer("w.db");
    cr_assert_eq(yw_writer_run(w, create_w_table, NULL), 0);
    yw_db *reader = open_db("w.db", YW_DB_READONLY);
    for (int64_t i = 1; i <= 20; i++) {
        cr_assert_eq(yw_writer_run(w, insert_w, &i), 0);
        /* visible to another connection the moment run returns */
        cr_assert_eq(count_rows(reader, "SELECT count(*) FROM w"), i);
    }
    yw_db_close(reader);
    yw_writer_stop(w);
}

static int check_sync(yw_db *db, void *arg)
{
    int64_t *out = arg;
    return yw_db_int(db, out, "PRAGMA synchronous", "") == 1 ? 0 : -1;
}

Test(writer, commits_with_full_synchronous)
{
    yw_writer *w = start_writer("w.db");
    int64_t sync = -1;
    cr_assert_eq(yw_writer_run(w, check_sync, &sync), 0);
    cr_expect_eq(sync, 2, "writer runs with synchronous=%lld, want FULL (2)", (long long)sync);
    yw_writer_stop(w);
}

static int insert_two_then_fail(yw_db *db, void *arg)
{
    yw_db_run(db, "INSERT INTO w (id, v) VALUES (1000, 'partial')", "");
    yw_db_run(db, "INSERT INTO w (id, v) VALUES (1001, 'partial')", "");
    return YW_EINVAL;
}

Test(writer, a_failing_job_leaves_nothing_behind)
{
    yw_writer *w = start_writer("w.db");
    cr_assert_eq(yw_writer_run(w, create_w_table, NULL), 0);
    cr_expect_eq(yw_writer_run(w, insert_two_then_fail, NULL), YW_EINVAL, "run must return the job's result");
    int64_t id = 1;
    cr_expect_eq(yw_writer_run(w, insert_w, &id), 0);
    cr_expect_eq(yw_writer_run(w, insert_w, &id), YW_ECONFLICT, "a duplicate key must come back as a conflict");
    yw_writer_stop(w);
    yw_db *db = open_db("w.db", 0);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM w WHERE v = 'partial'"), 0);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM w"), 1);
    yw_db_close(db);
}

/* A posted job that holds the writer thread until the test lets it go,
 * so that jobs submitted meanwhile queue up into one batch. */
struct gate {
    sem_t entered, release;
};

static int gate_job(yw_db *db, void *arg)
{
    struct gate *g = arg;
    sem_post(&g->entered);
    sem_wait(&g->release);
    return 0;
}

struct batch_job {
    yw_writer *w;
    int64_t id;
    int want_fail;
    int rc;
};

static int batch_fn(yw_db *db, void *arg)
{
    struct batch_job *j = arg;
    int rc = yw_db_run(db, "INSERT INTO w (id, v) VALUES ($1, 'batch')", "i", j->id);
    if (rc < 0)
        return rc;
    return j->want_fail ? -100 - (int)j->id : 0;
}

static void *submit_thread(void *arg)
{
    struct batch_job *j = arg;
    j->rc = yw_writer_run(j->w, batch_fn, j);
    return NULL;
}

static void wait_for_queue(yw_writer *w, size_t depth)
{
    for (int i = 0; i < 5000; i++) {
        yw_writer_stats st;
        yw_writer_get_stats(w, &st);
        if (st.queue_depth >= depth)
            return;
        usleep(1000);
    }
    cr_assert_fail("the queue never reached %zu jobs", depth);
}

Test(writer, failing_jobs_roll_back_while_the_rest_of_the_batch_commits)
{
    enum { N = 12 };
    yw_writer *w = start_writer("w.db");
    cr_assert_eq(yw_writer_run(w, create_w_table, NULL), 0);
    yw_writer_stats st0;
    yw_writer_get_stats(w, &st0);

    struct gate g;
    sem_init(&g.entered, 0, 0);
    sem_init(&g.release, 0, 0);
    yw_writer_post(w, gate_job, &g, NULL);
    sem_wait(&g.entered);

    struct batch_job jobs[N];
    pthread_t threads[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct batch_job){.w = w, .id = i + 1, .want_fail = i % 3 == 1};
        cr_assert_eq(pthread_create(&threads[i], NULL, submit_thread, &jobs[i]), 0);
    }
    wait_for_queue(w, N);
    sem_post(&g.release);
    for (int i = 0; i < N; i++)
        pthread_join(threads[i], NULL);

    int64_t committed = 0;
    for (int i = 0; i < N; i++) {
        int want = jobs[i].want_fail ? -100 - (int)jobs[i].id : 0;
        cr_expect_eq(jobs[i].rc, want, "job %lld returned %d, want %d", (long long)jobs[i].id, jobs[i].rc, want);
        committed += !jobs[i].want_fail;
    }

    /* the gate batch plus one batch for all twelve */
    yw_writer_stats st;
    yw_writer_get_stats(w, &st);
    cr_expect_eq(st.commits - st0.commits, 2, "%llu commits for one queued batch",
                 (unsigned long long)(st.commits - st0.commits));
    cr_expect_eq(st.jobs - st0.jobs, N + 1);

    yw_db *db = open_db("w.db", YW_DB_READONLY);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM w"), committed);
    for (int i = 0; i < N; i++) {
        int64_t n = -1;
        yw_db_int(db, &n, "SELECT count(*) FROM w WHERE id = $1", "i", jobs[i].id);
        cr_expect_eq(n, jobs[i].want_fail ? 0 : 1, "job %lld", (long long)jobs[i].id);
    }
    yw_db_close(db);
    yw_writer_stop(w);
    sem_destroy(&g.entered);
    sem_destroy(&g.release);
}

static void *hammer_thread(void *arg)
{
    struct batch_job *j = arg;
    int64_t base = j->id;
    j->rc = 0;
    for (int k = 0; k < 25; k++) {
        struct batch_job one = {.w = j->w, .id = base + k, .want_fail = k % 5 == 0};
        int rc = yw_writer_run(j->w, batch_fn, &one);
        int want = one.want_fail ? -100 - (int)one.id : 0;
        if (rc != want)
            j->rc = 1;
    }
    return NULL;
}

Test(writer, many_threads_submitting_at_once)
{
    enum { T = 8 };
    yw_writer *w = start_writer("w.db");
    cr_assert_eq(yw_writer_run(w, create_w_table, NULL), 0);
    struct batch_job jobs[T];
    pthread_t threads[T];
    for (int i = 0; i < T; i++) {
        jobs[i] = (struct batch_job){.w = w, .id = 1000 * (i + 1)};
        pthread_create(&threads[i], NULL, hammer_thread, &jobs[i]);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(threads[i], NULL);
        cr_expect_eq(jobs[i].rc, 0, "thread %d saw a wrong result", i);
    }
    yw_writer_stats st;
    yw_writer_get_stats(w, &st);
    cr_expect_eq(st.jobs, T * 25 + 1);
    cr_expect_leq(st.commits, st.jobs);
    cr_expect_eq(st.queue_depth, 0);
    yw_writer_stop(w);
    yw_db *db = open_db("w.db", 0);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM w"), T * 20);
    yw_db_close(db);
}

static atomic_int released;

struct posted {
    int64_t id;
    int fail;
};

static int posted_fn(yw_db *db, void *arg)
{
    struct posted *p = arg;
    int rc = yw_db_run(db, "INSERT INTO w (id, v) VALUES ($1, 'posted')", "i", p->id);
    return p->fail ? -1 : rc < 0 ? rc : 0;
}

static void posted_release(void *arg)
{
    free(arg);
    atomic_fetch_add(&released, 1);
}

static void post_insert(yw_writer *w, int64_t id, int fail)
{
    struct posted *p = malloc(sizeof *p);
    cr_assert_not_null(p);
    p->id = id;
    p->fail = fail;
    yw_writer_post(w, posted_fn, p, posted_release);
}

Test(writer, posted_jobs_run_and_are_released)
{
    atomic_store(&released, 0);
    yw_writer *w = start_writer("w.db");
    cr_assert_eq(yw_writer_run(w, create_w_table, NULL), 0);
    for (int i = 1; i <= 100; i++)
        post_insert(w, i, i % 10 == 0);
    for (int i = 0; i < 5000 && atomic_load(&released) < 100; i++)
        usleep(1000);
    cr_expect_eq(atomic_load(&released), 100, "%d of 100 posted jobs released", atomic_load(&released));
    yw_db *db = open_db("w.db", YW_DB_READONLY);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM w"), 90, "failed posted jobs must roll back");
    yw_db_close(db);
    yw_writer_post(w, create_w_table, NULL, NULL); /* a release callback may be NULL (and the job may fail) */
    yw_writer_stop(w);
}

/*
 * Jobs whose work outlives the job's own savepoint. The writer's promise
 * for each job is binary: a result >= 0 means its writes are durable, a
 * negative one means none of them were kept. These jobs break the batch in
 * the two ways SQL allows: a trigger that rolls back the whole transaction
 * (RAISE(ROLLBACK), which is also what SQLite does by itself on SQLITE_FULL
 * or SQLITE_IOERR), and a deferred foreign key that fails only at COMMIT.
 */
struct keyed_job {
    const char *sql;
    int64_t id;
    int rc;
    yw_writer *w;
};

static int keyed_fn(yw_db *db, void *arg)
{
    struct keyed_job *j = arg;
    int rc = yw_db_run(db, j->sql, "i", j->id);
    return rc < 0 ? rc : 0;
}

static void *keyed_thread(void *arg)
{
    struct keyed_job *j = arg;
    j->rc = yw_writer_run(j->w, keyed_fn, j);
    return NULL;
}

static int create_poison_tables(yw_db *db, void *arg)
{
    return yw_db_exec(db, "CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT);"
                          "CREATE TABLE trap (id INTEGER PRIMARY KEY);"
                          "CREATE TRIGGER trap_rollback BEFORE INSERT ON trap"
                          " BEGIN SELECT RAISE(ROLLBACK, 'trapped'); END;"
                          "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                          "CREATE TABLE child (id INTEGER PRIMARY KEY, pid INTEGER"
                          " REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);");
}

/* Runs the three jobs in one batch, the poison one in the middle, and checks
 * that every job's result matches what the database kept. */
static void run_poisoned_batch(const char *poison_sql)
{
    yw_log_set_level(YW_LOG_OFF); /* the failed commit is expected here */
    yw_writer *w = start_writer("w.db");
    cr_assert_eq(yw_writer_run(w, create_poison_tables, NULL), 0);
    struct gate g;
    sem_init(&g.entered, 0, 0);
    sem_init(&g.release, 0, 0);
    yw_writer_post(w, gate_job, &g, NULL);
    sem_wait(&g.entered);

    struct keyed_job jobs[3] = {
        {"INSERT INTO w (id, v) VALUES ($1, 'before')", 1, 0, w},
        {poison_sql, 2, 0, w},
        {"INSERT INTO w (id, v) VALUES ($1, 'after')", 3, 0, w},
    };
    pthread_t tid[3];
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(pthread_create(&tid[i], NULL, keyed_thread, &jobs[i]), 0);
        wait_for_queue(w, (size_t)i + 1); /* keep the order: before, poison, after */
    }
    sem_post(&g.release);
    for (int i = 0; i < 3; i++)
        pthread_join(tid[i], NULL);

    /* the writer keeps working afterwards */
    struct keyed_job later = {"INSERT INTO w (id, v) VALUES ($1, 'later')", 4, 0, w};
    cr_expect_eq(yw_writer_run(w, keyed_fn, &later), 0);
    yw_writer_stop(w);

    yw_db *db = open_db("w.db", 0);
    const char *what[] = {"the job before the poison", "the poison job", "the job after the poison"};
    const char *count_sql[] = {"SELECT count(*) FROM w WHERE id = 1",
                               "SELECT (SELECT count(*) FROM trap) + (SELECT count(*) FROM child)",
                               "SELECT count(*) FROM w WHERE id = 3"};
    for (int i = 0; i < 3; i++) {
        int64_t kept = count_rows(db, count_sql[i]);
        cr_expect_eq(kept > 0, jobs[i].rc >= 0, "%s returned %d but the database %s its write", what[i], jobs[i].rc,
                     kept ? "kept" : "lost");
    }
    cr_expect_lt(jobs[1].rc, 0, "the poison job reported success");
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM w WHERE id = 4"), 1);
    yw_db_close(db);
    sem_destroy(&g.entered);
    sem_destroy(&g.release);
}

Test(writer, a_job_that_rolls_back_the_transaction_does_not_mislead_the_others)
{
    run_poisoned_batch("INSERT INTO trap (id) VALUES ($1)");
}

Test(writer, a_commit_that_fails_keeps_nothing_and_says_so)
{
    /* a dangling deferred reference: the insert succeeds, COMMIT fails */
    run_poisoned_batch("INSERT INTO child (id, pid) VALUES ($1, 999)");
}

struct participant {
    int calls;
    yw_db *db_seen;
    pthread_t thread_seen;
};

static void participant_rolled_back(void *ctx, yw_db *db)
{
    struct participant *p = ctx;
    p->calls++;
    p->db_seen = db;
    p->thread_seen = pthread_self();
}

static int record_writer_db(yw_db *db, void *arg)
{
    *(yw_db **)arg = db;
    return 0;
}

static int fail_job(yw_db *db, void *arg)
{
    return YW_ESTATE;
}

Test(writer, participants_hear_of_each_rollback)
{
    yw_writer *w = start_writer("w.db");
    struct participant p = {0};
    yw_writer_add_participant(w, participant_rolled_back, &p);
    cr_assert_eq(yw_writer_run(w, create_w_table, NULL), 0);
    int64_t id = 1;
    cr_assert_eq(yw_writer_run(w, insert_w, &id), 0);
    cr_expect_eq(p.calls, 0, "told of a rollback after successful jobs");
    cr_expect_eq(yw_writer_run(w, fail_job, NULL), YW_ESTATE);
    cr_expect_eq(p.calls, 1);
    cr_expect_eq(yw_writer_run(w, insert_w, &id), YW_ECONFLICT);
    cr_expect_eq(p.calls, 2);
    yw_db *writer_db = NULL;
    cr_assert_eq(yw_writer_run(w, record_writer_db, &writer_db), 0);
    cr_expect_eq(p.db_seen, writer_db, "the participant must get the writer's connection");
    cr_expect(!pthread_equal(p.thread_seen, pthread_self()), "called on the caller's thread, not the writer's");
    cr_expect_eq(p.calls, 2);
    yw_writer_stop(w);
}

static int slow_job(yw_db *db, void *arg)
{
    usleep(200 * 1000);
    return 0;
}

Test(writer, stop_finishes_every_queued_post)
{
    atomic_store(&released, 0);
    yw_writer *w = start_writer("w.db");
    cr_assert_eq(yw_writer_run(w, create_w_table, NULL), 0);
    yw_writer_post(w, slow_job, NULL, NULL);
    for (int i = 1; i <= 50; i++)
        post_insert(w, i, 0);
    yw_writer_stop(w);
    cr_expect_eq(atomic_load(&released), 50);
    yw_db *db = open_db("w.db", 0);
    cr_expect_eq(count_rows(db, "SELECT count(*) FROM w"), 50, "queued posts lost at stop");
    yw_db_close(db);
}

static int noop(yw_db *db, void *arg)
{
    return 0;
}

Test(writer, stats_count_commits_jobs_and_latency)
{
    yw_writer *w = start_writer("w.db");
    yw_writer_stats st;
    yw_writer_get_stats(w, &st);
    cr_expect_eq(st.commits, 0);
    cr_expect_eq(st.jobs, 0);
    cr_expect_eq(st.queue_depth, 0);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(yw_writer_run(w, noop, NULL), 0);
    yw_writer_get_stats(w, &st);
    /* sequential runs cannot share a batch */
    cr_expect_eq(st.commits, 5);
    cr_expect_eq(st.jobs, 5);
    cr_expect_eq(st.queue_depth, 0);
    cr_assert_not_null(st.commit_latency);
    cr_expect_eq(st.commit_latency->count, 5);
    yw_writer_stop(w);
}

Test(writer, start_fails_cleanly_on_a_bad_path)
{
    char err[256] = "";
    yw_writer *w = yw_writer_start("/nonexistent-dir/x/y.db", 0, err, sizeof err);
    cr_expect_null(w);
    cr_expect(err[0] != '\0');
}

/* ---- store -------------------------------------------------------------- */

static int insert_org(yw_db *db, void *arg)
{
    int64_t now = yw_now_ms();
    int rc = yw_db_run(db,
                       "INSERT INTO orgs (code, name, region_code, level, created_at, updated_at)"
                       " VALUES ($1, $2, '330100', 'city', $3, $3)",
                       "tti", (const char *)arg, "测试局", now);
    return rc < 0 ? rc : 0;
}

struct reader_thread {
    yw_store *store;
    pthread_barrier_t *barrier;
    yw_db *db;
    int64_t orgs;
    int same_twice;
    int write_rc;
};

static void *reader_main(void *arg)
{
    struct reader_thread *t = arg;
    t->db = yw_store_reader(t->store);
    t->same_twice = t->db && yw_store_reader(t->store) == t->db;
    if (t->db) {
        t->orgs = -1;
        yw_db_int(t->db, &t->orgs, "SELECT count(*) FROM orgs", "");
        t->write_rc = yw_db_run(t->db, "DELETE FROM orgs", "");
    }
    /* hold the connection until every thread has one */
    pthread_barrier_wait(t->barrier);
    return NULL;
}

Test(store, readers_per_thread_see_committed_writes)
{
    enum { T = 4 };
    char err[256] = "";
    yw_store *s = yw_store_open(db_path("store.db"), 0, err, sizeof err);
    cr_assert_not_null(s, "%s", err);

    yw_db *mine = yw_store_reader(s);
    cr_assert_not_null(mine);
    cr_expect_eq(count_rows(mine, "SELECT count(*) FROM orgs"), 0, "migrations not applied");
    cr_assert_eq(yw_writer_run(yw_store_writer(s), insert_org, "11330100002497102C"), 0);
    cr_expect_eq(count_rows(mine, "SELECT count(*) FROM orgs"), 1, "a reader missed a committed write");

    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, T);
    struct reader_thread th[T];
    pthread_t tid[T];
    for (int i = 0; i < T; i++) {
        th[i] = (struct reader_thread){.store = s, .barrier = &barrier};
        cr_assert_eq(pthread_create(&tid[i], NULL, reader_main, &th[i]), 0);
    }
    for (int i = 0; i < T; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&barrier);

    for (int i = 0; i < T; i++) {
        cr_assert_not_null(th[i].db, "thread %d got no reader", i);
        cr_expect(th[i].same_twice, "thread %d got a new connection on its second call", i);
        cr_expect_eq(th[i].orgs, 1, "thread %d counted %lld orgs", i, (long long)th[i].orgs);
        cr_expect_lt(th[i].write_rc, 0, "thread %d wrote through a reader", i);
        cr_expect_neq(th[i].db, mine, "thread %d shares the main thread's reader", i);
        for (int k = 0; k < i; k++)
            cr_expect_neq(th[i].db, th[k].db, "threads %d and %d share a reader", i, k);
    }
    cr_expect_eq(count_rows(mine, "SELECT count(*) FROM orgs"), 1);
    yw_store_close(s);
}

Test(store, reopening_keeps_data_and_migrations)
{
    char err[256] = "";
    yw_store *s = yw_store_open(db_path("store.db"), 0, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    cr_assert_eq(yw_writer_run(yw_store_writer(s), insert_org, "91350100M000100Y43"), 0);
    yw_store_close(s);
    s = yw_store_open(db_path("store.db"), 0, err, sizeof err);
    cr_assert_not_null(s, "reopen: %s", err);
    yw_db *r = yw_store_reader(s);
    cr_assert_not_null(r);
    cr_expect_eq(count_rows(r, "SELECT count(*) FROM orgs"), 1);
    yw_store_close(s);
}

Test(store, open_fails_with_a_message_for_a_bad_path)
{
    char err[256] = "";
    cr_expect_null(yw_store_open("/nonexistent-dir/x/store.db", 0, err, sizeof err));
    cr_expect(err[0] != '\0');
}

/* ---- the generation of watched tables ---------------------------------- */

static int create_two_tables(yw_db *db, void *arg)
{
    return yw_db_exec(db, "CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE other (id INTEGER PRIMARY KEY)");
}

static int insert_other(yw_db *db, void *arg)
{
    int rc = yw_db_run(db, "INSERT INTO other DEFAULT VALUES", "");
    return rc < 0 ? rc : 0;
}

static int update_w_then_fail(yw_db *db, void *arg)
{
    yw_db_run(db, "UPDATE w SET v = 'y'", "");
    return YW_EINVAL;
}

Test(writer, the_generation_grows_when_a_watched_table_changes_and_only_then)
{
    static const char *const watched[] = {"w", NULL};
    yw_writer *w = start_writer("gen.db");
    uint64_t before = yw_writer_generation(w);
    cr_assert_eq(yw_writer_run(w, create_two_tables, NULL), 0);
    cr_assert_gt(yw_writer_generation(w), before, "nothing watched yet: every transaction counts");
    yw_writer_watch_tables(w, watched);

    uint64_t g = yw_writer_generation(w);
    cr_assert_eq(yw_writer_run(w, insert_other, NULL), 0);
    cr_expect_eq(yw_writer_generation(w), g, "a table nobody copies changed nothing");

    int64_t id = 7;
    cr_assert_eq(yw_writer_run(w, insert_w, &id), 0);
    cr_expect_gt(yw_writer_generation(w), g, "visible to the caller as soon as its write returns");

    g = yw_writer_generation(w);
    cr_assert_eq(yw_writer_run(w, update_w_then_fail, NULL), YW_EINVAL);
    cr_expect_gt(yw_writer_generation(w), g, "a rolled-back change still ends copies made meanwhile");
    yw_writer_stop(w);
}

struct unchanged_check {
    yw_writer *w;
    uint64_t since;
    bool change_first, unchanged;
};

static int check_unchanged(yw_db *db, void *arg)
{
    struct unchanged_check *c = arg;
    if (c->change_first && yw_db_run(db, "INSERT INTO w(v) VALUES ('z')", "") < 0)
        return YW_EDB;
    c->unchanged = yw_writer_unchanged_since(c->w, c->since);
    return 0;
}

/* A read's job skips looking a grant up again only while nothing it copied can have changed. */
Test(writer, a_job_learns_whether_copies_made_at_a_generation_still_hold)
{
    static const char *const watched[] = {"w", NULL};
    yw_writer *w = start_writer("unchanged.db");
    cr_assert_eq(yw_writer_run(w, create_two_tables, NULL), 0);
    struct unchanged_check c = {.w = w, .since = yw_writer_generation(w)};
    cr_assert_eq(yw_writer_run(w, check_unchanged, &c), 0);
    cr_expect_not(c.unchanged, "nothing is watched yet: every transaction may have changed anything");

    yw_writer_watch_tables(w, watched);
    c.since = yw_writer_generation(w);
    cr_assert_eq(yw_writer_run(w, insert_other, NULL), 0);
    cr_assert_eq(yw_writer_run(w, check_unchanged, &c), 0);
    cr_expect(c.unchanged, "a table nobody copies changed nothing");

    c.change_first = true;
    cr_assert_eq(yw_writer_run(w, check_unchanged, &c), 0);
    cr_expect_not(c.unchanged, "a change earlier in the same transaction went unseen");

    c.change_first = false;
    cr_assert_eq(yw_writer_run(w, check_unchanged, &c), 0);
    cr_expect_not(c.unchanged, "a committed change went unseen");
    c.since = yw_writer_generation(w);
    cr_assert_eq(yw_writer_run(w, check_unchanged, &c), 0);
    cr_expect(c.unchanged);
    yw_writer_stop(w);
}

/* ---- checkpoints on a thread of their own -------------------------------- */

static int insert_thousand_pages(yw_db *db, void *arg)
{
    int rc = yw_db_run(db,
                       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
                       " INSERT INTO w (v) SELECT hex(randomblob(1800)) FROM n",
                       "");
    return rc < 0 ? rc : 0;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

Test(writer, the_log_stays_bounded_under_continuous_writes_and_reaches_the_database, .timeout = 120)
{
    yw_writer *w = start_writer("ckpt.db");
    cr_assert_eq(yw_writer_run(w, create_w_table, NULL), 0);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", db_path("ckpt.db"));
    long largest = 0;
    /* 40,000 rows of about 4 KB, back to back (the next job queued before the last is done, as an import
       does): about 160 MB through the log, and never a moment when the log is all copied back */
    yw_write_ticket t[2];
    yw_writer_submit(w, &t[0], insert_thousand_pages, NULL);
    for (int i = 1; i <= 40; i++) {
        if (i < 40)
            yw_writer_submit(w, &t[i % 2], insert_thousand_pages, NULL);
        cr_assert_eq(yw_writer_wait(w, &t[(i - 1) % 2]), 0);
        long now = file_size(wal);
        largest = now > largest ? now : largest;
    }
    cr_expect_lt(largest, 100L * 1024 * 1024, "the log grew to %ld bytes", largest);
    cr_expect_gt(file_size(db_path("ckpt.db")), 100L * 1024 * 1024, "the rows reached the database file");
    yw_writer_stop(w);
}
