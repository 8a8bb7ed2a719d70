-- Catalog search answered by the full-text index alone: the search table
-- gains a resource's status, provider org code, category and share type as
-- one-word columns, so that the filters of GET /api/v1/resources?q= (and
-- who may see a draft) are terms of the MATCH expression instead of a join
-- to resources for every match. The code is indexed as well, so that a
-- write finds the row it replaces without reading all of them. Each row's
-- rowid carries the length of its ranked text (name, summary, items,
-- provider) in its high 32 bits, which yw_bm25 reads instead of looking the
-- length up row by row (src/store/fts_cjk.h). The rows are rebuilt from
-- resources as yw_catalog_index_resource (src/catalog/resources.c) writes
-- them, and the index merged into one segment.
DROP TABLE resources_fts;
CREATE VIRTUAL TABLE resources_fts USING fts5(
    code, name, summary, items, provider,
    status, provider_org, category, share_type,
    tokenize = 'yw_cjk'
);
INSERT INTO resources_fts(rowid, code, name, summary, items, provider, status, provider_org, category, share_type)
SELECT (yw_cjk_length(name, summary, items, provider) << 32) + id, code, name, summary, items, provider,
       status, provider_org, category, share_type
FROM (SELECT r.rowid AS id, r.code, r.name, coalesce(json_extract(r.doc, '$.summary'), '') AS summary,
             (SELECT coalesce(group_concat(coalesce(json_extract(i.value, '$.name'), '') || ' ' ||
                     coalesce(json_extract(i.value, '$.title'), ''), ' '), '') FROM json_each(r.doc, '$.items') i) AS items,
             o.name AS provider, r.status, r.provider_org, coalesce(r.category, '') AS category,
             coalesce(r.share_type, '') AS share_type
      FROM resources r JOIN orgs o ON o.code = r.provider_org)
ORDER BY 1;
INSERT INTO resources_fts(resources_fts) VALUES ('optimize');
