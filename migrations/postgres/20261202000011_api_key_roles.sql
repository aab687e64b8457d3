-- What a key may do (reader, manager, admin) and until when. Keys made before roles existed could
-- do everything within their scope: they stay admin.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ;
