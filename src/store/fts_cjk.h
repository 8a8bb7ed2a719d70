/*
 * The "yw_cjk" FTS5 tokenizer for Chinese full-text search (SQLite backend).
 *
 * FTS5's own tokenizers cannot serve Chinese: unicode61 sees a whole run of
 * Han characters as one word, and trigram cannot match the two-character
 * words that dominate queries (户籍, 社保, 执照). This one indexes CJK text as
 * overlapping character bigrams, with the unigram at the same position so
 * that one-character queries work, and other text as lower-cased words:
 *
 *   document "户籍人口"  position 0: 户 户籍   1: 籍 籍人   2: 人 人口   3: 口
 *   query    "籍人口"    bigrams 籍人 人口 at consecutive positions (a phrase)
 *   query    "口"        the unigram
 *
 * so a quoted query matches exactly the texts that contain it: recall equals
 * a substring search for CJK terms (Latin terms match whole words).
 */
#ifndef YW_STORE_FTS_CJK_H
#define YW_STORE_FTS_CJK_H

#include <sqlite3.h>

/* Registers the tokenizer on db; SQLITE_OK or an SQLite error code. */
int yw_fts_cjk_register(sqlite3 *db);

#endif
