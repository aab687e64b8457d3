-- Who read which connection's token, when: see the Postgres migration.
CREATE TABLE token_reads (
    actor          TEXT    NOT NULL,
    connection_id  TEXT    NOT NULL,
    minute         TEXT    NOT NULL,
    reads          INTEGER NOT NULL,
    PRIMARY KEY (connection_id, minute, actor)
);
