-- The resource catalog (政务信息资源目录): what each department holds, described
-- once so that others find it and ask for it instead of collecting it again.
--
-- doc holds the metadata as JSON (name, summary, category, format, items, share
-- type and condition, ...); the columns beside it repeat what lists filter on.
-- Published metadata is versioned: each published version is kept whole.

CREATE TABLE resources (
    code         TEXT PRIMARY KEY,               -- {provider org}-{6-digit number}, immutable
    provider_org TEXT NOT NULL REFERENCES orgs(code),
    status       TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'retired')),
    version      INTEGER NOT NULL DEFAULT 0,     -- 0 until first published
    name         TEXT NOT NULL,
    category     TEXT,
    share_type   TEXT,
    doc          TEXT NOT NULL,
    published_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX resources_provider ON resources(provider_org, code);
CREATE INDEX resources_status ON resources(status, code);

CREATE TABLE resource_versions (
    code         TEXT NOT NULL REFERENCES resources(code),
    version      INTEGER NOT NULL,
    doc          TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (code, version)
) WITHOUT ROWID;
