/*
 * The audit log's packed storage (log.h): entries appended in writer jobs
 * are stored at commit, a failed job drops only what it appended, every
 * stored entry reads back as the canonical form its leaf hashes, proofs
 * verify against the signed head, the verifier finds the log intact, and a
 * data directory in the one-row-per-entry layout of before migration 0008
 * is converted without changing one leaf. Each test works in its own
 * temporary directory.
 */
#include <criterion/criterion.h>

#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/log.h"
#include "core/error.h"
#include "store/store.h"
#include "store/writer.h"

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/yw-audit-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    cr_assert_geq(sodium_init(), 0);
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

TestSuite(audit_log, .init = make_tmpdir, .fini = remove_tmpdir, .timeout = 60);

typedef struct {
    yw_store *store;
    yw_audit *audit;
} opened_log;

static opened_log open_log(void)
{
    char url[512], err[256] = "";
    snprintf(url, sizeof url, "sqlite:%s/yiwang.db", tmpdir);
    opened_log l = {.store = yw_store_open(url, 0, err, sizeof err)};
    cr_assert_not_null(l.store, "%s", err);
    l.audit = yw_audit_open(l.store, tmpdir, err, sizeof err);
    cr_assert_not_null(l.audit, "%s", err);
    return l;
}

static void close_log(opened_log *l)
{
    yw_audit_close(l->audit);
    yw_store_close(l->store);
}

typedef struct {
    yw_audit *audit;
    int count;
    int fail; /* < 0: the job fails after appending */
    const char *org;
    int64_t first_seq;
} append_job;

static int append_entries(yw_db *db, void *arg)
{
    append_job *j = arg;
    for (int i = 0; i < j->count; i++) {
        char id[32];
        snprintf(id, sizeof id, "[\"obj-%d\"]", i);
        yw_audit_event e = {.actor = "li.si", .actor_kind = "user", .actor_org = j->org, .action = "record.read",
                            .object_type = "record", .object_ids = id, .status = i % 7 ? 200 : 403,
                            .request_id = "r\"1\n", .client = "127.0.0.1"};
        int64_t seq = yw_audit_append(j->audit, db, &e);
        if (seq < 0)
            return (int)seq;
        if (i == 0)
            j->first_seq = seq;
    }
    return j->fail;
}

/* Every stored entry in order: their count, and each leaf equal to the hash of its canonical form. */
static uint64_t check_stored(yw_db *db)
{
    yw_audit_scan scan;
    yw_audit_row row;
    uint64_t n = 0;
    int rc = yw_audit_scan_start(&scan, db, 0, NULL);
    cr_assert_eq(rc, 0);
    yw_buf text = YW_BUF_INIT;
    while ((rc = yw_audit_scan_next(&scan, &row)) == 1) {
        cr_assert_eq(row.seq, n, "entry %llu where %llu was expected", (unsigned long long)row.seq,
                     (unsigned long long)n);
        yw_buf_reset(&text);
        yw_audit_values_canonical(&row.values, row.seq, &text);
        yw_hash leaf;
        yw_merkle_leaf(text.data, text.len, leaf);
        cr_assert_eq(memcmp(leaf, row.leaf, YW_HASH_LEN), 0, "leaf of entry %llu", (unsigned long long)row.seq);
        n++;
    }
    cr_assert_eq(rc, 0, "scan ended with %d", rc);
    yw_audit_scan_end(&scan);
    yw_buf_free(&text);
    return n;
}

static void check_verifies(yw_audit *a, yw_db *db, uint64_t want)
{
    int64_t bad = 0;
    uint64_t checked = 0;
    char why[256];
    cr_assert_eq(yw_audit_verify_db(db, yw_audit_public_key(a), &bad, why, sizeof why, &checked), 0, "%s", why);
    cr_assert_eq(checked, want);
}

