//! The admin listener (`LATCHKEY_ADMIN_ADDR`, loopback by default): `/metrics`, the detailed
//! `/healthz`, and the probes an orchestrator calls: `/livez` (the process answers) and
//! `/readyz` (it can serve: database reachable, schema current, master key loaded). Per-connection series only when asked (`LATCHKEY_METRICS_CONNECTIONS`), provider
//! accounts in them only when asked too, and read from the store at most every
//! [`SERIES_MAX_AGE`], so a scrape costs one count query, not a walk over every connection.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use latchkey_store::EventStore;
use serde_json::{Value, json};

use crate::relay::{RelayState, RelayStatus};

/// How old the per-connection series may be before a scrape reads them again.
pub const SERIES_MAX_AGE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct AdminState {
    pub store: Arc<dyn EventStore>,
    pub storage: &'static str,
    pub relay: Arc<RelayStatus>,
    pub per_connection: bool,
    pub provider_accounts: bool,
    /// When the per-connection series were last read.
    pub series_read_at: Arc<Mutex<Option<Instant>>>,
    /// Refused webhook deliveries.
    pub webhooks: Arc<crate::inbound::WebhookHealth>,
    /// The master keys in memory.
    pub vault: Arc<crate::vault::Vault>,
}

/// How long readiness waits for the database before it says "no answer".
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// 200 when the store answers, 503 otherwise; the body says which part is unwell. A relay that
/// cannot publish makes the service "degraded", not down: writes go on and publication catches up.
async fn healthz(State(state): State<AdminState>) -> (StatusCode, Json<Value>) {
    let relay = state.relay.json();
    match state.store.read_all(i64::MAX, 1).await {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({
                "status": if state.relay.state() == RelayState::Failing { "degraded" } else { "ok" },
                "store": { "kind": state.storage, "status": "ok" },
                "relay": relay,
                "webhooks": state.webhooks.json(),
            })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "store": { "kind": state.storage, "status": "unavailable" },
                    "relay": relay,
                })),
            )
        }
    }
}

/// The process answers: nothing else is asked, so a database outage never restarts it.
async fn livez() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// 200 when this replica can serve: the database answers within [`READY_TIMEOUT`] and holds the
/// schema this build needs, and a master key is loaded; 503 otherwise, naming what is not ready.
/// The relay's state is reported, never a reason to be unready: publication catches up.
async fn readyz(State(state): State<AdminState>) -> (StatusCode, Json<Value>) {
    let store = state.store.clone();
    let check = tokio::time::timeout(READY_TIMEOUT, async move {
        store.read_all(i64::MAX, 1).await?;
        store.schema_current().await
    })
    .await;
    let database = match check {
        Ok(Ok(())) => json!({ "status": "ok", "kind": state.storage }),
        Ok(Err(e @ latchkey_store::StoreError::SchemaBehind { .. })) => {
            json!({ "status": "schema_behind", "kind": state.storage, "reason": e.to_string() })
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unavailable");
            json!({ "status": "unavailable", "kind": state.storage })
        }
        Err(_) => json!({
            "status": "unavailable",
            "kind": state.storage,
            "reason": format!("no answer within {}s", READY_TIMEOUT.as_secs()),
        }),
    };
    let key_id = state.vault.active_key_id();
    let ready = database["status"] == "ok" && !key_id.is_empty();
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(json!({
            "status": if ready { "ready" } else { "unready" },
            "database": database,
            "master_key": { "status": if key_id.is_empty() { "missing" } else { "loaded" }, "active": key_id },
            "relay": state.relay.json(),
        })),
    )
}

/// Prometheus text exposition; gauges that come from the store are read at scrape time.
async fn metrics(State(state): State<AdminState>) -> Response {
    if let Ok(counts) = state.store.count_connections_by_status().await {
        crate::metrics::CONNECTIONS.reset();
        for (status, count) in counts {
            crate::metrics::CONNECTIONS
                .with_label_values(&[status.as_str()])
                .set(count);
        }
    }
    if let Ok(counts) = state.store.count_failing().await {
        crate::metrics::set_failing(counts);
    }
    if state.per_connection && series_due(&state.series_read_at) {
        match live_connections(state.store.as_ref()).await {
            Ok((connections, truncated)) => {
                crate::metrics::CONNECTION_HEALTH.set(
                    &connections,
                    truncated,
                    state.provider_accounts,
                );
            }
            Err(e) => tracing::warn!(error = %e, "metrics: connections unreadable"),
        }
    }
    crate::metrics::set_store_pool(state.store.pool_usage());
    let stream = state.relay.stream().unwrap_or_else(|| "none".to_owned());
    crate::metrics::RELAY_LAG
        .with_label_values(&[stream.as_str()])
        .set(i64::try_from(state.relay.lag()).unwrap_or(i64::MAX));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(),
    )
        .into_response()
}

/// Whether the per-connection series are older than [`SERIES_MAX_AGE`]; if so, this scrape reads
/// them (and the next ones within the age do not).
fn series_due(read_at: &Mutex<Option<Instant>>) -> bool {
    let mut read_at = read_at.lock().unwrap_or_else(|p| p.into_inner());
    match *read_at {
        Some(at) if at.elapsed() < SERIES_MAX_AGE => false,
        _ => {
            *read_at = Some(Instant::now());
            true
        }
    }
}

/// Up to [`crate::metrics::MAX_CONNECTION_SERIES`] connections, and whether there are more.
async fn live_connections(
    store: &dyn EventStore,
) -> Result<(Vec<latchkey_domain::connection::State>, bool), latchkey_store::StoreError> {
    let max = crate::metrics::MAX_CONNECTION_SERIES;
    let mut all = Vec::new();
    let mut page = latchkey_store::Page::first(latchkey_store::Page::MAX_LIMIT);
    loop {
        let batch = store
            .list_connections(&latchkey_store::ConnectionFilter::default(), page)
            .await?;
        let full = batch.len() == latchkey_store::Page::MAX_LIMIT as usize;
        page.after = batch.last().map(|c| *c.id.as_uuid());
        all.extend(batch);
        if all.len() > max {
            all.truncate(max);
            return Ok((all, true));
        }
        if !full {
            return Ok((all, false));
        }
    }
}
