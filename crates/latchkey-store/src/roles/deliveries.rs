//! Inbound webhook deliveries seen per integration: the same SQL on both databases.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::{IntegrationId, StreamId};

use super::Backend;
use crate::sql::{Columns, Db, args, stored_count};
use crate::{DeliveryClaim, RecordedEvent, StoreError, WebhookDeliveries, parse_stream_id};

#[async_trait]
impl<B: Backend> WebhookDeliveries for B {
    async fn claim_delivery(
        &self,
        integration: IntegrationId,
        delivery_id: &str,
        now: DateTime<Utc>,
        seen_after: DateTime<Utc>,
        lapsed_before: DateTime<Utc>,
    ) -> Result<DeliveryClaim, StoreError> {
        // One statement: two claims of the same id cannot both win.
        let sql = "INSERT INTO webhook_deliveries (integration_id, delivery_id, claimed_at, \
             recorded) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (integration_id, delivery_id) DO UPDATE \
             SET claimed_at = excluded.claimed_at, recorded = excluded.recorded \
             WHERE webhook_deliveries.claimed_at < $5 \
             OR (webhook_deliveries.recorded = $4 AND webhook_deliveries.claimed_at < $6)";
        let args = args![
            integration,
            delivery_id,
            now,
            false,
            seen_after,
            lapsed_before
        ];
        if self.db().run(sql, args).await? == 1 {
            return Ok(DeliveryClaim::Fresh);
        }
        let sql = "SELECT CAST(CASE WHEN recorded THEN 1 ELSE 0 END AS BIGINT) \
             FROM webhook_deliveries \
             WHERE integration_id = $1 AND delivery_id = $2";
        let recorded = match self.db().row(sql, args![integration, delivery_id]).await? {
            Some(row) => row.int(0)? != 0,
            // Purged in between: as good as recorded long ago.
            None => true,
        };
        Ok(if recorded {
            DeliveryClaim::Recorded
        } else {
            DeliveryClaim::InFlight
        })
    }

    async fn delivery_recorded(
        &self,
        integration: IntegrationId,
        delivery_id: &str,
        events: &[RecordedEvent],
    ) -> Result<(), StoreError> {
        for event in events {
            let sql = "INSERT INTO webhook_delivery_events (event_id, stream_id, version) \
                 VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING";
            let args = args![
                event.event_id,
                event.stream_id.to_string(),
                stored_count(event.version)
            ];
            self.db().run(sql, args).await?;
        }
        let sql = "UPDATE webhook_deliveries SET recorded = $3 \
             WHERE integration_id = $1 AND delivery_id = $2";
        self.db()
            .run(sql, args![integration, delivery_id, true])
            .await?;
        Ok(())
    }

    async fn release_delivery(
        &self,
        integration: IntegrationId,
        delivery_id: &str,
    ) -> Result<(), StoreError> {
        let sql = "DELETE FROM webhook_deliveries \
             WHERE integration_id = $1 AND delivery_id = $2 AND recorded = $3";
        self.db()
            .run(sql, args![integration, delivery_id, false])
            .await?;
        Ok(())
    }

    async fn purge_deliveries(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let sql = "DELETE FROM webhook_deliveries WHERE claimed_at < $1";
        self.db().run(sql, args![before]).await
    }

    async fn delivery_event(
        &self,
        event_id: uuid::Uuid,
    ) -> Result<Option<(StreamId, u64)>, StoreError> {
        let sql = "SELECT stream_id, version FROM webhook_delivery_events WHERE event_id = $1";
        match self.db().row(sql, args![event_id]).await? {
            Some(row) => {
                let stream = parse_stream_id(&row.text(0)?)?;
                let version = u64::try_from(row.int(1)?).unwrap_or_default();
                Ok(Some((stream, version)))
            }
            None => Ok(None),
        }
    }
}
