-- Envelope encryption: see the Postgres migration.
CREATE TABLE data_keys (
    owner          TEXT PRIMARY KEY,
    wrapped        BLOB NOT NULL,
    master_key_id  TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX data_keys_master_idx ON data_keys (master_key_id);