Test(audit_log, a_failed_job_drops_only_its_own_entries)
{
    opened_log l = open_log();
    yw_writer *w = yw_store_writer(l.store);
    /* Queued together, so that they usually share one batch: the failure must not disturb the others. */
    append_job a = {.audit = l.audit, .count = 100, .org = "113301000024971107"};
    append_job b = {.audit = l.audit, .count = 30, .fail = YW_ESTATE, .org = "113301000024971294"};
    append_job c = {.audit = l.audit, .count = 5, .org = "113301000024971294"};
    yw_write_ticket ta, tb, tc;
    yw_writer_submit(w, &ta, append_entries, &a);
    yw_writer_submit(w, &tb, append_entries, &b);
    yw_writer_submit(w, &tc, append_entries, &c);
    cr_expect_eq(yw_writer_wait(w, &ta), 0);
    cr_expect_eq(yw_writer_wait(w, &tb), YW_ESTATE);
    cr_expect_eq(yw_writer_wait(w, &tc), 0);
    cr_expect_eq(a.first_seq, 0);
    cr_expect_eq(c.first_seq, 100, "the failed job's seqs are given again");
    cr_expect_eq(yw_audit_size(l.audit), 105);
    close_log(&l); /* signs the last head */

    l = open_log();
    yw_db *db = yw_store_reader(l.store);
    cr_expect_eq(check_stored(db), 105);
    check_verifies(l.audit, db, 105);
    close_log(&l);
}

Test(audit_log, large_batches_pack_into_rows_and_prove_inclusion)
{
    opened_log l = open_log();
    append_job j = {.audit = l.audit, .count = 1000, .org = "113301000024971107"};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(yw_writer_run(yw_store_writer(l.store), append_entries, &j), 0);
    close_log(&l);

    l = open_log();
    yw_db *db = yw_store_reader(l.store);
    int64_t rows = 0, orgs = 0;
    cr_assert_eq(yw_db_int(db, &rows, "SELECT count(*) FROM audit_chunks", ""), 1);
    cr_assert_eq(yw_db_int(db, &orgs, "SELECT count(*) FROM audit_chunk_orgs", ""), 1);
    cr_expect_eq(rows, 3 * ((1000 + YW_AUDIT_CHUNK_MAX - 1) / YW_AUDIT_CHUNK_MAX));
    cr_expect_eq(orgs, rows, "one org in every row");
    cr_expect_eq(check_stored(db), 3000);
    check_verifies(l.audit, db, 3000);
    yw_tree_head head;
    cr_assert_eq(yw_audit_latest_head(db, &head), 1);
    cr_assert_eq(head.tree_size, 3000);
    yw_audit_reader reader = {l.audit, db};
    for (uint64_t seq = 0; seq < 3000; seq += 97) {
        yw_hash path[YW_MERKLE_MAX_PROOF], leaf;
        cr_assert_eq(yw_audit_subtree(db, 0, seq, leaf), 0);
        int n = yw_merkle_inclusion(yw_audit_subtree_cached, &reader, seq, head.tree_size, path);
        cr_assert_geq(n, 0);
        cr_expect(yw_merkle_verify_inclusion(seq, head.tree_size, leaf, (const yw_hash *)path, n, head.root),
                  "proof of %llu", (unsigned long long)seq);
    }
    close_log(&l);
}

/* Writes entries as the one-row-per-entry layout did: its columns, its leaf, its subtrees, a signed head. */
typedef struct {
    yw_audit *audit;
    int count;
} legacy_job;

static int store_legacy_node(void *ctx, int level, uint64_t index, const yw_hash hash)
{
    if (level < YW_AUDIT_STORED_LEVEL)
        return 0;
    int rc = yw_db_run(ctx, "INSERT INTO audit_nodes(level, idx, hash) VALUES ($1, $2, $3)", "iib", (int64_t)level,
                       (int64_t)index, (const void *)hash, (size_t)YW_HASH_LEN);
    return rc < 0 ? rc : 0;
}

