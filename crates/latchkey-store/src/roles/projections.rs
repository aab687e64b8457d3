//! Current state: the projection rows, read by id, page or state digest; their rebuild.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::{ConnectionId, IntegrationId, StreamKind, connection, integration};

use super::Backend;
use crate::sql::{Columns, Db, args};
use crate::{ConnectionFilter, Page, Projections, Replayed, StoreError, clamp_limit, parse_state};

pub(crate) const INTEGRATION_BY_ID: &str = "SELECT state FROM integrations WHERE id = $1";

pub(crate) const CONNECTION_BY_STATE: &str =
    "SELECT state FROM connections WHERE pending_state = $1";

/// Each row's single column parsed as a state.
fn states<T: serde::de::DeserializeOwned>(rows: &[impl Columns]) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|row| parse_state(&row.text(0)?)).collect()
}

/// The row's single column, if there is a row, parsed as a state.
fn state<T: serde::de::DeserializeOwned>(
    row: Option<impl Columns>,
) -> Result<Option<T>, StoreError> {
    row.map(|row| parse_state(&row.text(0)?)).transpose()
}

#[async_trait]
impl<B: Backend> Projections for B {
    async fn integration(
        &self,
        id: IntegrationId,
    ) -> Result<Option<integration::State>, StoreError> {
        state(self.db().row(INTEGRATION_BY_ID, args![id]).await?)
    }

    async fn list_integrations(&self, page: Page) -> Result<Vec<integration::State>, StoreError> {
        let sql = "SELECT state FROM integrations WHERE NOT deleted AND ($1 IS NULL OR id > $1) \
             ORDER BY id LIMIT $2";
        states(
            &self
                .db()
                .rows(sql, args![page.after, clamp_limit(page.limit)])
                .await?,
        )
    }

    #[tracing::instrument(name = "store.read", skip_all, fields(connection_id = %id))]
    async fn connection(&self, id: ConnectionId) -> Result<Option<connection::State>, StoreError> {
        let (json, _) = self.read_connection(id, None).await?;
        json.as_deref().map(parse_state).transpose()
    }

    async fn list_connections(
        &self,
        filter: &ConnectionFilter,
        page: Page,
    ) -> Result<Vec<connection::State>, StoreError> {
        let rows = self.connection_page(filter, page).await?;
        rows.iter().map(|json| parse_state(json)).collect()
    }

    async fn connection_by_state(
        &self,
        state_digest: &str,
    ) -> Result<Option<connection::State>, StoreError> {
        state(
            self.db()
                .row(CONNECTION_BY_STATE, args![state_digest])
                .await?,
        )
    }

    async fn due_for_validation(
        &self,
        integration_id: IntegrationId,
        validated_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let args = args![integration_id, validated_before, clamp_limit(limit)];
        let rows = self.db().rows(B::DUE_FOR_VALIDATION, args).await?;
        rows.iter()
            .map(|row| row.id(0).map(ConnectionId::from_uuid))
            .collect()
    }

    async fn count_connections_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = "SELECT status, count(*) FROM connections GROUP BY status ORDER BY status";
        let rows = self.db().rows(sql, args![]).await?;
        rows.iter()
            .map(|row| Ok((row.text(0)?, row.int(1)?)))
            .collect()
    }

    async fn count_failing(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let sql = format!(
            "SELECT CAST(integration_id AS TEXT), COALESCE({}, ''), count(*) FROM connections \
             WHERE failing_since IS NOT NULL AND status NOT IN ('revoked', 'deleted') \
             GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
            Self::ERROR_CODE
        );
        let rows = self.db().rows(&sql, args![]).await?;
        rows.iter()
            .map(|row| Ok((row.text(0)?, row.text(1)?, row.int(2)?)))
            .collect()
    }

    async fn projection_rows(&self, kind: StreamKind) -> Result<Vec<(String, String)>, StoreError> {
        let (prefix, columns, sql) = match kind {
            StreamKind::Connection => (
                "connection",
                &crate::columns::CONNECTION[..],
                "SELECT CAST(id AS TEXT), state, tenant, CAST(integration_id AS TEXT), status, \
                 CAST(version AS TEXT) FROM connections ORDER BY id",
            ),
            StreamKind::Integration => (
                "integration",
                &crate::columns::INTEGRATION[..],
                "SELECT CAST(id AS TEXT), state, name, \
                 CASE WHEN deleted THEN 'true' ELSE 'false' END, CAST(version AS TEXT), '' \
                 FROM integrations ORDER BY id",
            ),
            StreamKind::System | StreamKind::Session => return Ok(Vec::new()),
        };
        let rows = self.db().rows(sql, args![]).await?;
        rows.iter()
            .map(|row| {
                let stored = [row.text(2)?, row.text(3)?, row.text(4)?, row.text(5)?];
                let state = crate::columns::checked(row.text(1)?, columns, &stored);
                Ok((format!("{prefix}-{}", row.text(0)?), state))
            })
            .collect()
    }

    async fn replace_projections(
        &self,
        replayed: &Replayed,
        last_position: i64,
    ) -> Result<(), StoreError> {
        self.swap_projections(replayed, last_position).await
    }
}
