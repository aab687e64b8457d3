//! One refresh per connection at a time in this process (single-flight: later callers wait for
//! the first and read what it committed), the per-provider rate limit, and this process's name as
//! a lease owner. Across processes the database lease does the same job.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

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
    /// The longest a provider call takes.
    pub call_timeout: Duration,
    inflight: Mutex<HashMap<ConnectionId, Arc<Flight>>>,
    /// Refresh requests per provider host.
    pub limiter: DefaultKeyedRateLimiter<String>,
}

impl RefreshState {
    pub fn new(
        rate_per_provider: NonZeroU32,
        lease_ttl: StdDuration,
        call_timeout: StdDuration,
    ) -> Self {
        Self {
            owner: format!("latchkey-{}", uuid::Uuid::new_v4().simple()),
            lease_ttl: Duration::from_std(lease_ttl).unwrap_or_else(|_| Duration::seconds(60)),
            call_timeout: Duration::from_std(call_timeout)
                .unwrap_or_else(|_| Duration::seconds(60)),
            inflight: Mutex::new(HashMap::new()),
            limiter: RateLimiter::keyed(Quota::per_second(rate_per_provider)),
        }
    }

    /// The flight of `id`: what every refresh of it in this process shares.
    pub fn flight(&self, id: ConnectionId) -> Arc<Flight> {
        let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id).or_default().clone()
    }

    /// Drops `id`'s flight once nobody else holds or waits for it.
    pub fn forget(&self, id: ConnectionId, flight: &Arc<Flight>) {
        let mut map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference and the caller's: nobody else is waiting.
        if Arc::strong_count(flight) <= 2 {
            map.remove(&id);
        }
    }

    /// Whether a refresh of this connection is under way in this process.
    pub fn busy(&self, id: ConnectionId) -> bool {
        let map = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&id).is_some_and(|f| f.turn.try_lock().is_err())
    }
}

/// One connection's refreshes in this process: one at a time, and when the last one was sent.
#[derive(Debug, Default)]
pub struct Flight {
    /// Held from before the lease to after the commit.
    pub turn: tokio::sync::Mutex<()>,
    sent: Mutex<Option<Instant>>,
}

impl Flight {
    /// Notes that a request went to the provider now.
    pub fn sent_now(&self) {
        *self.sent.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// Whether a request went to the provider after `arrived`: a caller who asked for a refresh
    /// then has had one.
    pub fn sent_since(&self, arrived: Instant) -> bool {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|at| at > arrived)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_refresh_of_one_connection_waits_for_the_first_and_others_do_not() {
        let flights = RefreshState::new(
            NonZeroU32::MIN,
            StdDuration::from_secs(60),
            StdDuration::from_secs(10),
        );
        let (one, other) = (ConnectionId::new_v7(), ConnectionId::new_v7());
        let first = flights.flight(one);
        let held = first.turn.lock().await;
        assert!(flights.busy(one));
        assert!(!flights.busy(other), "another connection is not held up");
        let second = flights.flight(one);
        assert!(second.turn.try_lock().is_err(), "the second caller waits");
        drop(held);
        let taken = second.turn.try_lock().expect("free once the first is done");
        drop(taken);
        flights.forget(one, &first);
        assert!(!flights.busy(one));
        drop(second);
        flights.forget(one, &first);
        assert!(
            flights.inflight.lock().expect("map").is_empty(),
            "nothing left behind"
        );
    }

    #[test]
    fn a_caller_who_asked_for_a_refresh_has_had_one_once_a_request_was_sent_after_it_came() {
        let flight = Flight::default();
        let before = Instant::now();
        assert!(!flight.sent_since(before));
        flight.sent_now();
        assert!(flight.sent_since(before));
        let after = Instant::now();
        assert!(!flight.sent_since(after), "sent before this caller came");
    }
}
