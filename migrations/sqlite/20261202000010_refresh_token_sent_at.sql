-- See the Postgres migration.
ALTER TABLE refresh_leases ADD COLUMN token_sent_at TEXT;
