-- A connection's labels (JSON object), for filtering.
ALTER TABLE connections ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
