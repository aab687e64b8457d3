//! The in-memory projection `GetToken` reads: connections and integrations as the store last
//! said, without a query per call.
//!
//! Coherence: an entry is dropped synchronously when this process appends to its stream (before
//! the append returns), and when another replica does (Postgres `NOTIFY` with the stream id,
//! heard by the store). While those notifications cannot be heard (the listening connection is
//! down) the cache is off and every read goes to the store; when they can again, it starts empty.
//! A read that raced with an invalidation is not kept (an epoch counter), and no entry is used
//! after [`MAX_AGE`] either way. Only sealed secrets are held, as in the projection.
//!
//! Memory: connections are held within a budget (`LATCHKEY_CACHE_MB`), each weighed by the size
//! of its JSON, the least recently used going first; a connection not held is one row read. The
//! budget is split over shards, each behind its own lock, so concurrent `GetToken`s rarely wait
//! on each other.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use latchkey_domain::{ConnectionId, IntegrationId, StreamId, connection, integration};
use latchkey_store::{EventStore, Invalidation, StoreError};

use crate::bounded::{Bounded, Weigh};

/// The longest an entry is used without the store being asked again, notifications or not.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// The connections' budget when none is set (the setting's default, `config::DEFAULT_CACHE_MB`).
pub const DEFAULT_BUDGET_BYTES: usize = crate::config::DEFAULT_CACHE_MB as usize * 1024 * 1024;

/// Integrations are few; they get a budget of their own.
const INTEGRATIONS_BUDGET_BYTES: usize = 16 * 1024 * 1024;

/// What a projection costs: the size of its JSON, a fair measure of what its strings and maps
/// hold, plus the entry's own bookkeeping. The JSON is counted as it is written, not kept.
fn weigh_json<V: serde::Serialize>(value: &V) -> usize {
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value).map_or(4096, |()| count.0)
        + std::mem::size_of::<V>()
        + 64
}

/// A writer that only counts what it is given.
struct Count(usize);

impl std::io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Weigh for connection::State {
    fn weigh(&self) -> usize {
        weigh_json(self)
    }
}

impl Weigh for integration::State {
    fn weigh(&self) -> usize {
        weigh_json(self)
    }
}

#[derive(Debug)]
pub struct ProjectionCache {
    connections: Bounded<ConnectionId, connection::State>,
    integrations: Bounded<IntegrationId, integration::State>,
    /// Bumped by every invalidation: a read that began before one is not kept.
    epoch: AtomicU64,
    /// Whether every append anywhere reaches [`ProjectionCache::invalidate`].
    live: AtomicBool,
}

impl ProjectionCache {
    /// `live`: whether invalidations are complete from the start (one process on its own store);
    /// `budget`: the bytes connections may hold.
    pub fn new(live: bool, budget: usize) -> Arc<Self> {
        Arc::new(Self {
            connections: Bounded::new(budget, MAX_AGE),
            integrations: Bounded::new(INTEGRATIONS_BUDGET_BYTES, MAX_AGE),
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(live),
        })
    }

    /// A cache of `store`'s projections: on while the store hears every append, dropping the
    /// entries of each append synchronously (this process's before `append` returns).
    pub fn of(store: &dyn EventStore, budget: usize) -> Arc<Self> {
        let cache = Self::new(store.hears_every_append(), budget);
        let weak = Arc::downgrade(&cache);
        store.on_append(Arc::new(move |invalidation| {
            if let Some(cache) = weak.upgrade() {
                match invalidation {
                    Invalidation::Stream(stream) => cache.invalidate(stream),
                    Invalidation::All { heard } => cache.set_live(heard),
                    Invalidation::Routes(_) => {}
                }
            }
        }));
        cache
    }

    pub fn invalidate(&self, stream: StreamId) {
        if let StreamId::System(_) | StreamId::Session(_) = stream {
            // Key and access records: nothing here holds them.
            return;
        }
        self.epoch.fetch_add(1, Ordering::SeqCst);
        match stream {
            StreamId::Connection(id) => self.connections.remove(&id),
            StreamId::Integration(id) => self.integrations.remove(&id),
            StreamId::System(_) | StreamId::Session(_) => {}
        }
    }

