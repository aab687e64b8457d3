//! Where deliveries route, without a read per delivery: each provider account's live connections,
//! as the store last said, held while the store tells every change of them.
//!
//! Coherence: the store tells [`Invalidation::Routes`] when a connection of an integration is
//! added or removed, or its provider account or status changes, whoever wrote it (Postgres: a
//! trigger on the projection notifies every replica, this one included, a moment after the
//! commit); the integration's accounts are dropped then. While it cannot tell (the listening
//! session is down; SQLite, which has no such notice) nothing is held and every delivery reads.
//! A read that raced with a notice is not kept (an epoch counter), no entry is used after
//! [`MAX_AGE`], and an account with no live connection is never held (the first delivery after a
//! connection appears finds it). Until the notice arrives, a change made a moment ago may not be
//! seen: a delivery can still reach a connection revoked in that moment, as one read just before
//! the revocation would.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use latchkey_domain::{ConnectionId, IntegrationId};
use latchkey_store::{EventStore, Invalidation};

use super::live_connections_of_account;
use crate::error::AppError;

/// The longest an entry is used without the store being asked again, notices or not.
const MAX_AGE: Duration = Duration::from_secs(60);

/// Accounts held at most; past it the map starts again.
const MAX_ACCOUNTS: usize = 100_000;

type Accounts = HashMap<Box<str>, (Instant, Arc<[ConnectionId]>)>;

#[derive(Debug, Default)]
pub(super) struct Routes {
    held: Mutex<HashMap<IntegrationId, Accounts>>,
    /// Accounts held, over every integration.
    count: AtomicU64,
    /// Bumped by every notice: a read that began before one is not kept.
    epoch: AtomicU64,
    /// Whether every change of routes reaches [`Routes::tell`].
    live: AtomicBool,
}

impl Routes {
    /// Routes held while `store` tells their changes.
    pub(super) fn of(store: &dyn EventStore) -> Arc<Self> {
        let routes = Arc::new(Self::default());
        let weak: Weak<Self> = Arc::downgrade(&routes);
        store.on_append(Arc::new(move |invalidation| {
            if let Some(routes) = weak.upgrade() {
                routes.tell(invalidation);
            }
        }));
        // After the hook is in place: a change of listening from now on reaches it.
        routes.set_live(store.hears_route_changes());
        routes
    }

    fn tell(&self, invalidation: Invalidation) {
        match invalidation {
            Invalidation::Routes(integration) => {
                self.epoch.fetch_add(1, Ordering::SeqCst);
                let mut held = self.lock();
                if let Some(accounts) = held.remove(&integration) {
                    self.count
                        .fetch_sub(accounts.len() as u64, Ordering::SeqCst);
                }
            }
            Invalidation::All { heard } => self.set_live(heard),
            Invalidation::Stream(_) => {}
        }
    }

