-- The relay's right to publish: a lease with a fencing token (see the Postgres migration).
CREATE TABLE relay_leases (
    name        TEXT    PRIMARY KEY,
    owner       TEXT    NOT NULL,
    fence       INTEGER NOT NULL,
    expires_at  TEXT    NOT NULL
);
