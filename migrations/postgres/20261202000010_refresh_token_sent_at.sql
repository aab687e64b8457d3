-- When the refresh token in `token_digest` was first sent: a token in doubt (sent, no answer) may
-- be sent again only within the integration's grace counted from then.
ALTER TABLE refresh_leases ADD COLUMN token_sent_at TIMESTAMPTZ;
