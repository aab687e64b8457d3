-- The relay reads the log in (transaction id, position) order, below the oldest running
-- transaction, so an event whose transaction commits late is never skipped.
CREATE INDEX events_txid_position_idx ON events (txid, position);

CREATE TABLE relay_checkpoints (
    name        TEXT        PRIMARY KEY,
    txid        BIGINT      NOT NULL,
    position    BIGINT      NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
