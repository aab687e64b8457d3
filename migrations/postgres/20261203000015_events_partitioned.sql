-- The log partitioned by position, so its oldest part can be archived (exported, detached and
-- dropped) while `verify` stays meaningful.
--
-- A partitioned table cannot hold a unique key that leaves out the partition key, so the
-- optimistic-concurrency guard moves from the unique (stream_id, version) of `events` to
-- `stream_heads`: one row per stream with its last version and hash, advanced by a trigger on
-- every inserted event. An event whose version is not the head's next fails exactly as the unique
-- key failed (SQLSTATE 23505, constraint `events_stream_version_key`), so writers see no change.
-- The head row is narrow and its only index is on the stream id: advancing it is a HOT update.
--
-- Partitions cover fixed ranges of positions (`event_log_settings.partition_size`, 50,000,000 by
-- default; a change applies to partitions created after it) and are listed in `event_partitions`.
-- `events_ensure_partitions()` creates them ahead of the log: `latchkey migrate` and every replica
-- (once a minute) call it. An archived partition leaves its streams' last events in
-- `archived_heads`: the chains that continue after it are checked against them.
--
-- Upgrading copies the log once into the new table (inside this migration's transaction).

CREATE TABLE stream_heads (
    stream_id   TEXT    PRIMARY KEY,
    version     BIGINT  NOT NULL,
    hash        BYTEA   NOT NULL
) WITH (fillfactor = 70);

INSERT INTO stream_heads (stream_id, version, hash)
SELECT DISTINCT ON (stream_id) stream_id, version, hash
FROM events ORDER BY stream_id, version DESC;

CREATE TABLE event_log_settings (
    only_row        BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    partition_size  BIGINT  NOT NULL CHECK (partition_size >= 100)
);
INSERT INTO event_log_settings (partition_size) VALUES (50000000);

CREATE TABLE event_partitions (
    name            TEXT        PRIMARY KEY,
    first_position  BIGINT      NOT NULL UNIQUE,
    -- The first position after the partition.
    end_position    BIGINT      NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    archived_at     TIMESTAMPTZ,
    archived_events BIGINT,
    CHECK (end_position > first_position)
);

CREATE TABLE archived_heads (
    stream_id   TEXT        PRIMARY KEY,
    version     BIGINT      NOT NULL,
    hash        BYTEA       NOT NULL,
    -- The tenant column of the stream's rows (a connection's), checked on the rows after it.
    tenant      TEXT,
    position    BIGINT      NOT NULL,
    partition   TEXT        NOT NULL REFERENCES event_partitions (name)
);

CREATE TABLE events_partitioned (
    position        BIGINT      NOT NULL,
    event_id        UUID        NOT NULL,
    stream_id       TEXT        NOT NULL,
    stream_kind     TEXT        NOT NULL,
    version         BIGINT      NOT NULL,
    tenant          TEXT,
    event_type      TEXT        NOT NULL,
    schema_version  INTEGER     NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    actor           TEXT        NOT NULL,
    correlation_id  TEXT,
    payload         TEXT        NOT NULL,
    prev_hash       BYTEA       NOT NULL,
    hash            BYTEA       NOT NULL,
    txid            XID8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT events_version_check CHECK (version > 0),
    CONSTRAINT events_stream_kind_check
        CHECK (stream_kind IN ('integration', 'connection', 'system', 'connect_session'))
) PARTITION BY RANGE (position);

-- The log as it stands becomes the first partition, exactly as long as it is.
DO $$
DECLARE
    last_position BIGINT;
BEGIN
    SELECT max(position) INTO last_position FROM events;
    IF last_position IS NOT NULL THEN
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF events_partitioned FOR VALUES FROM (1) TO (%s)',
            'events_from_1', last_position + 1);
        INSERT INTO event_partitions (name, first_position, end_position)
        VALUES ('events_from_1', 1, last_position + 1);
        INSERT INTO events_partitioned
        SELECT position, event_id, stream_id, stream_kind, version, tenant, event_type,
               schema_version, occurred_at, actor, correlation_id, payload, prev_hash, hash, txid
        FROM events ORDER BY position;
    END IF;
    PERFORM set_config('latchkey.last_position', coalesce(last_position, 0)::text, true);
END;
$$;

DROP TABLE events;
ALTER TABLE events_partitioned RENAME TO events;

CREATE SEQUENCE events_position_seq AS BIGINT OWNED BY events.position;
SELECT setval('events_position_seq', current_setting('latchkey.last_position')::bigint + 1, false);
ALTER TABLE events ALTER COLUMN position SET DEFAULT nextval('events_position_seq');

ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (position);
CREATE INDEX events_stream_version_idx ON events (stream_id, version);
CREATE INDEX events_tenant_position_idx ON events (tenant, position);
CREATE INDEX events_txid_position_idx ON events (txid, position);

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Every event advances its stream's head by one, or fails as a taken version did.
CREATE FUNCTION events_advance_head() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version = 1 THEN
        INSERT INTO stream_heads (stream_id, version, hash)
        VALUES (NEW.stream_id, 1, NEW.hash)
        ON CONFLICT (stream_id) DO NOTHING;
    ELSE
        UPDATE stream_heads SET version = NEW.version, hash = NEW.hash
        WHERE stream_id = NEW.stream_id AND version = NEW.version - 1;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'duplicate key value violates unique constraint "events_stream_version_key"'
            USING ERRCODE = 'unique_violation',
                  CONSTRAINT = 'events_stream_version_key',
                  TABLE = 'events',
                  DETAIL = format('Key (stream_id, version)=(%s, %s) already exists.',
                                  NEW.stream_id, NEW.version);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER events_advance_head
    BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_advance_head();

-- Creates partitions until one whole partition lies ahead of the next position; the number made.
CREATE FUNCTION events_ensure_partitions() RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    size        BIGINT;
    next_pos    BIGINT;
    last_end    BIGINT;
    made        INTEGER := 0;
    part        TEXT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('latchkey_event_partitions'));
    SELECT partition_size INTO size FROM event_log_settings;
    SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END
        INTO next_pos FROM events_position_seq;
    SELECT coalesce(max(end_position), 1) INTO last_end FROM event_partitions;
    WHILE last_end <= next_pos + size LOOP
        part := 'events_from_' || last_end;
        EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%s) TO (%s)',
                       part, last_end, last_end + size);
        EXECUTE format('CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()', part);
        INSERT INTO event_partitions (name, first_position, end_position)
        VALUES (part, last_end, last_end + size);
        last_end := last_end + size;
        made := made + 1;
    END LOOP;
    RETURN made;
END;
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_class WHERE relname = 'events_from_1') THEN
        EXECUTE 'CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events_from_1 '
                'FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()';
    END IF;
END;
$$;
