-- Replicas keep the live connections of each provider account in memory, to route inbound
-- webhook deliveries without a read. This tells them when an integration's may have changed: a
-- connection row inserted or deleted, or its provider account, status or integration changed
-- (`LISTEN latchkey_routes`; the payload is the integration's id). An append that leaves these
-- as they were (a refresh, a delivery) notifies nothing here.
CREATE FUNCTION latchkey_routes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('latchkey_routes', OLD.integration_id::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('latchkey_routes', NEW.integration_id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER connections_routes_added_or_removed AFTER INSERT OR DELETE ON connections
    FOR EACH ROW EXECUTE FUNCTION latchkey_routes_changed();

CREATE TRIGGER connections_routes_changed AFTER UPDATE ON connections
    FOR EACH ROW WHEN (
        OLD.provider_account_id IS DISTINCT FROM NEW.provider_account_id
        OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.integration_id IS DISTINCT FROM NEW.integration_id
    )
    EXECUTE FUNCTION latchkey_routes_changed();
