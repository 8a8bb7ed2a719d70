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
 *
 * Ranking: yw_bm25(table, ranked_phrases, column weights...) is FTS5's
 * bm25 over the query's first ranked_phrases phrases (those after them are
 * filters), negative like it, so that ORDER BY puts the best first. FTS5
 * keeps each row's length in a side table that bm25 must look up row by
 * row (two microseconds a row: 200 ms over 100,000 matches), so yw_bm25
 * reads it from the rowid instead: a table ranked with it gives each row
 * the rowid
 *
 *     yw_cjk_length(its weighted columns' texts) << 32 | a number unique within that length
 *
 * where yw_cjk_length(text, ...) is the SQL function counting the positions
 * this tokenizer indexes. Rowid order is then shortest first.
 */
#ifndef YW_STORE_FTS_CJK_H
#define YW_STORE_FTS_CJK_H

#include <sqlite3.h>

/* Registers the tokenizer, yw_bm25 and yw_cjk_length on db; SQLITE_OK or an SQLite error code. */
int yw_fts_cjk_register(sqlite3 *db);

#endif
