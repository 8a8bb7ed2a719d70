-- The audit log, packed: one row holds up to 64 consecutive entries in
-- their stored form (docs/audit.md, src/audit/entry.h) with their leaf
-- hashes. A row per entry cost more than hashing and serializing it.
--
-- The rows of the old audit_log move to audit_log_v1; the server moves
-- them into packed rows at its next start (src/audit/log.c) and drops it.

CREATE TABLE audit_chunks (
    first_seq INTEGER PRIMARY KEY,            -- seq of the row's first entry
    leaves    BLOB NOT NULL,                  -- 32-byte leaf hash of each entry, in order
    entries   TEXT NOT NULL                   -- JSON array of the entries' stored forms
);

-- Which rows hold entries of an org (the org as its JSON string literal,
-- without the quotes): org admins read only their org's entries.
CREATE TABLE audit_chunk_orgs (
    org       TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    PRIMARY KEY (org, first_seq)
) WITHOUT ROWID;

-- Subtrees below level 6 are no longer stored (src/audit/log.h): they are
-- hashed again from the leaves of one or two rows.
DELETE FROM audit_nodes WHERE level < 6;

DROP INDEX audit_log_org;
ALTER TABLE audit_log RENAME TO audit_log_v1;

-- One row per entry, for reading the log with SQL (the API and the
-- verifier read audit_chunks).
CREATE VIEW audit_log AS
SELECT c.first_seq + e.key      AS seq,
       e.value ->> 14           AS time_ms,
       e.value ->> 1            AS actor,
       e.value ->> 2            AS actor_kind,
       e.value ->> 3            AS actor_org,
       e.value ->> 0            AS action,
       e.value ->> 12           AS stage,
       e.value ->> 7            AS object_type,
       e.value -> 6             AS object_ids,
       e.value -> 5             AS items,
       e.value ->> 8            AS purpose,
       e.value ->> 13           AS status,
       e.value ->> 9            AS request_id,
       e.value ->> 4            AS client,
       e.value ->> 10           AS request_sha256,
       e.value ->> 11           AS response_sha256,
       substr(c.leaves, e.key * 32 + 1, 32) AS leaf
FROM audit_chunks c, json_each(c.entries) e;
