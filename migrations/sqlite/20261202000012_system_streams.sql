-- The system streams (`system-keys`: API keys and master keys; `system-access`: token reads)
-- live in the same log as integrations and connections, and so do hosted connect sessions
-- (`connect_session-<uuid>`). SQLite cannot change a CHECK in place:
-- the table is rebuilt with every row, position and hash as it was.
CREATE TABLE events_next (
    position        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT    NOT NULL UNIQUE,
    stream_id       TEXT    NOT NULL,
    stream_kind     TEXT    NOT NULL CHECK (stream_kind IN ('integration', 'connection', 'system', 'connect_session')),
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

INSERT INTO events_next (position, event_id, stream_id, stream_kind, version, tenant, event_type,
    schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash)
SELECT position, event_id, stream_id, stream_kind, version, tenant, event_type,
    schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash
FROM events ORDER BY position;

DROP TRIGGER events_no_update;
DROP TRIGGER events_no_delete;
DROP INDEX events_tenant_position_idx;
DROP TABLE events;
ALTER TABLE events_next RENAME TO events;

CREATE INDEX events_tenant_position_idx ON events (tenant, position);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events is append-only: UPDATE refused');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events is append-only: DELETE refused');
END;
