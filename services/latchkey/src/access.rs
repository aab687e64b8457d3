//! The access audit: who read which connection's token, counted per caller, connection and
//! minute in memory and written every few seconds, so `GetToken` never waits on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, DurationRound, Utc};
use latchkey_domain::ConnectionId;
use latchkey_store::{EventStore, TokenReads};
use tokio_util::sync::CancellationToken;

type Key = (String, ConnectionId, DateTime<Utc>);

#[derive(Debug, Default)]
pub struct AccessLog {
    pending: Mutex<HashMap<Key, u64>>,
}

impl AccessLog {
    /// Counts one token read; cheap, no IO.
    pub fn record(&self, actor: &str, connection: ConnectionId) {
        let now = Utc::now();
        let minute = now
            .duration_trunc(chrono::Duration::minutes(1))
            .unwrap_or(now);
        *self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((actor.to_owned(), connection, minute))
            .or_default() += 1;
    }

    async fn flush(&self, store: &dyn EventStore) {
        let batch: Vec<TokenReads> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending
                .drain()
                .map(|((actor, connection, minute), reads)| TokenReads {
                    actor,
                    connection,
                    minute,
                    reads,
                })
                .collect()
        };
        if batch.is_empty() {
            return;
        }
        if let Err(e) = store.record_token_reads(&batch).await {
            tracing::warn!(error = %e, "writing the access audit failed; keeping the counts for later");
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for r in batch {
                *pending
                    .entry((r.actor, r.connection, r.minute))
                    .or_default() += r.reads;
            }
        }
    }

    /// Writes the counts every two seconds, and once more at shutdown.
    pub async fn run(self: Arc<Self>, store: Arc<dyn EventStore>, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            self.flush(&*store).await;
        }
        self.flush(&*store).await;
    }
}
