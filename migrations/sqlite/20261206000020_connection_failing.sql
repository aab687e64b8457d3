-- Since when a connection's refreshes have been failing (unset while they work), to list the
-- failing connections and count them without reading every connection's state.
ALTER TABLE connections ADD COLUMN failing_since TEXT;
UPDATE connections
    SET failing_since = strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(state, '$.failing_since'))
    WHERE json_extract(state, '$.failing_since') IS NOT NULL;
CREATE INDEX connections_failing ON connections (failing_since, id)
    WHERE failing_since IS NOT NULL;
