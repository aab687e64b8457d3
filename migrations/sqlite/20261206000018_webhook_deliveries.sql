-- Inbound webhook deliveries seen per integration: see the Postgres migration. (SQLite's events
-- table holds its event ids unique, hence indexed, already.)
CREATE TABLE webhook_deliveries (
    integration_id  TEXT    NOT NULL,
    delivery_id     TEXT    NOT NULL,
    claimed_at      TEXT    NOT NULL,
    recorded        BOOLEAN NOT NULL,
    PRIMARY KEY (integration_id, delivery_id)
);
CREATE INDEX webhook_deliveries_claimed_idx ON webhook_deliveries (claimed_at);
