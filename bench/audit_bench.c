/*
 * Audit log benchmark, in process.
 *
 *  1. Appending: N entries through the writer in durable batches (each batch
 *     one group commit, synchronous=FULL), stored as the server stores them
 *     (packed rows, docs/audit.md), against the reference of storing entry
 *     texts in a plain SQLite table, a row each, in the same batches — the
 *     cost of the storage alone. Prints entries/s of both and their ratio.
 *  2. Proofs: grows the log to P entries, then times inclusion proofs of
 *     random entries against the full tree, against the reference of one
 *     primary-key lookup of an entry. Prints p50/p99 of both.
 *
 * usage: audit-bench [N entries, default 1000000] [P proof log size, default 10000000]
 */
#include "audit/log.h"
#include "core/time.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 2000

typedef struct {
    yw_audit *audit;
    int count;
    bool plain;
    uint64_t next;
} batch;

static const char *ids_text = "[\"330106199001011234\"]";

static int append_job(yw_db *db, void *arg)
{
    batch *b = arg;
    const char *ids = ids_text, *items = "[\"name\",\"birth_date\"]";
    int rc = 0;
    for (int i = 0; i < b->count && rc >= 0; i++) {
        yw_audit_event e = {.actor = "scjg_steward", .actor_kind = "user", .actor_org = "113301000024971294",
                            .action = "record.read", .stage = "share", .object_type = "record",
                            .object_ids = ids, .items = items, .purpose = "grant-42", .status = 200,
                            .request_id = "bench", .client = "127.0.0.1"};
        if (b->plain) {
            char entry[512];
            snprintf(entry, sizeof entry,
                     "{\"action\":\"record.read\",\"actor\":\"scjg_steward\",\"seq\":%llu,\"items\":[\"name\","
                     "\"birth_date\"],\"object_ids\":%s,\"purpose\":\"grant-42\",\"status\":200}",
                     (unsigned long long)b->next, ids_text);
            rc = yw_db_run(db, "INSERT INTO bench_plain(seq, entry) VALUES ($1, $2)", "it", (int64_t)b->next++, entry);
        } else {
            rc = (int)(yw_audit_append(b->audit, db, &e) < 0 ? -1 : 0);
        }
    }
    return rc < 0 ? rc : 0;
}

static double run(yw_store *store, yw_audit *audit, uint64_t n, bool plain)
{
    batch b = {.audit = audit, .plain = plain};
    int64_t t0 = yw_mono_ns();
    for (uint64_t done = 0; done < n; done += BATCH) {
        b.count = (int)(n - done < BATCH ? n - done : BATCH);
        if (yw_writer_run(yw_store_writer(store), append_job, &b) < 0) {
            fprintf(stderr, "append failed\n");
            exit(1);
        }
    }
    return (double)n / ((double)(yw_mono_ns() - t0) / 1e9);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int create_plain(yw_db *db, void *arg)
{
    return yw_db_exec(db, "CREATE TABLE IF NOT EXISTS bench_plain(seq INTEGER PRIMARY KEY, entry TEXT NOT NULL)");
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint64_t p = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000;
    if (sodium_init() < 0)
        return 1;
    char dir[] = "/tmp/yiwang-audit-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char url[256], err[256];
    snprintf(url, sizeof url, "sqlite:%s/yiwang.db", dir);
    yw_store *store = yw_store_open(url, 0, err, sizeof err);
    yw_audit *audit = store ? yw_audit_open(store, dir, err, sizeof err) : NULL;
    if (!audit) {
        fprintf(stderr, "audit-bench: %s\n", err);
        return 1;
    }
    yw_writer_run(yw_store_writer(store), create_plain, NULL);

    double plain = run(store, audit, n, true);
    double merkle = run(store, audit, n, false);
    printf("audit append, %llu entries in durable batches of %d\n", (unsigned long long)n, BATCH);
    printf("  %-34s %12.0f entries/s\n", "yiwang audit log (hash + tree)", merkle);
    printf("  %-34s %12.0f rows/s\n", "reference: plain SQLite insert", plain);
    printf("  ratio %.2f   target >= 300000 entries/s: %s\n", merkle / plain, merkle >= 300000 ? "met" : "NOT met");

    if (p == 0)
        goto done;
    if (p > n) {
        fprintf(stderr, "growing the log to %llu entries for the proof benchmark...\n", (unsigned long long)p);
        run(store, audit, p - n, false);
    }
    uint64_t size = yw_audit_size(audit);
    yw_db *db = yw_store_reader(store);
    enum { SAMPLES = 20000 };
    yw_db_exec(db, "BEGIN"); /* one snapshot for every proof, as the server takes one per request */
    static int64_t proof_ns[SAMPLES], lookup_ns[SAMPLES];
    yw_hash path[YW_MERKLE_MAX_PROOF], leaf;
    for (int i = 0; i < SAMPLES; i++) {
        uint64_t seq = randombytes_uniform((uint32_t)(size < UINT32_MAX ? size : UINT32_MAX));
        int64_t t0 = yw_mono_ns();
        yw_audit_subtree(db, 0, seq, leaf);
        int64_t t1 = yw_mono_ns();
        int len = yw_merkle_inclusion(yw_audit_subtree_cached, &(yw_audit_reader){audit, db}, seq, size, path);
        int64_t t2 = yw_mono_ns();
        if (len < 0) {
            fprintf(stderr, "proof failed\n");
            return 1;
        }
        lookup_ns[i] = t1 - t0;
        proof_ns[i] = t2 - t1;
    }
    yw_db_exec(db, "COMMIT");
    qsort(proof_ns, SAMPLES, sizeof(int64_t), cmp_i64);
    qsort(lookup_ns, SAMPLES, sizeof(int64_t), cmp_i64);
    printf("inclusion proof, log of %llu entries, %d random entries\n", (unsigned long long)size, SAMPLES);
    printf("  %-34s p50 %7.1f us   p99 %7.1f us\n", "yiwang proof generation", proof_ns[SAMPLES / 2] / 1e3,
           proof_ns[SAMPLES * 99 / 100] / 1e3);
    printf("  %-34s p50 %7.1f us   p99 %7.1f us\n", "reference: one entry lookup", lookup_ns[SAMPLES / 2] / 1e3,
           lookup_ns[SAMPLES * 99 / 100] / 1e3);
    printf("  ratio (p99) %.1f   target p99 < 100 us: %s\n", (double)proof_ns[SAMPLES * 99 / 100] / (double)lookup_ns[SAMPLES * 99 / 100],
           proof_ns[SAMPLES * 99 / 100] < 100000 ? "met" : "NOT met");

done:
    yw_audit_close(audit);
    yw_store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
