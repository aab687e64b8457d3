-- The system streams (`system-keys`: API keys and master keys; `system-access`: token reads)
-- live in the same log as integrations and connections, and so do hosted connect sessions
-- (`connect_session-<uuid>`).
ALTER TABLE events DROP CONSTRAINT events_stream_kind_check;
ALTER TABLE events ADD CONSTRAINT events_stream_kind_check
    CHECK (stream_kind IN ('integration', 'connection', 'system', 'connect_session')) NOT VALID;
ALTER TABLE events VALIDATE CONSTRAINT events_stream_kind_check;
