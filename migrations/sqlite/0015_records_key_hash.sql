-- Records are found by an integer hash of their key index (yw_key_hash,
-- src/store/db_sqlite.c: 47 bits of its SHA-256) instead of its last 16
-- characters: 6 bytes instead of 16 per entry. A bulk load inserts random
-- keys, so each committed batch rewrites most pages of this index: with
-- narrower entries there are fewer of them, and integers compare faster.
-- Queries add the resource and the whole key index (data/record.h,
-- RECORD_OF_KEY).
ALTER TABLE records ADD COLUMN key_hash INTEGER;
UPDATE records SET key_hash = yw_key_hash(key_index);
DROP INDEX records_key_tail;
CREATE INDEX records_key_hash ON records(key_hash);
