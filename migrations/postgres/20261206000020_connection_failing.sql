-- Since when a connection's refreshes have been failing (unset while they work), to list the
-- failing connections (`ListConnections` by health, `latchkey connections failing`) and count them
-- by integration and reason without reading every connection's state.
ALTER TABLE connections ADD COLUMN failing_since TIMESTAMPTZ;
UPDATE connections SET failing_since = (state::jsonb ->> 'failing_since')::timestamptz
    WHERE state::jsonb ->> 'failing_since' IS NOT NULL;
CREATE INDEX connections_failing ON connections (failing_since, id)
    WHERE failing_since IS NOT NULL;
