-- Catalog search filters by format too (table, file or api): the search
-- table gains the resource's format as a one-word column, like the filters
-- of migration 0007, and its rows are rebuilt from resources as
-- yw_catalog_index_resource (src/catalog/resources.c) writes them.
DROP TABLE resources_fts;
CREATE VIRTUAL TABLE resources_fts USING fts5(
    code, name, summary, items, provider,
    status, provider_org, category, share_type, format,
    tokenize = 'yw_cjk'
);
INSERT INTO resources_fts(rowid, code, name, summary, items, provider, status, provider_org, category, share_type,
                          format)
SELECT (yw_cjk_length(name, summary, items, provider) << 32) + id, code, name, summary, items, provider,
       status, provider_org, category, share_type, format
FROM (SELECT r.rowid AS id, r.code, r.name, coalesce(json_extract(r.doc, '$.summary'), '') AS summary,
             (SELECT coalesce(group_concat(coalesce(json_extract(i.value, '$.name'), '') || ' ' ||
                     coalesce(json_extract(i.value, '$.title'), ''), ' '), '') FROM json_each(r.doc, '$.items') i) AS items,
             o.name AS provider, r.status, r.provider_org, coalesce(r.category, '') AS category,
             coalesce(r.share_type, '') AS share_type, coalesce(json_extract(r.doc, '$.format'), '') AS format
      FROM resources r JOIN orgs o ON o.code = r.provider_org)
ORDER BY 1;
INSERT INTO resources_fts(resources_fts) VALUES ('optimize');
