-- SQLite has one writer at a time, so commit order is position order and a position is a
-- gap-free cursor.
CREATE TABLE relay_checkpoints (
    name        TEXT    PRIMARY KEY,
    txid        INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    updated_at  TEXT    NOT NULL
);
