//! The live connections of a provider account: where deliveries route, and which connection a
//! re-authorization of the same account lands on.

use latchkey_domain::{IntegrationId, TenantId, connection};
use latchkey_store::{ConnectionFilter, EventStore, Page};

use crate::error::AppError;

/// The live (neither deleted nor revoked) connections of a provider account in an integration,
/// of one tenant or of all, oldest first.
pub(crate) async fn live_connections_of_account(
    store: &dyn EventStore,
    tenant: Option<TenantId>,
    integration_id: IntegrationId,
    account: &str,
) -> Result<Vec<connection::State>, AppError> {
    let filter = ConnectionFilter {
        tenant,
        integration_id: Some(integration_id),
        provider_account_id: Some(account.to_owned()),
        ..Default::default()
    };
    let mut found = store.list_connections(&filter, Page::first(100)).await?;
    found.retain(|c| {
        !matches!(
            c.status,
            connection::Status::Deleted | connection::Status::Revoked
        )
    });
    Ok(found)
}
