-- Unified access (统一接入): department APIs registered on the hub, and the
-- calls made to them through it.
--
-- A service belongs to its provider org and is called at
-- /x/{provider_org}/{code}/...; the hub forwards to base_url. Rights to call
-- it are grants of its resource (a catalog resource of format api): the
-- item "service" grants the whole service, any other item one operation
-- (method and path template, from operations). One row per mediated call,
-- written with its audit entry in the same transaction.

CREATE TABLE services (
    id           TEXT PRIMARY KEY,              -- SV + 8 digits
    provider_org TEXT NOT NULL REFERENCES orgs(code),
    code         TEXT NOT NULL,                 -- the path segment after the org
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    base_url     TEXT NOT NULL,
    resource     TEXT NOT NULL REFERENCES resources(code),
    operations   TEXT NOT NULL,                 -- JSON array [{name, method, path}]
    openapi      TEXT,                          -- the OpenAPI 3 document as registered
    health_path  TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (provider_org, code)
);

CREATE TABLE service_calls (
    seq             INTEGER PRIMARY KEY,        -- the order calls were recorded in
    id              TEXT NOT NULL,              -- the request id, sent to the provider as X-Yiwang-Id (a caller's
                                                -- own X-Request-Id when it sent one: not unique across callers)
    service         TEXT NOT NULL,
    provider_org    TEXT NOT NULL,
    consumer_org    TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    grant_id        TEXT,
    operation       TEXT,
    method          TEXT NOT NULL,
    status          INTEGER NOT NULL,           -- what the consumer got (499: it went away)
    outcome         TEXT NOT NULL,              -- ok | provider_unreachable | provider_timeout | ...
    request_bytes   INTEGER NOT NULL,
    response_bytes  INTEGER NOT NULL,
    request_sha256  TEXT NOT NULL,
    response_sha256 TEXT NOT NULL,
    duration_ms     INTEGER NOT NULL,
    audit_seq       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX service_calls_service ON service_calls(service, created_at);
CREATE INDEX service_calls_id ON service_calls(service, id);