    fn set_live(&self, live: bool) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.lock().clear();
        self.count.store(0, Ordering::SeqCst);
        self.live.store(live, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IntegrationId, Accounts>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live connections of `account` in `integration`, every tenant's, oldest first.
    pub(super) async fn of_account(
        &self,
        store: &dyn EventStore,
        integration: IntegrationId,
        account: &str,
    ) -> Result<Arc<[ConnectionId]>, AppError> {
        let live = store.hears_route_changes();
        if live && let Some(ids) = self.held(integration, account) {
            return Ok(ids);
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let found: Arc<[ConnectionId]> =
            live_connections_of_account(store, None, integration, account)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect();
        if live && !found.is_empty() {
            self.keep(integration, account, &found, epoch);
        }
        Ok(found)
    }

    /// The connections held for `account`, while routes are held and the entry is young enough.
    fn held(&self, integration: IntegrationId, account: &str) -> Option<Arc<[ConnectionId]>> {
        if !self.live.load(Ordering::SeqCst) {
            return None;
        }
        let held = self.lock();
        let (at, ids) = held.get(&integration)?.get(account)?;
        (at.elapsed() < MAX_AGE).then(|| ids.clone())
    }

    fn keep(
        &self,
        integration: IntegrationId,
        account: &str,
        ids: &Arc<[ConnectionId]>,
        epoch: u64,
    ) {
        let mut held = self.lock();
        // Checked under the lock a notice takes: one that came during the read is seen here.
        if self.epoch.load(Ordering::SeqCst) != epoch || !self.live.load(Ordering::SeqCst) {
            return;
        }
        if self.count.load(Ordering::SeqCst) >= MAX_ACCOUNTS as u64 {
            held.clear();
            self.count.store(0, Ordering::SeqCst);
        }
        let entry = (Instant::now(), ids.clone());
        if held
            .entry(integration)
            .or_default()
            .insert(account.into(), entry)
            .is_none()
        {
            self.count.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Arc<[ConnectionId]> {
        (0..n).map(|_| ConnectionId::new_v7()).collect()
    }

    fn live() -> Routes {
        let routes = Routes::default();
        routes.set_live(true);
        routes
    }

    #[test]
    fn a_notice_drops_its_integrations_accounts_and_no_others() {
        let routes = live();
        let (a, b) = (IntegrationId::new_v7(), IntegrationId::new_v7());
        let (one, two) = (ids(1), ids(2));
        routes.keep(a, "x", &one, routes.epoch.load(Ordering::SeqCst));
        routes.keep(b, "x", &two, routes.epoch.load(Ordering::SeqCst));
        assert_eq!(routes.held(a, "x").as_deref(), Some(&one[..]));
        assert_eq!(routes.held(a, "y"), None);
        routes.tell(Invalidation::Routes(a));
        assert_eq!(routes.held(a, "x"), None);
        assert_eq!(routes.held(b, "x").as_deref(), Some(&two[..]));
        assert_eq!(routes.count.load(Ordering::SeqCst), 1);
        // Appends that leave routes as they were drop nothing.
        routes.tell(Invalidation::Stream(
            latchkey_domain::StreamId::Integration(b),
        ));
        assert!(routes.held(b, "x").is_some());
    }

    #[test]
    fn a_read_that_began_before_a_notice_is_not_kept() {
        let routes = live();
        let a = IntegrationId::new_v7();
        let before = routes.epoch.load(Ordering::SeqCst);
        routes.tell(Invalidation::Routes(IntegrationId::new_v7()));
        routes.keep(a, "x", &ids(1), before);
        assert_eq!(routes.held(a, "x"), None);
    }

    #[test]
    fn nothing_is_held_while_changes_go_unheard_and_all_is_dropped_when_heard_again() {
        let routes = live();
        let a = IntegrationId::new_v7();
        routes.keep(a, "x", &ids(1), routes.epoch.load(Ordering::SeqCst));
        routes.tell(Invalidation::All { heard: false });
        assert_eq!(routes.held(a, "x"), None);
        routes.keep(a, "x", &ids(1), routes.epoch.load(Ordering::SeqCst));
        assert_eq!(routes.held(a, "x"), None, "not kept while unheard");
        routes.tell(Invalidation::All { heard: true });
        assert_eq!(routes.held(a, "x"), None, "starts empty");
        routes.keep(a, "x", &ids(1), routes.epoch.load(Ordering::SeqCst));
        assert!(routes.held(a, "x").is_some());
    }

    #[test]
    fn past_the_most_accounts_the_map_starts_again() {
        let routes = live();
        let a = IntegrationId::new_v7();
        let epoch = routes.epoch.load(Ordering::SeqCst);
        for n in 0..MAX_ACCOUNTS {
            routes.keep(a, &n.to_string(), &ids(1), epoch);
        }
        assert_eq!(routes.count.load(Ordering::SeqCst), MAX_ACCOUNTS as u64);
        routes.keep(a, "one more", &ids(1), epoch);
        assert_eq!(routes.count.load(Ordering::SeqCst), 1);
        assert!(routes.held(a, "one more").is_some());
        assert_eq!(routes.held(a, "0"), None);
    }
}
