-- When each connection's next refresh is due (from its events), and the leases that keep one
-- refresh per connection at a time.
ALTER TABLE connections ADD COLUMN refresh_at TEXT;
CREATE INDEX connections_refresh_due_idx ON connections (refresh_at)
    WHERE status IN ('active', 'expired') AND refresh_at IS NOT NULL;

-- Operational state, not history: see the Postgres migration.
CREATE TABLE refresh_leases (
    connection_id  TEXT PRIMARY KEY,
    owner          TEXT NOT NULL,
    lease_until    TEXT NOT NULL,
    token_digest   TEXT
);
