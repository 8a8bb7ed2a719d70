-- Background re-encryption remembers the passes it finished: once every
-- value stored under an older key has been re-sealed under key_id, a server
-- starting with that key still current has nothing to re-encrypt and skips
-- the scan of all records. A rotation (a new current key) starts a new pass.
CREATE TABLE reencrypt_passes (
    key_id      INTEGER PRIMARY KEY,
    finished_at INTEGER NOT NULL
);
