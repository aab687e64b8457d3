-- Who read which connection's token, when: counted per caller, connection and minute, written off
-- the GetToken path.
CREATE TABLE token_reads (
    actor          TEXT        NOT NULL,
    connection_id  UUID        NOT NULL,
    minute         TIMESTAMPTZ NOT NULL,
    reads          BIGINT      NOT NULL,
    PRIMARY KEY (connection_id, minute, actor)
);
