//! A worker's report that the provider refused the token it was given (`ReportTokenRejected`):
//! the token is checked at the provider at once (the integration's validation), and the
//! connection refreshed, or marked through the refresh, when the provider no longer takes it.
//!
//! A report about a token already replaced (a refresh or a new consent since the version it names)
//! is answered without a check. Reports for one connection are checked one at a time; those about
//! the same token within [`SHARED_FOR`] of a check share its verdict, so a hundred workers failing
//! at once cost the provider one check. A worker that reports a good token falsely gets
//! `NotConfirmed` and changes nothing but the record; without a check configured the report
//! refreshes (at most once per [`SHARED_FOR`]), which a healthy grant survives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use latchkey_domain::connection::refresh::Need;
use latchkey_domain::{ConnectionId, FieldViolation, StreamId, ValidationErrors, connection};

use super::Connections;
use crate::callers::Caller;
use crate::error::AppError;

/// How long a check's verdict answers later reports about the same token.
pub const SHARED_FOR: Duration = Duration::from_secs(2);

/// Connections whose last check is kept; past it the map starts again.
const KEPT: usize = 10_000;

/// What a worker reports.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub id: ConnectionId,
    pub http_status: u16,
    pub provider_error: Option<String>,
    /// The connection's version when the refused token was handed out.
    pub token_version: u64,
}

/// What the report came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The token had been replaced already: nothing checked.
    Replaced,
    /// The provider no longer takes it: refreshed, or marked by the refresh.
    Confirmed,
    /// The provider takes it: nothing changed.
    NotConfirmed,
    /// No check configured: refreshed on the report.
    Refreshed,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Self::Replaced => "replaced",
            Self::Confirmed => "confirmed",
            Self::NotConfirmed => "not_confirmed",
            Self::Refreshed => "refreshed",
        }
    }
}

/// The last check of a connection: of which token version, when, and what it found.
type Checked = Option<(u64, Instant, Verdict)>;

/// One check at a time per connection, with the last one's verdict.
#[derive(Debug, Default)]
pub struct Reports {
    gates: Mutex<HashMap<ConnectionId, Arc<tokio::sync::Mutex<Checked>>>>,
}

impl Reports {
    fn gate(&self, id: ConnectionId) -> Arc<tokio::sync::Mutex<Checked>> {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        if gates.len() >= KEPT && !gates.contains_key(&id) {
            gates.retain(|_, gate| Arc::strong_count(gate) > 1);
        }
        gates.entry(id).or_default().clone()
    }
}

impl Connections {
    /// Handles a worker's report; the verdict (the credential to use is read after it).
    pub async fn report_rejected(
        &self,
        caller: &Caller,
        report: Rejection,
    ) -> Result<Verdict, AppError> {
        let id = report.id;
        let state = self.get(caller, id).await?;
        if report.token_version > state.version {
            return Err(AppError::Invalid(ValidationErrors(vec![
                FieldViolation::new(
                    "token_version",
                    format!(
                        "{} is ahead of connection {id}'s version {}",
                        report.token_version, state.version
                    ),
                ),
            ])));
        }
        if self.replaced_since(id, report.token_version).await? {
            return Ok(Verdict::Replaced);
        }
        let gate = self.reports.gate(id);
        let mut last = gate.lock().await;
        if let Some((version, at, verdict)) = *last
            && version == report.token_version
            && at.elapsed() < SHARED_FOR
        {
            return Ok(verdict);
        }
        // The check before this one may have replaced the token.
        if self.replaced_since(id, report.token_version).await? {
            return Ok(Verdict::Replaced);
        }
        let verdict = self.check_rejected(caller, &state).await?;
        *last = Some((report.token_version, Instant::now(), verdict));
        self.record_report(caller, &report, verdict).await?;
        tracing::info!(connection_id = %id, verdict = verdict.as_str(), http_status = report.http_status, "a worker reported its token refused");
        Ok(verdict)
    }

    /// Whether the connection's tokens changed after `version` (a refresh, a new consent).
    async fn replaced_since(&self, id: ConnectionId, version: u64) -> Result<bool, AppError> {
        let stream = StreamId::Connection(id);
        let mut from = version + 1;
        loop {
            let events = self.store.read_stream(stream, from, 100).await?;
            let Some(last) = events.last() else {
                return Ok(false);
            };
            if events.iter().any(|e| {
                matches!(
                    e.event_type.as_str(),
                    "refreshed" | "authorized" | "imported"
                )
            }) {
                return Ok(true);
            }
            from = last.version + 1;
        }
    }

    /// Checks the token at the provider (refreshing when it is refused), or refreshes when the
    /// integration has no check.
    async fn check_rejected(
        &self,
        caller: &Caller,
        state: &connection::State,
    ) -> Result<Verdict, AppError> {
        let integration = self.integration_state(state.integration_id).await?;
        if integration.config.checks.validation.is_none() {
            self.ensure_fresh(state.id, Need::Force).await?;
            return Ok(Verdict::Refreshed);
        }
        let validated = self.validate(caller, state.id).await?;
        let refused = validated.last_validation.as_ref().is_some_and(|v| !v.valid);
        let replaced = validated.access_token != state.access_token;
        Ok(if refused || replaced {
            Verdict::Confirmed
        } else {
            Verdict::NotConfirmed
        })
    }

    async fn record_report(
        &self,
        caller: &Caller,
        report: &Rejection,
        verdict: Verdict,
    ) -> Result<(), AppError> {
        let command = || connection::Command::RecordTokenRejected {
            http_status: report.http_status,
            provider_error: report.provider_error.clone(),
            token_version: report.token_version,
            verdict: verdict.as_str().to_owned(),
        };
        for _ in 0..5 {
            let current = self.connection_state(report.id).await?;
            let events = connection::decide(Some(&current), command())?;
            match self
                .append_events(report.id, current.version, events, caller, Utc::now())
                .await
            {
                Err(AppError::Conflict(_)) => continue,
                other => return other.map(|_| ()),
            }
        }
        Err(AppError::Unavailable(format!(
            "connection {} kept changing; the report was not recorded",
            report.id
        )))
    }
}
