-- When each connection's next refresh is due (from its events), and the leases that keep one
-- refresh per connection at a time across replicas.
ALTER TABLE connections ADD COLUMN refresh_at TIMESTAMPTZ;
CREATE INDEX connections_refresh_due_idx ON connections (refresh_at)
    WHERE status IN ('active', 'expired') AND refresh_at IS NOT NULL;

-- Operational state, not history: a lease names its holder and expiry; `token_digest` is the
-- refresh token an attempt was sent with, kept until the outcome is committed, so an attempt cut
-- short (a crash) is recognised and its refresh token never sent again.
CREATE TABLE refresh_leases (
    connection_id  UUID        PRIMARY KEY,
    owner          TEXT        NOT NULL,
    lease_until    TIMESTAMPTZ NOT NULL,
    token_digest   TEXT
);
