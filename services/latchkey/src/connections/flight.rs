//! One refresh per connection at a time in this process (single-flight: later callers wait for
//! the first and read what it committed), the per-provider rate limit, and this process's name as
//! a lease owner. Across processes the database lease does the same job.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::Duration;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use latchkey_domain::ConnectionId;

#[derive(Debug)]
pub struct RefreshState {
    /// This process's lease owner name.
    pub owner: String,
    /// How long a refresh lease lasts: longer than a provider call can take, or another replica
    /// could take over while the call is still under way.
    pub lease_ttl: Duration,
    inflight: Mutex<HashMap<ConnectionId, Arc<tokio::sync::Mutex<()>>>>,
    /// Refresh requests per provider host.
    pub limiter: DefaultKeyedRateLimiter<String>,
}

impl RefreshState {
    pub fn new(rate_per_provider: NonZeroU32, lease_ttl: StdDuration) -> Self {
        Self {
            owner: format!("latchkey-{}", uuid::Uuid::new_v4().simple()),
            lease_ttl: Duration::from_std(lease_ttl).unwrap_or_else(|_| Duration::seconds(60)),
            inflight: Mutex::new(HashMap::new()),
            limiter: RateLimiter::keyed(Quota::per_second(rate_per_provider)),
        }
    }

    /// The lock every refresh of `id` in this process takes.
    pub fn lock_for(&self, id: ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id).or_default().clone()
    }

    /// Drops `id`'s lock once nobody else holds or waits for it.
    pub fn forget(&self, id: ConnectionId, lock: &Arc<tokio::sync::Mutex<()>>) {
        let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference and the caller's: nobody else is waiting.
        if Arc::strong_count(lock) <= 2 {
            map.remove(&id);
        }
    }

    /// Whether a refresh of this connection is under way in this process.
    pub fn busy(&self, id: ConnectionId) -> bool {
        let map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&id).is_some_and(|lock| lock.try_lock().is_err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_refresh_of_one_connection_waits_for_the_first_and_others_do_not() {
        let flight = RefreshState::new(NonZeroU32::MIN, StdDuration::from_secs(60));
        let (one, other) = (ConnectionId::new_v7(), ConnectionId::new_v7());
        let first = flight.lock_for(one);
        let held = first.lock().await;
        assert!(flight.busy(one));
        assert!(!flight.busy(other), "another connection is not held up");
        let second = flight.lock_for(one);
        assert!(second.try_lock().is_err(), "the second caller waits");
        drop(held);
        let taken = second.try_lock().expect("free once the first is done");
        drop(taken);
        flight.forget(one, &first);
        assert!(!flight.busy(one));
        drop(second);
        flight.forget(one, &first);
        assert!(
            flight.inflight.lock().expect("map").is_empty(),
            "nothing left behind"
        );
    }
}
