-- Who a connection is at the provider, to find a provider account's connection (ListConnections,
-- webhook routing, and re-authorizing the same account instead of making a twin).
ALTER TABLE connections ADD COLUMN provider_account_id TEXT;
CREATE INDEX connections_by_provider_account
    ON connections (integration_id, provider_account_id)
    WHERE provider_account_id IS NOT NULL;

-- When the token was last checked at the provider, for scheduled validation.
ALTER TABLE connections ADD COLUMN validated_at TIMESTAMPTZ;
CREATE INDEX connections_by_validation
    ON connections (integration_id, validated_at)
    WHERE status = 'active';
