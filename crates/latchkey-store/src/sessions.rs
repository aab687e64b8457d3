//! Lost database sessions: a statement that failed as a lost session does (the database restarted
//! or killed it) makes every pooled connection be checked before use for a while, so the others a
//! restart broke are replaced instead of failing a statement each.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a pooled connection may sit idle before it is checked (a ping) on its next use.
const PING_WHEN_IDLE: Duration = Duration::from_secs(1);
/// After a statement failed as a lost session does (the database restarted, or killed it),
/// for this long every pooled connection is checked before use, so the others a restart broke
/// are replaced instead of failing a statement each.
const PING_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// When a statement last failed as a lost session does, in milliseconds since [`EPOCH`] (0:
/// never). One for the process: a restart breaks every pool's sessions alike.
static LAST_LOST_SESSION: AtomicU64 = AtomicU64::new(0);
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn since_epoch() -> u64 {
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Notes an error that means the session is gone (IO, TLS or protocol failure; the server
/// shutting down or terminating the session; a connection exception).
pub(crate) fn note_failure(error: &sqlx::Error) {
    let lost = match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    };
    if lost {
        LAST_LOST_SESSION.store(since_epoch().max(1), Ordering::Relaxed);
    }
}

/// Whether a connection idle for `idle` is checked before use.
pub(crate) fn check_before_use(idle: Duration) -> bool {
    let failed = LAST_LOST_SESSION.load(Ordering::Relaxed);
    idle >= PING_WHEN_IDLE
        || (failed != 0
            && since_epoch().saturating_sub(failed) <= PING_AFTER_FAILURE.as_millis() as u64)
}
