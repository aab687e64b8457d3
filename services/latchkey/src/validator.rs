//! Scheduled token validation: the active connections of every integration that sets
//! `validation_interval_secs` are checked at the provider once per interval (besides the check
//! after each authorization and `ValidateConnection` on demand). Each outcome is a `validated`
//! event; a token the provider calls invalid is refreshed by [`Grants::validate`].

use std::time::Duration;

use chrono::Utc;
use latchkey_store::Page;
use tokio_util::sync::CancellationToken;

use crate::error::AppError;
use crate::grants::Grants;
use crate::service::Caller;

/// Connections checked per integration and look; the rest wait for the next look.
const BATCH: u32 = 200;

pub async fn run_validator(grants: Grants, tick: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(tick) => {}
        }
        match validate_due(&grants, &shutdown).await {
            Ok(0) => {}
            Ok(checked) => tracing::debug!(checked, "scheduled validation"),
            Err(e) => tracing::warn!(error = %e, "scheduled validation could not read the store"),
        }
    }
}

/// Checks every connection due now; answers how many were checked.
pub async fn validate_due(
    grants: &Grants,
    shutdown: &CancellationToken,
) -> Result<usize, AppError> {
    let caller = Caller::system("system:validator");
    let mut checked = 0;
    let mut page = Page::first(Page::MAX_LIMIT);
    loop {
        let integrations = grants.store().list_integrations(page).await?;
        for integration in &integrations {
            let config = &integration.config;
            let (Some(secs), Some(_)) = (config.validation_interval_secs, &config.validation)
            else {
                continue;
            };
            if integration.deleted {
                continue;
            }
            let before = Utc::now() - chrono::Duration::seconds(i64::from(secs));
            let due = grants
                .store()
                .due_for_validation(integration.id, before, BATCH)
                .await?;
            for id in due {
                if shutdown.is_cancelled() {
                    return Ok(checked);
                }
                // One connection's trouble (provider down, a refused URL) is its own: recorded
                // or logged, and the others go on.
                if let Err(e) = grants.validate(&caller, id).await {
                    tracing::info!(connection_id = %id, error = %e, "scheduled validation did not complete");
                }
                checked += 1;
            }
        }
        match integrations.last() {
            Some(last) if integrations.len() == Page::MAX_LIMIT as usize => {
                page.after = Some(*last.id.as_uuid());
            }
            _ => return Ok(checked),
        }
    }
}
