-- Inbound webhook deliveries seen per integration, to record each delivery id once: a claim
-- (taken before the delivery's events are appended) and whether it was recorded. Rows older than
-- the window (72 h) are purged; a claim not recorded within its lease may be taken again (the
-- replica that took it died before answering the provider, who sends it again).
CREATE TABLE webhook_deliveries (
    integration_id  UUID        NOT NULL,
    delivery_id     TEXT        NOT NULL,
    claimed_at      TIMESTAMPTZ NOT NULL,
    recorded        BOOLEAN     NOT NULL,
    PRIMARY KEY (integration_id, delivery_id)
);
CREATE INDEX webhook_deliveries_claimed_idx ON webhook_deliveries (claimed_at);

-- An event by its id (`GetWebhookDelivery`): on every partition of the log.
CREATE INDEX events_event_id_idx ON events (event_id);
