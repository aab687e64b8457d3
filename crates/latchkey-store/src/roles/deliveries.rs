//! Inbound webhook deliveries seen per integration: the same SQL on both databases, a delivery's
//! id recorded in its events' transaction, or claimed and marked around them without waiting for
//! the disk (see [`crate::WebhookDeliveries`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::{DomainEvent, IntegrationId, StreamId};

use super::{Append, Backend, EVENT_COLUMNS, event_from};
use crate::sql::{Columns, Db, Tx, args};
use crate::{
    DeliveryClaim, EventContext, RecordedEvent, SeenDelivery, StoreError, WebhookDeliveries,
};

/// The columns a delivery id is written with.
pub(crate) const SEEN_COLUMNS: &str =
    "webhook_deliveries (integration_id, delivery_id, claimed_at, recorded)";

/// The conflict clause of an id written as seen: it takes the row over only when the row was
/// seen before `seen_after`, or is a claim not marked (`recorded` = `not_recorded`) taken before
/// `lapsed_before` (each an SQL expression); otherwise the statement writes nothing.
pub(crate) fn seen_where(seen_after: &str, not_recorded: &str, lapsed_before: &str) -> String {
    format!(
        "ON CONFLICT (integration_id, delivery_id) DO UPDATE \
         SET claimed_at = excluded.claimed_at, recorded = excluded.recorded \
         WHERE webhook_deliveries.claimed_at < {seen_after} \
         OR (webhook_deliveries.recorded = {not_recorded} \
         AND webhook_deliveries.claimed_at < {lapsed_before})"
    )
}

/// Records `seen`'s id as recorded inside `tx`, the transaction of its events;
/// [`StoreError::DeliverySeen`] when it was seen already.
pub(crate) async fn claim_in(tx: &mut impl Tx, seen: &SeenDelivery) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO {SEEN_COLUMNS} VALUES ($1, $2, $3, $4) {}",
        seen_where("$5", "$6", "$7")
    );
    let args = args![
        seen.integration,
        &seen.delivery_id,
        seen.at,
        true,
        seen.seen_after,
        false,
        seen.lapsed_before
    ];
    match tx.tx_run(&sql, args).await? {
        1 => Ok(()),
        _ => Err(StoreError::DeliverySeen),
    }
}

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
            "INSERT INTO {SEEN_COLUMNS} SELECT $1, $2, $3, $4 FROM {} AS r WHERE true {}",
            Self::RELAXED_COMMIT,
            seen_where("$5", "$4", "$6")
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
        self.delivery_seen(integration, delivery_id).await
    }

    async fn append_delivery(
        &self,
        seen: &SeenDelivery,
        stream: StreamId,
        expected_version: u64,
        events: Vec<DomainEvent>,
        context: &EventContext,
    ) -> Result<Option<Vec<RecordedEvent>>, StoreError> {
        let append = Append {
            stream,
            expected_version,
            events,
            context,
            seen: Some(seen),
        };
        match self.append_events(append).await {
            Ok(recorded) => Ok(Some(recorded)),
            Err(StoreError::DeliverySeen) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delivery_seen(
        &self,
        integration: IntegrationId,
        delivery_id: &str,
    ) -> Result<DeliveryClaim, StoreError> {
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
