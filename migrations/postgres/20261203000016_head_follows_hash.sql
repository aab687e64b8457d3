-- An event advances its stream's head only from the head it names: the version before it and
-- that version's hash (`prev_hash`). A writer appending from a head it kept in memory instead of
-- reading it (see crates/latchkey-store/src/postgres/heads.rs) cannot extend a chain from a hash
-- that is not the stream's: such an event fails as a taken version did (SQLSTATE 23505,
-- constraint `events_stream_version_key`), and the writer reads the head again.

CREATE OR REPLACE FUNCTION events_advance_head() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version = 1 THEN
        INSERT INTO stream_heads (stream_id, version, hash)
        VALUES (NEW.stream_id, 1, NEW.hash)
        ON CONFLICT (stream_id) DO NOTHING;
    ELSE
        UPDATE stream_heads SET version = NEW.version, hash = NEW.hash
        WHERE stream_id = NEW.stream_id AND version = NEW.version - 1
          AND hash = NEW.prev_hash;
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
