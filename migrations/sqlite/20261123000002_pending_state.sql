-- Connections waiting for their authorization callback, found by the digest of their `state`.
ALTER TABLE connections ADD COLUMN pending_state TEXT;
CREATE INDEX connections_pending_state_idx ON connections (pending_state) WHERE pending_state IS NOT NULL;
