//! Inbound webhook deliveries seen per integration: the same SQL on both databases, the claim and
//! the mark committed without waiting for the disk (see [`crate::WebhookDeliveries`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::IntegrationId;

use super::{Backend, EVENT_COLUMNS, event_from};
use crate::sql::{Columns, Db, args};
use crate::{DeliveryClaim, RecordedEvent, StoreError, WebhookDeliveries};

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
        let sql = format!(
            "INSERT INTO webhook_deliveries (integration_id, delivery_id, claimed_at, recorded) \
             SELECT $1, $2, $3, $4 FROM {} AS r WHERE true \
             ON CONFLICT (integration_id, delivery_id) DO UPDATE \
             SET claimed_at = excluded.claimed_at, recorded = excluded.recorded \
             WHERE webhook_deliveries.claimed_at < $5 \
             OR (webhook_deliveries.recorded = $4 AND webhook_deliveries.claimed_at < $6)",
            Self::RELAXED_COMMIT
        );
        let args = args![
            integration,
            delivery_id,
            now,
            false,
            seen_after,
            lapsed_before
        ];
        if self.db().run(&sql, args).await? == 1 {
            return Ok(DeliveryClaim::Fresh);
        }
        let sql = "SELECT CAST(CASE WHEN recorded THEN 1 ELSE 0 END AS BIGINT) \
             FROM webhook_deliveries WHERE integration_id = $1 AND delivery_id = $2";
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
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE webhook_deliveries SET recorded = $3 FROM {} AS r \
             WHERE integration_id = $1 AND delivery_id = $2",
            Self::RELAXED_COMMIT
        );
        self.db()
            .run(&sql, args![integration, delivery_id, true])
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

    async fn event_by_id(&self, event_id: uuid::Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE event_id = $1");
        match self.db().row(&sql, args![event_id]).await? {
            Some(row) => Ok(Some(event_from(&row, 0)?)),
            None => Ok(None),
        }
    }
}
