-- Re-encryption after a key rotation now covers every sealed column the
-- modules declare (webhook secrets and proposed values of objections as
-- well as records): passes finished before did not look at those, so the
-- next start makes one pass again under the current key.
DELETE FROM reencrypt_passes;
