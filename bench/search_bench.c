/*
 * Catalog search benchmark: 100,000 resources with Chinese names and
 * summaries; random one- and two-character queries through the same SQL as
 * GET /api/v1/resources?q= (FTS5 with the yw_cjk tokenizer, bm25, first
 * page of 50), against the reference of a brute-force substring scan
 * (LIKE '%term%') over the same columns. Prints p50/p99 of both.
 *
 * usage: search-bench [resources, default 100000] [queries, default 500]
 */
#include "core/time.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const words[] = {"户籍", "人口", "社保", "执照", "企业", "信用", "婚姻", "登记", "证明", "医疗",
                                    "教育", "住房", "公积金", "交通", "车辆", "环境", "排污", "许可", "应急", "危化",
                                    "税务", "纳税", "不动产", "出生", "死亡", "养老", "就业", "失业", "低保", "救助"};
#define NWORDS (sizeof words / sizeof words[0])

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    int start, n;
} fill_arg;

static int fill_job(yw_db *db, void *arg)
{
    fill_arg *f = arg;
    int rc = yw_db_run(db, "INSERT OR IGNORE INTO orgs(code, name, region_code, level, created_at, updated_at)"
                           " VALUES ('91350100M000100Y43', '市数据资源中心', '350100', 'city', 0, 0)", "");
    for (int i = f->start; rc >= 0 && i < f->start + f->n; i++) {
        char code[64], name[128], summary[256];
        snprintf(code, sizeof code, "91350100M000100Y43-%06d", i + 1);
        snprintf(name, sizeof name, "%s%s信息%d", words[randombytes_uniform(NWORDS)], words[randombytes_uniform(NWORDS)], i);
        snprintf(summary, sizeof summary, "提供%s和%s相关的%s数据", words[randombytes_uniform(NWORDS)],
                 words[randombytes_uniform(NWORDS)], words[randombytes_uniform(NWORDS)]);
        rc = yw_db_run(db,
                       "INSERT INTO resources(code, provider_org, status, version, name, category, share_type, doc,"
                       " created_at, updated_at) VALUES ($1, '91350100M000100Y43', 'published', 1, $2, 'department',"
                       " 'unconditional', json_object('name', $2, 'summary', $3), 0, 0)",
                       "ttt", code, name, summary);
        if (rc >= 0)
            rc = yw_db_run(db, "INSERT INTO resources_fts(code, name, summary, items, provider) VALUES ($1, $2, $3, '', '市数据资源中心')",
                           "ttt", code, name, summary);
    }
    return rc < 0 ? rc : 0;
}

static int64_t time_query(yw_db *db, const char *sql, const char *arg)
{
    yw_stmt *s;
    int64_t t0 = yw_mono_ns();
    if (yw_db_query(db, &s, sql, "t", arg) < 0)
        return -1;
    while (yw_stmt_step(s) == YW_DB_ROW)
        ;
    yw_stmt_release(s);
    return yw_mono_ns() - t0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000, q = argc > 2 ? atoi(argv[2]) : 500;
    if (sodium_init() < 0)
        return 1;
    char dir[] = "/tmp/yiwang-search-bench-XXXXXX", url[256], err[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(url, sizeof url, "sqlite:%s/yiwang.db", dir);
    yw_store *store = yw_store_open(url, err, sizeof err);
    if (!store) {
        fprintf(stderr, "search-bench: %s\n", err);
        return 1;
    }
    fprintf(stderr, "indexing %d resources...\n", n);
    for (int done = 0; done < n; done += 10000) {
        fill_arg f = {done, n - done < 10000 ? n - done : 10000};
        int rc = yw_writer_run(yw_store_writer(store), fill_job, &f);
        if (rc < 0) {
            fprintf(stderr, "search-bench: cannot index: error %d\n", rc);
            return 1;
        }
    }
    yw_db *db = yw_store_reader(store);
    int64_t *fts = calloc((size_t)q, sizeof *fts), *scan = calloc((size_t)q, sizeof *scan);
    for (int i = 0; i < q; i++) {
        const char *w = words[randombytes_uniform(NWORDS)];
        char term[32], match[40], like[40];
        /* half the queries are two characters, half one */
        snprintf(term, sizeof term, "%.*s", i % 2 ? 3 : 6, w);
        snprintf(match, sizeof match, "\"%s\"", term);
        snprintf(like, sizeof like, "%%%s%%", term);
        fts[i] = time_query(db,
                            "SELECT r.code, r.doc FROM resources_fts f JOIN resources r ON r.code = f.code"
                            " WHERE resources_fts MATCH $1 AND r.status = 'published'"
                            " ORDER BY bm25(resources_fts, 0.0, 10.0, 1.0, 2.0, 1.0), r.code LIMIT 51",
                            match);
        scan[i] = time_query(db,
                             "SELECT code, doc FROM resources WHERE status = 'published' AND (name LIKE $1"
                             " OR json_extract(doc, '$.summary') LIKE $1) LIMIT 51",
                             like);
    }
    qsort(fts, (size_t)q, sizeof *fts, cmp);
    qsort(scan, (size_t)q, sizeof *scan, cmp);
    printf("catalog search, %d resources, %d one- and two-character queries, first page\n", n, q);
    printf("  %-40s p50 %8.2f ms   p99 %8.2f ms\n", "yiwang full text (FTS5, yw_cjk, bm25)", fts[q / 2] / 1e6,
           fts[q * 99 / 100] / 1e6);
    printf("  %-40s p50 %8.2f ms   p99 %8.2f ms\n", "reference: substring scan (LIKE)", scan[q / 2] / 1e6,
           scan[q * 99 / 100] / 1e6);
    printf("  ratio (p99) %.2f   target p99 < 20 ms: %s\n", (double)fts[q * 99 / 100] / (double)scan[q * 99 / 100],
           fts[q * 99 / 100] < 20000000 ? "met" : "NOT met");
    free(fts);
    free(scan);
    yw_store_close(store);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
