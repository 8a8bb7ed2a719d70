-- Registry: departments (orgs), people (users) and department systems (clients).
-- Times are milliseconds since the Unix epoch.

CREATE TABLE orgs (
    code        TEXT PRIMARY KEY,             -- unified social credit code
    name        TEXT NOT NULL,
    parent_code TEXT REFERENCES orgs(code),
    region_code TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'city', 'district')),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    legacy_code INTEGER NOT NULL DEFAULT 0,   -- code accepted despite a failing check digit
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX orgs_parent ON orgs(parent_code);

CREATE TABLE users (
    username             TEXT PRIMARY KEY,
    display_name         TEXT NOT NULL,
    org_code             TEXT NOT NULL REFERENCES orgs(code),
    roles                TEXT NOT NULL,        -- comma-separated role names
    status               TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    password_hash        TEXT NOT NULL,        -- argon2id, libsodium string form
    must_change_password INTEGER NOT NULL DEFAULT 1,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         INTEGER NOT NULL DEFAULT 0,
    totp_secret          TEXT,                 -- base32; pending until totp_enabled
    totp_enabled         INTEGER NOT NULL DEFAULT 0,
    totp_last_step       INTEGER NOT NULL DEFAULT 0, -- a code is accepted once
    password_changed_at  INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_code);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,                -- hex SHA-256 of the bearer token
    username   TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL                 -- absolute lifetime
);
CREATE INDEX sessions_user ON sessions(username);

CREATE TABLE clients (
    id           TEXT PRIMARY KEY,              -- {org_code}/{name}
    org_code     TEXT NOT NULL REFERENCES orgs(code),
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the secret
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX clients_org ON clients(org_code);

-- Platform-wide settings set by init (the data bureau's org code, ...).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
