/*
 * The yw_cjk tokenizer: on a generated corpus of Chinese texts, a quoted
 * query finds exactly the texts that contain it (recall and precision of a
 * substring search), for queries of one to five characters; Latin words
 * match case-insensitively; FTS5 syntax in a quoted term is just text.
 * yw_bm25, reading each row's length from its rowid (yw_cjk_length), scores
 * as FTS5's bm25 does, and phrases after the ranked ones weigh nothing.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/fts_cjk.h"

static const char *const alphabet[] = {"户", "籍", "人", "口", "社", "保", "执", "照", "企", "业",
                                       "信", "用", "婚", "姻", "登", "记", "证", "明", "数", "据"};
#define NALPHA 20
#define NDOCS 400

static sqlite3 *db;
static char docs[NDOCS][200];

static void setup(void)
{
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    cr_assert_eq(yw_fts_cjk_register(db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'yw_cjk')", NULL, NULL, NULL),
                 SQLITE_OK);
    srand(7);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "INSERT INTO t(rowid, body) VALUES (?1, ?2)", -1, &s, NULL);
    for (int d = 0; d < NDOCS; d++) {
        docs[d][0] = '\0';
        int n = 2 + rand() % 12;
        for (int i = 0; i < n; i++) {
            strcat(docs[d], alphabet[rand() % NALPHA]);
            if (rand() % 7 == 0)
                strcat(docs[d], rand() % 2 ? " " : "，");
        }
        sqlite3_bind_int(s, 1, d);
        sqlite3_bind_text(s, 2, docs[d], -1, SQLITE_STATIC);
        cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
}

static void teardown(void)
{
    sqlite3_close(db);
}

/* Rows matching the quoted query, as a bitmap. */
static void fts_hits(const char *query, char hits[NDOCS])
{
    memset(hits, 0, NDOCS);
    char expr[256];
    snprintf(expr, sizeof expr, "\"%s\"", query);
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1", -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_text(s, 1, expr, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW)
        hits[sqlite3_column_int(s, 0)] = 1;
    sqlite3_finalize(s);
}

TestSuite(fts, .init = setup, .fini = teardown);

Test(fts, recall_and_precision_equal_a_substring_search)
{
    int queries = 0, nonempty = 0;
    for (int len = 1; len <= 5; len++) {
        for (int k = 0; k < 60; k++) {
            char q[64] = "";
            for (int i = 0; i < len; i++)
                strcat(q, alphabet[rand() % NALPHA]);
            char hits[NDOCS];
            fts_hits(q, hits);
            for (int d = 0; d < NDOCS; d++) {
                /* separators break a term, as they do in the index */
                bool contains = strstr(docs[d], q) != NULL;
                cr_assert_eq(hits[d], contains, "query %s, document %d \"%s\": fts %d, substring %d", q, d, docs[d],
                             hits[d], contains);
                nonempty += contains;
            }
            queries++;
        }
    }
    cr_assert_gt(nonempty, 100, "the corpus must give the queries something to find");
    (void)queries;
}

Test(fts, latin_words_match_whole_and_without_case)
{
    sqlite3_exec(db, "INSERT INTO t(rowid, body) VALUES (1000, 'USCC 统一社会信用代码 API-Gateway v2')", NULL, NULL, NULL);
    char hits[NDOCS + 1001];
    (void)hits;
    sqlite3_stmt *s;
    const char *const found[] = {"\"uscc\"", "\"Api\"", "\"gateway\"", "\"v2\"", "\"信用代码\"", "\"uscc 统一\""};
    for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) {
        sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1 AND rowid = 1000", -1, &s, NULL);
        sqlite3_bind_text(s, 1, found[i], -1, SQLITE_STATIC);
        cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
        cr_assert_eq(sqlite3_column_int(s, 0), 1, "%s", found[i]);
        sqlite3_finalize(s);
    }
    sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1 AND rowid = 1000", -1, &s, NULL);
    sqlite3_bind_text(s, 1, "\"usc\"", -1, SQLITE_STATIC);
    sqlite3_step(s);
    cr_assert_eq(sqlite3_column_int(s, 0), 0, "a Latin term matches whole words");
    sqlite3_finalize(s);
}

