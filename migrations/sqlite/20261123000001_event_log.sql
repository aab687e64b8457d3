-- The append-only event log and the projections that are updated in the same transaction.
-- Ids are TEXT (hyphenated UUIDs), times TEXT (RFC 3339, UTC, microseconds).

CREATE TABLE events (
    position        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT    NOT NULL UNIQUE,
    stream_id       TEXT    NOT NULL,
    stream_kind     TEXT    NOT NULL CHECK (stream_kind IN ('integration', 'connection')),
    version         INTEGER NOT NULL CHECK (version > 0),
    tenant          TEXT,
    event_type      TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    occurred_at     TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    correlation_id  TEXT,
    payload         TEXT    NOT NULL,
    prev_hash       BLOB    NOT NULL,
    hash            BLOB    NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

CREATE INDEX events_tenant_position_idx ON events (tenant, position);

-- SQLite has no TRUNCATE; a DELETE without WHERE is refused by the same trigger (triggers
-- disable SQLite's truncate optimisation).
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events is append-only: UPDATE refused');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events is append-only: DELETE refused');
END;

CREATE TABLE integrations (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    deleted     INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    updated_at  TEXT    NOT NULL,
    state       TEXT    NOT NULL
);

CREATE UNIQUE INDEX integrations_live_name_key ON integrations (name) WHERE deleted = 0;

CREATE TABLE connections (
    id              TEXT    PRIMARY KEY,
    integration_id  TEXT    NOT NULL,
    tenant          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    expires_at      TEXT,
    updated_at      TEXT    NOT NULL,
    state           TEXT    NOT NULL
);

CREATE INDEX connections_tenant_idx ON connections (tenant, id);
CREATE INDEX connections_integration_idx ON connections (integration_id, id);
CREATE INDEX connections_due_idx ON connections (expires_at) WHERE status = 'active';
