-- The relay's right to publish: a lease with a fencing token. Whoever takes the lease gets a
-- higher fence; the checkpoint is written only under the current fence, and only forward, so a
-- relay that lost its lease (a pause, a partition) can neither move it nor move it back.
CREATE TABLE relay_leases (
    name        TEXT        PRIMARY KEY,
    owner       TEXT        NOT NULL,
    fence       BIGINT      NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