Test(fts, syntax_inside_a_quoted_term_is_text)
{
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &s, NULL);
    sqlite3_bind_text(s, 1, "\"OR * NEAR( 户籍 )\"", -1, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
}

/*
 * A second table over the same texts, with rowids as yw_bm25 wants them
 * (length << 32 | document) and, if asked, a filter column.
 */
static void make_ranked_table(bool tagged)
{
    cr_assert_eq(sqlite3_exec(db,
                              tagged ? "CREATE VIRTUAL TABLE r USING fts5(body, tag, tokenize = 'yw_cjk');"
                                       "INSERT INTO r(rowid, body, tag) SELECT (yw_cjk_length(body) << 32) | rowid,"
                                       " body, CASE WHEN rowid % 2 THEN 'odd' ELSE 'even' END FROM t;"
                                     : "CREATE VIRTUAL TABLE r USING fts5(body, tokenize = 'yw_cjk');"
                                       "INSERT INTO r(rowid, body) SELECT (yw_cjk_length(body) << 32) | rowid, body FROM t;",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
}

/* The score of each matching document by both functions, keyed by document. */
static int scores(const char *expr, int ranked, double ours[NDOCS], double fts5[NDOCS])
{
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "SELECT rowid & 4294967295, yw_bm25(r, ?2, 1.0), bm25(r, 1.0)"
                                    " FROM r WHERE r MATCH ?1",
                                    -1, &s, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_bind_text(s, 1, expr, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, ranked);
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int d = sqlite3_column_int(s, 0);
        ours[d] = sqlite3_column_double(s, 1);
        fts5[d] = sqlite3_column_double(s, 2);
        n++;
    }
    cr_assert_eq(sqlite3_errcode(db), SQLITE_DONE, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return n;
}

Test(fts, bm25_from_the_rowid_scores_as_fts5_does)
{
    make_ranked_table(false);
    double ours[NDOCS], fts5[NDOCS];
    /* two phrases: the same score, so the lengths from the rowid are FTS5's own */
    const char *const pairs[] = {"\"户\" \"籍\"", "\"人口\" \"社\"", "\"数\" \"证\""};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        memset(fts5, 0, sizeof fts5);
        int n = scores(pairs[i], 2, ours, fts5);
        cr_assert_gt(n, 3, "%s finds something", pairs[i]);
        for (int d = 0; d < NDOCS; d++)
            if (fts5[d] != 0)
                cr_assert_float_eq(ours[d], fts5[d], 1e-9, "%s, document %d \"%s\"", pairs[i], d, docs[d]);
    }
    /* one phrase: its weight is left out, the order is the same */
    memset(fts5, 0, sizeof fts5);
    int n = scores("\"户\"", 1, ours, fts5);
    cr_assert_gt(n, 3);
    for (int a = 0; a < NDOCS; a++)
        for (int b = 0; b < NDOCS; b++)
            if (fts5[a] != 0 && fts5[b] != 0 && fabs(fts5[a] - fts5[b]) > 1e-9)
                cr_assert_eq(ours[a] < ours[b], fts5[a] < fts5[b], "documents %d and %d", a, b);
}

Test(fts, phrases_after_the_ranked_ones_weigh_nothing)
{
    make_ranked_table(true);
    double plain[NDOCS], filtered[NDOCS], unused[NDOCS];
    memset(plain, 0, sizeof plain);
    memset(filtered, 0, sizeof filtered);
    scores("\"人\"", 1, plain, unused);
    int n = scores("\"人\" AND {tag}: \"odd\"", 1, filtered, unused);
    cr_assert_gt(n, 3);
    for (int d = 0; d < NDOCS; d++)
        if (filtered[d] != 0)
            cr_assert_float_eq(filtered[d], plain[d], 1e-12, "document %d", d);
}