    /// Turns the cache on (empty) or off.
    pub fn set_live(&self, live: bool) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.connections.clear();
        self.integrations.clear();
        self.live.store(live, Ordering::SeqCst);
    }

    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    /// How many connections are held.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// What the held connections weigh, in bytes.
    pub fn bytes(&self) -> usize {
        self.connections.bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub async fn connection(
        &self,
        store: &dyn EventStore,
        id: ConnectionId,
    ) -> Result<Option<Arc<connection::State>>, StoreError> {
        self.lookup(&self.connections, id, store.connection(id))
            .await
    }

    /// As [`Self::connection`], with `load` reading the connection when it is not held (a
    /// caller that reads more with it in the same query).
    pub async fn connection_or_load(
        &self,
        id: ConnectionId,
        load: impl std::future::Future<Output = Result<Option<connection::State>, StoreError>>,
    ) -> Result<Option<Arc<connection::State>>, StoreError> {
        self.lookup(&self.connections, id, load).await
    }

    pub async fn integration(
        &self,
        store: &dyn EventStore,
        id: IntegrationId,
    ) -> Result<Option<Arc<integration::State>>, StoreError> {
        self.lookup(&self.integrations, id, store.integration(id))
            .await
    }

    /// The held entry while it is good, else `load` (started only if needed: futures are lazy).
    async fn lookup<K: Hash + Eq + Copy, V: Weigh>(
        &self,
        entries: &Bounded<K, V>,
        key: K,
        load: impl std::future::Future<Output = Result<Option<V>, StoreError>>,
    ) -> Result<Option<Arc<V>>, StoreError> {
        if self.is_live()
            && let Some(value) = entries.get(&key)
        {
            return Ok(Some(value));
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let Some(value) = load.await? else {
            return Ok(None);
        };
        let value = Arc::new(value);
        self.keep(entries, key, &value, epoch);
        Ok(Some(value))
    }

    fn keep<K: Hash + Eq + Copy, V: Weigh>(
        &self,
        entries: &Bounded<K, V>,
        key: K,
        value: &Arc<V>,
        epoch: u64,
    ) {
        if !self.is_live() {
            return;
        }
        // An invalidation between the read and here: not kept. One that comes after the check
        // removes what is inserted (it takes the same shard's lock after bumping the epoch).
        if self.epoch.load(Ordering::SeqCst) == epoch {
            entries.insert(key, value.clone());
            if self.epoch.load(Ordering::SeqCst) != epoch {
                entries.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded::SHARDS;
    use latchkey_domain::{DomainEvent, GrantType, TenantId};
    use latchkey_store::testing::TempDir;
    use latchkey_store::{EventContext, EventLog, Projections, SqliteStore};

    fn context() -> EventContext {
        EventContext {
            actor: "test".to_owned(),
            correlation_id: None,
            occurred_at: chrono::Utc::now(),
        }
    }

    fn connection_created(id: ConnectionId) -> connection::Event {
        connection::Event::ConnectionCreated {
            connection_id: id,
            integration_id: IntegrationId::new_v7(),
            tenant: TenantId::parse("acme").expect("tenant"),
            grant_type: GrantType::ClientCredentials,
        }
    }

    fn created(id: ConnectionId) -> DomainEvent {
        connection_created(id).into()
    }

    fn validated() -> DomainEvent {
        connection::Event::Validated {
            valid: true,
            reason: None,
        }
        .into()
    }

    #[test]
    fn a_projection_weighs_its_json_and_its_bookkeeping() {
        let event = connection_created(ConnectionId::new_v7());
        let meta = latchkey_domain::EventMeta {
            version: 1,
            occurred_at: chrono::Utc::now(),
        };
        let state = connection::apply(None, &event, &meta).expect("created");
        let json = serde_json::to_vec(&state).expect("json").len();
        assert!(json > 100, "{json}");
        assert_eq!(
            state.weigh(),
            json + std::mem::size_of::<connection::State>() + 64
        );
    }

    #[tokio::test]
    async fn entries_go_with_appends_races_and_a_deaf_listener() {
        let dir = TempDir::create();
        let store = SqliteStore::open(&dir.path.join("cache.db"))
            .await
            .expect("store");
        let cache = ProjectionCache::of(&store, DEFAULT_BUDGET_BYTES);
        let id = ConnectionId::new_v7();
        let stream = StreamId::Connection(id);
        store
            .append(stream, 0, vec![created(id)], &context())
            .await
            .expect("append");
        let first = cache
            .connection(&store, id)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(first.version, 1);
        let again = cache
            .connection(&store, id)
            .await
            .expect("read")
            .expect("found");
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second read is served from memory"
        );

        // An append drops the entry before it returns: the next read sees it.
        store
            .append(stream, 1, vec![validated()], &context())
            .await
            .expect("append");
        assert!(cache.is_empty());
        let second = cache
            .connection(&store, id)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(second.version, 2);

        // A read that began before an invalidation is not kept.
        let epoch = cache.epoch.load(Ordering::SeqCst);
        cache.invalidate(stream);
        cache.keep(&cache.connections, id, &first, epoch);
        assert!(cache.is_empty(), "a stale read was kept");

        // While invalidations cannot be heard, nothing is kept and reads go to the store.
        cache.set_live(false);
        let read = cache
            .connection(&store, id)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(read.version, 2);
        assert!(cache.is_empty());
        store.close().await;
        dir.remove();
    }

    #[tokio::test]
    async fn connections_stay_within_the_budget_the_least_recently_used_going_first() {
        let dir = TempDir::create();
        let store = SqliteStore::open(&dir.path.join("cache.db"))
            .await
            .expect("store");
        let ids: Vec<ConnectionId> = (0..64).map(|_| ConnectionId::new_v7()).collect();
        for id in &ids {
            store
                .append(StreamId::Connection(*id), 0, vec![created(*id)], &context())
                .await
                .expect("append");
        }
        let one = {
            let state = store
                .connection(ids[0])
                .await
                .expect("read")
                .expect("found");
            state.weigh()
        };
        // Room for about two connections per shard: 32 of the 64.
        let budget = one * 2 * SHARDS + SHARDS;
        let cache = ProjectionCache::of(&store, budget);
        let favourite = ids[0];
        for id in &ids {
            cache.connection(&store, *id).await.expect("read");
            // One connection is read all the time: it is never the least recently used.
            cache.connection(&store, favourite).await.expect("read");
        }
        assert!(cache.bytes() <= budget, "{} > {budget}", cache.bytes());
        assert!(cache.len() < ids.len(), "some were let go: {}", cache.len());
        assert!(
            cache.len() >= SHARDS,
            "each shard holds some: {}",
            cache.len()
        );
        let held = cache.connections.get(&favourite);
        assert!(held.is_some(), "the most used connection is still held");
        // One let go is read from the store again, and held again.
        let gone = ids
            .iter()
            .find(|id| cache.connections.get(id).is_none())
            .copied()
            .expect("one was let go");
        let read = cache
            .connection(&store, gone)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(read.id, gone);
        assert!(cache.connections.get(&gone).is_some());
        store.close().await;
        dir.remove();
    }
}
