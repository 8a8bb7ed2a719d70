-- Subscriptions: a consumer's system asks to be sent the changes of a
-- resource it holds a grant for. Changes go out in batches (deliveries), in
-- sequence order, each signed with the subscription's secret; a batch is
-- retried with exponential backoff until the receiver accepts it or has
-- failed for 24 hours. cursor is the last change seq delivered.
--
-- secret is kept encrypted (the server needs it in clear to sign). A
-- subscription stops for good when its grant is revoked or expires.

CREATE TABLE subscriptions (
    id              TEXT PRIMARY KEY,           -- SB + 8 digits
    resource        TEXT NOT NULL REFERENCES resources(code),
    provider_org    TEXT NOT NULL,
    consumer_org    TEXT NOT NULL,
    grant_id        TEXT NOT NULL REFERENCES grants(id),
    url             TEXT NOT NULL,
    secret          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'stopped', 'failed', 'deleted')),
    status_reason   TEXT,
    cursor          INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0, -- consecutive failed attempts
    failing_since   INTEGER,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX subscriptions_consumer ON subscriptions(consumer_org, id);
CREATE INDEX subscriptions_provider ON subscriptions(provider_org, id);
CREATE INDEX subscriptions_due ON subscriptions(status, next_attempt_at);

CREATE TABLE subscription_deliveries (
    id           TEXT PRIMARY KEY,              -- DL + 10 digits
    subscription TEXT NOT NULL REFERENCES subscriptions(id),
    first_seq    INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    changes      INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'abandoned')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    http_status  INTEGER,                       -- of the last attempt
    error        TEXT,                          -- of the last attempt
    body_sha256  TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX subscription_deliveries_sub ON subscription_deliveries(subscription, id);
