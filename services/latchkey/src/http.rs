//! The HTTP listener: `/healthz` now; the OAuth callback and `/metrics` join it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_store::EventStore;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct HttpState {
    pub store: Arc<dyn EventStore>,
    pub storage: &'static str,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// 200 when the store answers, 503 otherwise; the body says which part is unwell.
async fn healthz(State(state): State<HttpState>) -> (StatusCode, Json<Value>) {
    match state.store.read_all(i64::MAX, 1).await {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "store": { "kind": state.storage, "status": "ok" } })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({ "status": "unavailable", "store": { "kind": state.storage, "status": "unavailable" } }),
                ),
            )
        }
    }
}
