-- Data objections (数据异议) and the index that conflict detection and the
-- consistency part of quality scores read.
--
-- An objection names a record by its resource and key index (the key's
-- blind index when the key item is sensitive): the key itself is stored
-- nowhere. proposed_value holds the value as text, in the encrypted form of
-- src/sec/keyring.h when the item is sensitive. An accepted objection keeps
-- the record version that its correction produced.
CREATE TABLE objections (
    id               TEXT PRIMARY KEY,            -- OB + 8 digits, in order of filing
    resource         TEXT NOT NULL REFERENCES resources(code),
    record           TEXT NOT NULL,               -- the record's key index
    record_version   INTEGER NOT NULL,            -- the version objected to
    item             TEXT NOT NULL,
    item_mask        TEXT NOT NULL,               -- how the proposed value is masked for onlookers
    reason           TEXT NOT NULL,
    proposed_value   TEXT,
    provider_org     TEXT NOT NULL,
    consumer_org     TEXT NOT NULL,               -- who objects (the data bureau for conflicts)
    filed_by         TEXT NOT NULL,
    conflict         TEXT,                        -- the conflict it was raised from
    status           TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'rejected')),
    due_at           INTEGER NOT NULL,
    resolved_by      TEXT,
    resolved_at      INTEGER,
    resolution       TEXT,                        -- the provider's reason
    resolved_version INTEGER,                     -- the record version after an accepted correction
    created_at       INTEGER NOT NULL
);
CREATE INDEX objections_provider ON objections(provider_org, id);
CREATE INDEX objections_consumer ON objections(consumer_org, id);
CREATE INDEX objections_open ON objections(status, due_at);
CREATE INDEX objections_record ON objections(resource, record, item, status);

-- The entity each record describes: the blind index of its key value under
-- the context "element:<key element>", the same for every resource whose
-- key item is bound to that element (the same person by id_number, the same
-- enterprise by uscc). version and basis say which record version the row
-- was computed from, under which resource version and comparing which
-- elements ("<resource version>:,name,address,"); a detection pass
-- recomputes the rows that no longer match.
CREATE TABLE record_entities (
    resource         TEXT NOT NULL,
    key_index        TEXT NOT NULL,
    version          INTEGER NOT NULL,
    basis            TEXT NOT NULL,
    entity_element   TEXT NOT NULL,
    entity           TEXT NOT NULL,
    PRIMARY KEY (resource, key_index)
) WITHOUT ROWID;

-- What each record says about its entity: one row per item bound to a data
-- element, with a keyed hash of the value (context "element:<element>"), so
-- values of different resources compare without decrypting them. Entities
-- of different key elements never share an index (their contexts differ),
-- so the entity leads the key: one entity's values are one range, and a
-- record's values are found through its entity in record_entities.
CREATE TABLE entity_values (
    entity_element TEXT NOT NULL,
    entity         TEXT NOT NULL,
    element        TEXT NOT NULL,
    resource       TEXT NOT NULL,
    key_index      TEXT NOT NULL,
    provider_org   TEXT NOT NULL,
    item           TEXT NOT NULL,
    version        INTEGER NOT NULL,
    value_hash     TEXT NOT NULL,
    PRIMARY KEY (entity, element, resource, key_index)
) WITHOUT ROWID;