static int write_legacy(yw_db *db, void *arg)
{
    legacy_job *j = arg;
    yw_merkle_frontier f = {0};
    yw_buf text = YW_BUF_INIT;
    /* migrations/sqlite/0002_audit.sql's table, under the name migration 0008 gives it */
    int rc = yw_db_exec(db, "CREATE TABLE audit_log_v1 (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
                            " actor TEXT, actor_kind TEXT NOT NULL, actor_org TEXT, action TEXT, stage TEXT,"
                            " object_type TEXT, object_ids TEXT NOT NULL, items TEXT NOT NULL, purpose TEXT,"
                            " status INTEGER NOT NULL, request_id TEXT, client TEXT, request_sha256 TEXT,"
                            " response_sha256 TEXT, leaf BLOB NOT NULL)");
    for (int i = 0; i < j->count && rc >= 0; i++) {
        const char *org = i % 3 ? "113301000024971107" : NULL;
        yw_audit_event e = {.actor = "名字", .actor_kind = "user", .actor_org = org, .action = "auth.login",
                            .object_type = "user", .object_ids = "[\"li.si\"]", .status = 200 + i % 300,
                            .client = "127.0.0.1"};
        int64_t time_ms = 1795731284000 + i;
        yw_buf_reset(&text);
        yw_audit_entry_write(&e, (uint64_t)i, time_ms, &text);
        yw_hash leaf;
        yw_merkle_leaf(text.data, text.len, leaf);
        rc = yw_db_run(db,
                       "INSERT INTO audit_log_v1(seq, time_ms, actor, actor_kind, actor_org, action, stage, object_type,"
                       " object_ids, items, purpose, status, request_id, client, request_sha256, response_sha256, leaf)"
                       " VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, '[]', NULL, $9, NULL, $10, NULL, NULL, $11)",
                       "iittttttitb", (int64_t)i, time_ms, e.actor, e.actor_kind, org, e.action, e.object_type,
                       e.object_ids, (int64_t)e.status, e.client, (const void *)leaf, (size_t)YW_HASH_LEN);
        if (rc >= 0)
            rc = yw_merkle_frontier_push(&f, leaf, store_legacy_node, db);
    }
    yw_buf_free(&text);
    yw_tree_head h;
    yw_hash root;
    yw_merkle_frontier_root(&f, root);
    yw_audit_sign(j->audit, f.size, root, &h);
    if (rc >= 0)
        rc = yw_db_run(db, "INSERT INTO audit_heads(tree_size, root, timestamp, signature) VALUES ($1, $2, $3, $4)",
                       "ibib", (int64_t)h.tree_size, (const void *)h.root, (size_t)YW_HASH_LEN, h.timestamp,
                       (const void *)h.signature, (size_t)64);
    return rc < 0 ? rc : 0;
}

Test(audit_log, the_one_row_per_entry_layout_is_converted_without_changing_a_leaf)
{
    /* A new directory (its empty old-layout table dropped at open), then the old table with rows, as an old directory has. */
    opened_log l = open_log();
    legacy_job j = {.audit = l.audit, .count = 300};
    cr_assert_eq(yw_writer_run(yw_store_writer(l.store), write_legacy, &j), 0);
    yw_db *db = yw_store_reader(l.store);
    check_verifies(l.audit, db, 300); /* the verifier reads the old layout too */
    close_log(&l);

    l = open_log(); /* converts */
    db = yw_store_reader(l.store);
    int64_t left = -1;
    cr_assert_eq(yw_db_int(db, &left, "SELECT count(*) FROM sqlite_master WHERE name = 'audit_log_v1'", ""), 1);
    cr_expect_eq(left, 0, "the old table is dropped once empty");
    cr_expect_eq(check_stored(db), 300);
    check_verifies(l.audit, db, 300);
    /* and the log goes on from there */
    append_job more = {.audit = l.audit, .count = 10, .org = "113301000024971107"};
    cr_assert_eq(yw_writer_run(yw_store_writer(l.store), append_entries, &more), 0);
    cr_expect_eq(more.first_seq, 300);
    close_log(&l);
    l = open_log();
    check_verifies(l.audit, yw_store_reader(l.store), 310);
    close_log(&l);
}
