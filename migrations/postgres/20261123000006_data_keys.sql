-- Envelope encryption: one data key per integration and per connection, stored only wrapped by a
-- master key. Outside the event log on purpose: deleting a connection's row destroys every token
-- it ever sealed (crypto-shredding), and rotating master keys rewrites these rows, never an event.
CREATE TABLE data_keys (
    owner          TEXT        PRIMARY KEY,
    wrapped        BYTEA       NOT NULL,
    master_key_id  TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX data_keys_master_idx ON data_keys (master_key_id);
