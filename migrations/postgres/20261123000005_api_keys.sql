-- Callers authenticate with API keys; only a hash of each key's secret is stored.
CREATE TABLE api_keys (
    id           TEXT        PRIMARY KEY,
    name         TEXT        NOT NULL,
    -- NULL: an admin key; else the one tenant the key may see.
    tenant       TEXT,
    secret_hash  TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
