/* The yw_cjk FTS5 tokenizer (see fts_cjk.h). */
#include "store/fts_cjk.h"

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
    return api->xCreateTokenizer(api, "yw_cjk", NULL, &tokenizer, NULL);
}
