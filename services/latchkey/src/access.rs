//! The access audit: who read which connection's token, counted per caller, connection and
//! minute in memory and written every two seconds as `tokens_read` events of the `system-access`
//! stream (with the `token_reads` table that answers "who read this connection"), so `GetToken`
//! never waits on it. A process killed outright loses the counts of its last two seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, DurationRound, Utc};
use latchkey_domain::ConnectionId;
use latchkey_store::{EventContext, TokenReads};
use tokio_util::sync::CancellationToken;

/// Reads per caller, then per connection and minute.
type Pending = HashMap<String, HashMap<(ConnectionId, DateTime<Utc>), u64>>;

#[derive(Debug, Default)]
pub struct AccessLog {
    pending: Mutex<Pending>,
}

impl AccessLog {
    /// Counts one token read; cheap, no IO.
    pub fn record(&self, actor: &str, connection: ConnectionId) {
        let now = Utc::now();
        let minute = now
            .duration_trunc(chrono::Duration::minutes(1))
            .unwrap_or(now);
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        // A known caller costs no allocation.
        let reads = match pending.get_mut(actor) {
            Some(reads) => reads,
            None => pending.entry(actor.to_owned()).or_default(),
        };
        *reads.entry((connection, minute)).or_default() += 1;
    }

    async fn flush(&self, store: &dyn latchkey_store::AccessLog) {
        let batch: Vec<TokenReads> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending
                .drain()
                .flat_map(|(actor, reads)| {
                    reads
                        .into_iter()
                        .map(move |((connection, minute), reads)| TokenReads {
                            actor: actor.clone(),
                            connection,
                            minute,
                            reads,
                        })
                })
                .collect()
        };
        if batch.is_empty() {
            return;
        }
        let context = EventContext::now("system:access-log");
        if let Err(e) = store.record_token_reads(&batch, &context).await {
            tracing::warn!(error = %e, "writing the access audit failed; keeping the counts for later");
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for r in batch {
                *pending
                    .entry(r.actor)
                    .or_default()
                    .entry((r.connection, r.minute))
                    .or_default() += r.reads;
            }
        }
    }

    /// Writes the counts every two seconds, and once more at shutdown.
    pub async fn run(
        self: Arc<Self>,
        store: Arc<dyn latchkey_store::AccessLog>,
        shutdown: CancellationToken,
    ) {
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
