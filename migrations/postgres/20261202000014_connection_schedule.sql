-- The schedule apart from the projection. The columns the refresher and the validator look for
-- due connections by, and their indexes, live in a narrow table: a refresh rewrites the
-- connection's projection without changing any indexed column of `connections`, so that update
-- is HOT (no index entry written), and only the small schedule row's indexes change. The
-- refresher's claims live here too: who holds the claim, until when, and a fence that grows with
-- every claim. The projection upsert ends a claim when the schedule changes.
--
-- Upgrading: replicas of an earlier version write the dropped columns, so every replica is
-- replaced before (or while) this migration runs.
CREATE TABLE connection_schedule (
    connection_id   UUID        PRIMARY KEY,
    integration_id  UUID        NOT NULL,
    status          TEXT        NOT NULL,
    refresh_at      TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ,
    validated_at    TIMESTAMPTZ,
    claimed_by      TEXT,
    claimed_until   TIMESTAMPTZ,
    claim_fence     BIGINT      NOT NULL DEFAULT 0
);

INSERT INTO connection_schedule
    (connection_id, integration_id, status, refresh_at, expires_at, validated_at)
SELECT id, integration_id, status, refresh_at, expires_at, validated_at FROM connections;

CREATE INDEX connection_schedule_refresh_idx ON connection_schedule (refresh_at)
    WHERE status IN ('active', 'expired') AND refresh_at IS NOT NULL;
CREATE INDEX connection_schedule_expiry_idx ON connection_schedule (expires_at)
    WHERE status = 'active';
CREATE INDEX connection_schedule_validation_idx ON connection_schedule (integration_id, validated_at)
    WHERE status = 'active';

DROP INDEX connections_due_idx;
DROP INDEX connections_refresh_due_idx;
DROP INDEX connections_by_validation;
ALTER TABLE connections DROP COLUMN expires_at, DROP COLUMN refresh_at, DROP COLUMN validated_at;
-- Room on each page for the new version of a row, which a HOT update needs.
ALTER TABLE connections SET (fillfactor = 80);
