/* The yw_cjk FTS5 tokenizer and the yw_bm25 ranking function (see fts_cjk.h). */
#include "store/fts_cjk.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int unused;
} cjk_tokenizer;

static int cjk_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
    (void)ctx;
    (void)argv;
    (void)argc;
    cjk_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void cjk_delete(Fts5Tokenizer *t)
{
    free(t);
}

/* Decodes one UTF-8 code point at s (len bytes left); sets *n to its length. Invalid bytes count as U+FFFD. */
static uint32_t decode(const unsigned char *s, int len, int *n)
{
    uint32_t c = s[0];
    int need = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (need < 0 || need >= len) {
        *n = 1;
        return 0xFFFD;
    }
    c &= need == 0 ? 0x7F : need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07;
    for (int i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *n = 1;
            return 0xFFFD;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *n = need + 1;
    return c;
}

static bool is_cjk(uint32_t c)
{
    return (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x2FA1F) || (c >= 0x3040 && c <= 0x30FF) || (c >= 0xAC00 && c <= 0xD7AF);
}

static bool is_separator(uint32_t c)
{
    if (c < 0x80)
        return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
    return (c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFF0F) ||
           (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
           c == 0xFFFD || (c >= 0x80 && c <= 0xBF);
}

typedef int (*token_fn)(void *, int, const char *, int, int, int);

/* A run of CJK characters starting at byte start: unigrams with colocated bigrams, or for queries bigrams only. */
static int emit_cjk_run(const char *text, const int *offs, int count, bool query, void *ctx, token_fn token)
{
    int rc = SQLITE_OK;
    if (query && count >= 2) {
        for (int i = 0; i + 1 < count && rc == SQLITE_OK; i++)
            rc = token(ctx, 0, text + offs[i], offs[i + 2] - offs[i], offs[i], offs[i + 2]);
        return rc;
    }
    for (int i = 0; i < count && rc == SQLITE_OK; i++) {
        rc = token(ctx, 0, text + offs[i], offs[i + 1] - offs[i], offs[i], offs[i + 1]);
        if (rc == SQLITE_OK && i + 1 < count)
            rc = token(ctx, FTS5_TOKEN_COLOCATED, text + offs[i], offs[i + 2] - offs[i], offs[i], offs[i + 2]);
    }
    return rc;
}

static int cjk_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int len, token_fn token)
{
    (void)t;
    bool query = (flags & FTS5_TOKENIZE_QUERY) != 0;
    const unsigned char *s = (const unsigned char *)text;
    /* Byte offsets of the characters of the current CJK run, plus its end. */
    int cap = 64, count = 0;
    int *offs = malloc(sizeof(int) * (size_t)(cap + 1));
    char word[256];
    int wlen = 0, wstart = 0, rc = SQLITE_OK;
    if (!offs)
        return SQLITE_NOMEM;
    for (int i = 0; i <= len && rc == SQLITE_OK;) {
        int n = 1;
        uint32_t c = i < len ? decode(s + i, len - i, &n) : 0;
        bool cjk = i < len && is_cjk(c);
        bool sep = i >= len || (!cjk && is_separator(c));
        /* close a CJK run */
        if (count && !cjk) {
            offs[count] = i;
            rc = emit_cjk_run(text, offs, count, query, ctx, token);
            count = 0;
        }
        /* close a word */
        if (wlen && (cjk || sep)) {
            if (rc == SQLITE_OK)
                rc = token(ctx, 0, word, wlen, wstart, i);
            wlen = 0;
        }
        if (i >= len)
            break;
        if (cjk) {
            if (count == cap) {
                cap *= 2;
                int *grown = realloc(offs, sizeof(int) * (size_t)(cap + 1));
                if (!grown) {
                    rc = SQLITE_NOMEM;
                    break;
                }
                offs = grown;
            }
            offs[count++] = i;
        } else if (!sep) {
            if (wlen == 0)
                wstart = i;
            if (wlen + n <= (int)sizeof word)
                for (int k = 0; k < n; k++) {
                    unsigned char b = s[i + k];
                    word[wlen++] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
                }
        }
        i += n;
    }
    free(offs);
    return rc;
}

/* What yw_bm25 computes once per query: the average ranked length and each ranked phrase's weight. */
typedef struct {
    int phrases;
    double avg_length;
    double *idf;  /* per ranked phrase */
    double *freq; /* per ranked phrase, scratch for the current row */
} bm25_query;

static int count_row(const Fts5ExtensionApi *api, Fts5Context *fts, void *count)
{
    (void)api;
    (void)fts;
    (*(sqlite3_int64 *)count)++;
    return SQLITE_OK;
}

static double column_weight(int column, int nval, sqlite3_value **val)
{
    return column + 1 < nval ? sqlite3_value_double(val[column + 1]) : 0.0;
}

/* The query-wide figures, computed on the first row and kept with the query. */
static int bm25_query_of(const Fts5ExtensionApi *api, Fts5Context *fts, int nval, sqlite3_value **val,
                         bm25_query **out)
{
    bm25_query *q = api->xGetAuxdata(fts, 0);
    if (q) {
        *out = q;
        return SQLITE_OK;
    }
    int phrases = nval > 0 ? sqlite3_value_int(val[0]) : 0;
    if (phrases < 0 || phrases > api->xPhraseCount(fts))
        phrases = api->xPhraseCount(fts);
    q = sqlite3_malloc64(sizeof *q + sizeof(double) * 2 * (size_t)(phrases + 1));
    if (!q)
        return SQLITE_NOMEM;
    q->phrases = phrases;
    q->idf = (double *)(q + 1);
    q->freq = q->idf + phrases + 1;
    sqlite3_int64 rows = 0, total = 0;
    int rc = api->xRowCount(fts, &rows);
    for (int c = 0; rc == SQLITE_OK && c < api->xColumnCount(fts); c++) {
        sqlite3_int64 size = 0;
        if (column_weight(c, nval, val) > 0)
            rc = api->xColumnTotalSize(fts, c, &size);
        total += size;
    }
    q->avg_length = rows > 0 && total > 0 ? (double)total / (double)rows : 1.0;
    /* With one phrase its weight scales every score alike: the scan that counts its rows is saved. */
    for (int i = 0; rc == SQLITE_OK && i < phrases; i++) {
        sqlite3_int64 hits = 0;
        if (phrases > 1)
            rc = api->xQueryPhrase(fts, i, &hits, count_row);
        double idf = phrases > 1 ? log(((double)rows - (double)hits + 0.5) / ((double)hits + 0.5)) : 1.0;
        q->idf[i] = idf > 1e-6 ? idf : 1e-6;
    }
    if (rc == SQLITE_OK)
        rc = api->xSetAuxdata(fts, q, sqlite3_free);
    else
        sqlite3_free(q);
    *out = rc == SQLITE_OK ? q : NULL;
    return rc;
}

/*
 * yw_bm25(table, ranked_phrases, weight of column 0, of column 1, ...):
 * Okapi BM25 (k1 = 1.2, b = 0.75) as FTS5's bm25() computes it, and like it
 * negative, so that the best row sorts first; with two differences:
 *
 *  - only the first ranked_phrases phrases of the query count: the phrases
 *    after them are filters (a status, an owner) and weigh nothing;
 *  - a row's length is the high 32 bits of its rowid (see fts_cjk.h),
 *    not FTS5's own record of it, which costs a lookup per row.
 *
 * A column without a positive weight is not ranked text: its hits do not
 * count, nor its length in the average.
 */
static void bm25_rank(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
                      sqlite3_value **val)
{
    const double k1 = 1.2, b = 0.75;
    bm25_query *q;
    int rc = bm25_query_of(api, fts, nval, val, &q);
    int hits = 0;
    if (rc == SQLITE_OK) {
        memset(q->freq, 0, sizeof(double) * (size_t)q->phrases);
        rc = api->xInstCount(fts, &hits);
    }
    for (int i = 0; rc == SQLITE_OK && i < hits; i++) {
        int phrase, column, offset;
        rc = api->xInst(fts, i, &phrase, &column, &offset);
        if (rc == SQLITE_OK && phrase < q->phrases)
            q->freq[phrase] += column_weight(column, nval, val);
    }
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    double length = (double)(api->xRowid(fts) >> 32);
    double score = 0;
    for (int i = 0; i < q->phrases; i++)
        score += q->idf[i] * (q->freq[i] * (k1 + 1)) / (q->freq[i] + k1 * (1 - b + b * length / q->avg_length));
    sqlite3_result_double(ctx, -score);
}

static int count_position(void *count, int flags, const char *token, int len, int start, int end)
{
    (void)token;
    (void)len;
    (void)start;
    (void)end;
    if (!(flags & FTS5_TOKEN_COLOCATED))
        (*(sqlite3_int64 *)count)++;
    return SQLITE_OK;
}

/* yw_cjk_length(text, ...): the positions yw_cjk indexes for the texts, summed (FTS5 counts the same). */
static void length_of_texts(sqlite3_context *ctx, int nval, sqlite3_value **val)
{
    sqlite3_int64 count = 0;
    int rc = SQLITE_OK;
    for (int i = 0; rc == SQLITE_OK && i < nval; i++) {
        const char *text = (const char *)sqlite3_value_text(val[i]);
        if (text)
            rc = cjk_tokenize(NULL, &count, FTS5_TOKENIZE_DOCUMENT, text, sqlite3_value_bytes(val[i]), count_position);
    }
    if (rc == SQLITE_OK)
        sqlite3_result_int64(ctx, count);
    else
        sqlite3_result_error_code(ctx, rc);
}

int yw_fts_cjk_register(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(s);
    sqlite3_finalize(s);
    if (!api)
        return SQLITE_ERROR;
    static fts5_tokenizer tokenizer = {cjk_create, cjk_delete, cjk_tokenize};
    rc = api->xCreateTokenizer(api, "yw_cjk", NULL, &tokenizer, NULL);
    if (rc == SQLITE_OK)
        rc = api->xCreateFunction(api, "yw_bm25", NULL, bm25_rank, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "yw_cjk_length", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, length_of_texts,
                                     NULL, NULL);
    return rc;
}
