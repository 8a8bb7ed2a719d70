-- Records are found by a narrower key index: the last 16 characters of the
-- key index instead of resource and whole key index (a 64-digit blind index
-- for a sensitive key), a quarter of the size. A bulk load inserts random
-- keys, so each committed batch rewrites every index page it touched: fewer
-- pages, less to write. Queries add the resource and the whole key index
-- (data/record.h, RECORD_OF_KEY); the single writer checks that a key is
-- not there before inserting it.
DROP INDEX records_key;
CREATE INDEX records_key_tail ON records(substr(key_index, -16));

-- Background re-encryption remembers the passes it finished: once every
-- value stored under an older key has been re-sealed under key_id, a server
-- starting with that key still current has nothing to re-encrypt and skips
-- the scan of all records. A rotation (a new current key) starts a new pass.
CREATE TABLE reencrypt_passes (
    key_id      INTEGER PRIMARY KEY,
    finished_at INTEGER NOT NULL
);
