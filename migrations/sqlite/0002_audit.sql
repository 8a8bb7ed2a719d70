-- The audit trail: an append-only Merkle log (RFC 9162 hashing).
--
-- A row holds the fields of one entry; the entry's canonical serialization
-- (docs/audit.md) is a function of them, and leaf = SHA-256(0x00 || it).
-- Changing any field therefore changes the recomputed leaf.

CREATE TABLE audit_log (
    seq             INTEGER PRIMARY KEY,      -- leaf index, from 0
    time_ms         INTEGER NOT NULL,
    actor           TEXT,
    actor_kind      TEXT NOT NULL,
    actor_org       TEXT,
    action          TEXT,
    stage           TEXT,
    object_type     TEXT,
    object_ids      TEXT NOT NULL,            -- canonical JSON array of strings
    items           TEXT NOT NULL,            -- canonical JSON array of strings
    purpose         TEXT,
    status          INTEGER NOT NULL,
    request_id      TEXT,
    client          TEXT,
    request_sha256  TEXT,
    response_sha256 TEXT,
    leaf            BLOB NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(actor_org, seq);

-- Hashes of complete subtrees of level >= 4 (smaller ones are hashed again
-- from their leaves when needed): (level, idx) covers leaves
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
