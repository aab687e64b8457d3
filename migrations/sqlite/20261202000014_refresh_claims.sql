-- Claims of due connections by a refresher (operational state, not history): who holds the
-- claim, until when, and a fence that grows with every claim. A change of the connection's
-- schedule ends its claim (the projection upsert clears `claimed_until`).
ALTER TABLE connections ADD COLUMN claimed_by TEXT;
ALTER TABLE connections ADD COLUMN claimed_until TEXT;
ALTER TABLE connections ADD COLUMN claim_fence INTEGER NOT NULL DEFAULT 0;
