//! The in-memory projection `GetToken` reads: connections and integrations as the store last
//! said, without a query per call.
//!
//! Coherence: an entry is dropped synchronously when this process appends to its stream (before
//! the append returns), and when another replica does (Postgres `NOTIFY` with the stream id,
//! heard by the store). While those notifications cannot be heard (the listening connection is
//! down) the cache is off and every read goes to the store; when they can again, it starts empty.
//! A read that raced with an invalidation is not kept (an epoch counter), and no entry is used
//! after [`MAX_AGE`] either way. Only sealed secrets are held, as in the projection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use latchkey_domain::{ConnectionId, IntegrationId, StreamId, connection, integration};
use latchkey_store::{EventStore, Invalidation, StoreError};

/// The longest an entry is used without the store being asked again, notifications or not.
pub const MAX_AGE: Duration = Duration::from_secs(60);

type Entries<K, V> = RwLock<HashMap<K, (Arc<V>, Instant)>>;

#[derive(Debug)]
pub struct ProjectionCache {
    connections: Entries<ConnectionId, connection::State>,
    integrations: Entries<IntegrationId, integration::State>,
    /// Bumped by every invalidation: a read that began before one is not kept.
    epoch: AtomicU64,
    /// Whether every append anywhere reaches [`ProjectionCache::invalidate`].
    live: AtomicBool,
}

fn read<K, V>(
    entries: &Entries<K, V>,
) -> std::sync::RwLockReadGuard<'_, HashMap<K, (Arc<V>, Instant)>> {
    entries.read().unwrap_or_else(|p| p.into_inner())
}

fn write<K, V>(
    entries: &Entries<K, V>,
) -> std::sync::RwLockWriteGuard<'_, HashMap<K, (Arc<V>, Instant)>> {
    entries.write().unwrap_or_else(|p| p.into_inner())
}

impl ProjectionCache {
    /// `live`: whether invalidations are complete from the start (one process on its own store).
    pub fn new(live: bool) -> Arc<Self> {
        Arc::new(Self {
            connections: RwLock::default(),
            integrations: RwLock::default(),
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(live),
        })
    }

    /// A cache of `store`'s projections: on while the store hears every append, dropping the
    /// entries of each append synchronously (this process's before `append` returns).
    pub fn of(store: &dyn EventStore) -> Arc<Self> {
        let cache = Self::new(store.hears_every_append());
        let weak = Arc::downgrade(&cache);
        store.on_append(Arc::new(move |invalidation| {
            if let Some(cache) = weak.upgrade() {
                match invalidation {
                    Invalidation::Stream(stream) => cache.invalidate(stream),
                    Invalidation::All { heard } => cache.set_live(heard),
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
            StreamId::Connection(id) => {
                write(&self.connections).remove(&id);
            }
            StreamId::Integration(id) => {
                write(&self.integrations).remove(&id);
            }
            StreamId::System(_) | StreamId::Session(_) => {}
        }
    }

    /// Turns the cache on (empty) or off.
    pub fn set_live(&self, live: bool) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        write(&self.connections).clear();
        write(&self.integrations).clear();
        self.live.store(live, Ordering::SeqCst);
    }

    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    /// How many connections are held.
    pub fn len(&self) -> usize {
        read(&self.connections).len()
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

    pub async fn integration(
        &self,
        store: &dyn EventStore,
        id: IntegrationId,
    ) -> Result<Option<Arc<integration::State>>, StoreError> {
        self.lookup(&self.integrations, id, store.integration(id))
            .await
    }

    /// The held entry while it is good, else `load` (started only if needed: futures are lazy).
    async fn lookup<K: std::hash::Hash + Eq + Copy, V>(
        &self,
        entries: &Entries<K, V>,
        key: K,
        load: impl std::future::Future<Output = Result<Option<V>, StoreError>>,
    ) -> Result<Option<Arc<V>>, StoreError> {
        if self.is_live()
            && let Some((value, at)) = read(entries).get(&key)
            && at.elapsed() < MAX_AGE
        {
            return Ok(Some(value.clone()));
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let Some(value) = load.await? else {
            return Ok(None);
        };
        let value = Arc::new(value);
        self.keep(entries, key, &value, epoch);
        Ok(Some(value))
    }

    fn keep<K: std::hash::Hash + Eq, V>(
        &self,
        entries: &Entries<K, V>,
        key: K,
        value: &Arc<V>,
        epoch: u64,
    ) {
        if !self.is_live() {
            return;
        }
        let mut entries = write(entries);
        // Checked under the lock: an invalidation either happened before (skip) or waits.
        if self.epoch.load(Ordering::SeqCst) == epoch {
            entries.insert(key, (value.clone(), Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_domain::{DomainEvent, GrantType, TenantId};
    use latchkey_store::testing::TempDir;
    use latchkey_store::{EventContext, SqliteStore};

    fn context() -> EventContext {
        EventContext {
            actor: "test".to_owned(),
            correlation_id: None,
            occurred_at: chrono::Utc::now(),
        }
    }

    fn created(id: ConnectionId) -> DomainEvent {
        connection::Event::ConnectionCreated {
            connection_id: id,
            integration_id: IntegrationId::new_v7(),
            tenant: TenantId::parse("acme").expect("tenant"),
            grant_type: GrantType::ClientCredentials,
        }
        .into()
    }

    fn validated() -> DomainEvent {
        connection::Event::Validated {
            valid: true,
            reason: None,
        }
        .into()
    }

    #[tokio::test]
    async fn entries_go_with_appends_races_and_a_deaf_listener() {
        let dir = TempDir::create();
        let store = SqliteStore::open(&dir.path.join("cache.db"))
            .await
            .expect("store");
        let cache = ProjectionCache::of(&store);
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
}
