-- The append-only event log and the projections that are updated in the same transaction.

CREATE TABLE events (
    position        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        UUID        NOT NULL UNIQUE,
    stream_id       TEXT        NOT NULL,
    stream_kind     TEXT        NOT NULL CHECK (stream_kind IN ('integration', 'connection')),
    version         BIGINT      NOT NULL CHECK (version > 0),
    -- The connection's tenant (NULL for integration streams), for filters and NATS subjects.
    tenant          TEXT,
    event_type      TEXT        NOT NULL,
    schema_version  INTEGER     NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    actor           TEXT        NOT NULL,
    correlation_id  TEXT,
    -- The exact JSON text that was hashed; TEXT, not JSONB, which would reorder it.
    payload         TEXT        NOT NULL,
    prev_hash       BYTEA       NOT NULL,
    hash            BYTEA       NOT NULL,
    -- The writing transaction, so a relay can tail without skipping late commits.
    txid            XID8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

CREATE INDEX events_tenant_position_idx ON events (tenant, position);

CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

CREATE TABLE integrations (
    id          UUID        PRIMARY KEY,
    name        TEXT        NOT NULL,
    deleted     BOOLEAN     NOT NULL,
    version     BIGINT      NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    state       TEXT        NOT NULL
);

CREATE UNIQUE INDEX integrations_live_name_key ON integrations (name) WHERE NOT deleted;

CREATE TABLE connections (
    id              UUID        PRIMARY KEY,
    integration_id  UUID        NOT NULL,
    tenant          TEXT        NOT NULL,
    status          TEXT        NOT NULL,
    version         BIGINT      NOT NULL,
    expires_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL,
    state           TEXT        NOT NULL
);

CREATE INDEX connections_tenant_idx ON connections (tenant, id);
CREATE INDEX connections_integration_idx ON connections (integration_id, id);
CREATE INDEX connections_due_idx ON connections (expires_at) WHERE status = 'active';
