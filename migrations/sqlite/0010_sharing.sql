-- Sharing: requests for another department's resource, the provider's
-- decision, and the grants that result.
--
-- A request names the items wanted, the purpose and legal basis; due_at is
-- the end of the provider's time limit on the working-day calendar. An
-- approved request points to its grant. A grant lists its items with their
-- mode ({"name": "clear" | "masked"}); it is active until valid_until, or
-- until revoked. Reads through a grant count against its daily quota in
-- grant_usage (one row per grant and day, days in China Standard Time).

CREATE TABLE share_requests (
    id           TEXT PRIMARY KEY,              -- SR + 8 digits, in order of arrival
    resource     TEXT NOT NULL REFERENCES resources(code),
    provider_org TEXT NOT NULL,
    consumer_org TEXT NOT NULL REFERENCES orgs(code),
    client_id    TEXT,                          -- the one system of the consumer that may use the grant
    requested_by TEXT NOT NULL,
    items        TEXT NOT NULL,                 -- JSON array of item names
    purpose      TEXT NOT NULL,
    legal_basis  TEXT NOT NULL,
    scenario     TEXT NOT NULL,
    valid_until  INTEGER NOT NULL,
    daily_quota  INTEGER,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    due_at       INTEGER NOT NULL,
    decided_by   TEXT,
    decided_at   INTEGER,
    reason       TEXT,
    grant_id     TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX share_requests_provider ON share_requests(provider_org, id);
CREATE INDEX share_requests_consumer ON share_requests(consumer_org, id);
CREATE INDEX share_requests_pending ON share_requests(status, due_at);

CREATE TABLE grants (
    id            TEXT PRIMARY KEY,             -- GR + 8 digits
    request_id    TEXT NOT NULL REFERENCES share_requests(id),
    resource      TEXT NOT NULL REFERENCES resources(code),
    provider_org  TEXT NOT NULL,
    consumer_org  TEXT NOT NULL,
    client_id     TEXT,
    items         TEXT NOT NULL,                -- JSON object: item name → "clear" | "masked"
    purpose       TEXT NOT NULL,
    legal_basis   TEXT NOT NULL,
    valid_until   INTEGER NOT NULL,
    daily_quota   INTEGER,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    revoked_by    TEXT,
    revoke_reason TEXT
);
CREATE INDEX grants_consumer ON grants(consumer_org, resource, id);
CREATE INDEX grants_provider ON grants(provider_org, id);

CREATE TABLE grant_usage (
    grant_id TEXT NOT NULL,
    day      INTEGER NOT NULL,                  -- days since 1970-01-01, China Standard Time
    used     INTEGER NOT NULL,
    PRIMARY KEY (grant_id, day)
) WITHOUT ROWID;
