-- Chinese full-text search over the catalog: name, summary, the items'
-- names and titles, and the provider's name, tokenized as CJK bigrams and
-- Latin words by the yw_cjk tokenizer (src/store/fts_cjk.c). Rows are kept
-- in step with resources by the writes that change them.
CREATE VIRTUAL TABLE resources_fts USING fts5(
    code UNINDEXED, name, summary, items, provider,
    tokenize = 'yw_cjk'
);
