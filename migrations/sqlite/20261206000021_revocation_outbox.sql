-- Revocations the provider did not confirm (no answer, 5xx, 429): tried again from here with
-- backoff until the provider confirms or the horizon passes. A row is written before the
-- connection's `revoked` event, so a crash in between leaves a row whose connection is not
-- revoked (dropped when found), never a revocation that is not retried.
CREATE TABLE revocation_outbox (
    connection_id  TEXT PRIMARY KEY,
    since          TEXT NOT NULL,
    next_at        TEXT NOT NULL,
    attempts       INTEGER     NOT NULL
);
CREATE INDEX revocation_outbox_due ON revocation_outbox (next_at);
