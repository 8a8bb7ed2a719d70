-- The audit trail: an append-only Merkle log (RFC 9162 hashing).
--
-- entry is the canonical serialization of one event (docs/audit.md): the
-- leaf hash is SHA-256(0x00 || entry). The filter columns are generated from
-- entry itself, so they can never disagree with what was hashed.

CREATE TABLE audit_log (
    seq   INTEGER PRIMARY KEY,                -- leaf index, from 0
    entry TEXT NOT NULL,
    leaf  BLOB NOT NULL,
    time      TEXT GENERATED ALWAYS AS (json_extract(entry, '$.time')) VIRTUAL,
    actor     TEXT GENERATED ALWAYS AS (json_extract(entry, '$.actor')) VIRTUAL,
    actor_org TEXT GENERATED ALWAYS AS (json_extract(entry, '$.actor_org')) VIRTUAL,
    action    TEXT GENERATED ALWAYS AS (json_extract(entry, '$.action')) VIRTUAL,
    result    TEXT GENERATED ALWAYS AS (json_extract(entry, '$.result')) VIRTUAL
);
CREATE INDEX audit_log_actor ON audit_log(actor, seq);
CREATE INDEX audit_log_org ON audit_log(actor_org, seq);
CREATE INDEX audit_log_action ON audit_log(action, seq);

-- Hashes of complete subtrees of level >= 1: (level, idx) covers leaves
-- [idx * 2^level, (idx + 1) * 2^level). Level 0 is audit_log.leaf.
CREATE TABLE audit_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- Signed tree heads: Ed25519 over the bytes described in docs/audit.md.
CREATE TABLE audit_heads (
    tree_size INTEGER PRIMARY KEY,
    root      BLOB NOT NULL,
    timestamp INTEGER NOT NULL,               -- ms since the epoch
    signature BLOB NOT NULL
);
