-- Shared data: the records of each resource, their history, and the change
-- sequence per resource that feeds the change feed and subscriptions.
--
-- key_index is the key item's value, or its blind index (HMAC) when the key
-- item is sensitive: then the plaintext key is stored nowhere. Values of
-- sensitive items inside data are encrypted (src/sec/keyring.h). hash is a
-- keyed hash of the plaintext data, so loading the same data again is
-- recognised without decrypting.

-- Rows are appended in rowid order, so a bulk load writes its data pages in
-- sequence; only the narrow key index takes random inserts.
CREATE TABLE records (
    resource   TEXT NOT NULL REFERENCES resources(code),
    key_index  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    data       TEXT,                         -- JSON object; NULL once deleted
    hash       TEXT NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    source     TEXT,                         -- the user or client that wrote this version
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX records_key ON records(resource, key_index);

-- The versions a record had before its current one (the current one is in
-- records): a first load writes no history.
CREATE TABLE record_versions (
    resource   TEXT NOT NULL,
    key_index  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    data       TEXT,
    hash       TEXT NOT NULL,
    deleted    INTEGER NOT NULL,
    source     TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX record_versions_key ON record_versions(resource, key_index, version);

CREATE TABLE record_changes (
    resource   TEXT NOT NULL,
    seq        INTEGER NOT NULL,             -- 1, 2, 3, ... per resource
    key_index  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (resource, seq)
) WITHOUT ROWID;
