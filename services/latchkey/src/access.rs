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

/// Shards of the counts, so that concurrent reads of different connections rarely wait on
/// each other.
const SHARDS: usize = 8;

#[derive(Debug, Default)]
pub struct AccessLog {
    pending: [Mutex<Pending>; SHARDS],
}

impl AccessLog {
    /// Counts one token read; cheap, no IO.
    pub fn record(&self, actor: &str, connection: ConnectionId) {
        let now = Utc::now();
        let minute = now
            .duration_trunc(chrono::Duration::minutes(1))
            .unwrap_or(now);
        let mut pending = self.shard(connection);
        // A known caller costs no allocation.
        let reads = match pending.get_mut(actor) {
            Some(reads) => reads,
            None => pending.entry(actor.to_owned()).or_default(),
        };
        *reads.entry((connection, minute)).or_default() += 1;
    }

    /// The counts `connection`'s reads go to (a UUID's last byte is random, v4 and v7 alike).
    fn shard(&self, connection: ConnectionId) -> std::sync::MutexGuard<'_, Pending> {
        let shard = usize::from(connection.as_uuid().as_bytes()[15]) % SHARDS;
        self.pending[shard]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    async fn flush(&self, store: &dyn latchkey_store::AccessLog) {
        let mut batch: Vec<TokenReads> = Vec::new();
        for shard in &self.pending {
            let mut pending = shard.lock().unwrap_or_else(|p| p.into_inner());
            batch.extend(pending.drain().flat_map(|(actor, reads)| {
                reads
                    .into_iter()
                    .map(move |((connection, minute), reads)| TokenReads {
                        actor: actor.clone(),
                        connection,
                        minute,
                        reads,
                    })
            }));
        }
        if batch.is_empty() {
            return;
        }
        let context = EventContext::now("system:access-log");
        if let Err(e) = store.record_token_reads(&batch, &context).await {
            tracing::warn!(error = %e, "writing the access audit failed; keeping the counts for later");
            for r in batch {
                *self
                    .shard(r.connection)
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
