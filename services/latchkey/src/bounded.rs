//! A map within a memory budget: entries weighed by [`Weigh`], the least recently used going
//! first, none used past a maximum age. Split over shards, each behind its own read-write lock,
//! so concurrent readers rarely wait on each other; a read takes a shard's write lock at most
//! once a second per entry (to mark it used).

use std::hash::{BuildHasher as _, Hash};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use lru::LruCache;

/// Shards of a map: each holds its part of the budget.
pub const SHARDS: usize = 16;

/// What a value held costs in memory, in bytes (an estimate that grows with what it holds).
pub trait Weigh {
    fn weigh(&self) -> usize;
}

#[derive(Debug)]
struct Held<V> {
    value: Arc<V>,
    /// When it was read from the store, in seconds of the cache's clock (small fields: a cache
    /// holds millions of these).
    at: u32,
    bytes: u32,
    /// When it was last moved to the front, in seconds of the cache's clock: a read moves it at
    /// most once a second, so concurrent reads of one connection share a read lock.
    promoted: AtomicU32,
}

/// How long a read leaves an entry where it is before moving it to the front again.
const PROMOTE_EVERY_SECS: u32 = 1;

/// Keys held are ids the service made (UUIDs); the seed is random per process: a fast hash will do.
type Hasher = foldhash::fast::RandomState;

#[derive(Debug)]
struct Shard<K: Hash + Eq, V> {
    entries: LruCache<K, Held<V>, Hasher>,
    bytes: usize,
}

/// Entries within a byte budget, least recently used out first.
#[derive(Debug)]
pub struct Bounded<K: Hash + Eq, V> {
    shards: Vec<RwLock<Shard<K, V>>>,
    budget_per_shard: usize,
    max_age_secs: u64,
    started: Instant,
    /// Picks a key's shard (seeded apart from the shards' own tables).
    spread: Hasher,
}

impl<K: Hash + Eq + Copy, V: Weigh> Bounded<K, V> {
    /// At most `budget` bytes, no entry used once older than `max_age`.
    pub fn new(budget: usize, max_age: Duration) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    RwLock::new(Shard {
                        entries: LruCache::unbounded_with_hasher(Hasher::default()),
                        bytes: 0,
                    })
                })
                .collect(),
            budget_per_shard: (budget / SHARDS).max(1),
            max_age_secs: max_age.as_secs(),
            started: Instant::now(),
            spread: Hasher::default(),
        }
    }

    fn index(&self, key: &K) -> usize {
        (self.spread.hash_one(key) as usize) % self.shards.len()
    }

    fn read(&self, key: &K) -> RwLockReadGuard<'_, Shard<K, V>> {
        self.shards[self.index(key)]
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn shard(&self, key: &K) -> RwLockWriteGuard<'_, Shard<K, V>> {
        self.shards[self.index(key)]
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn now_secs(&self) -> u32 {
        u32::try_from(self.started.elapsed().as_secs()).unwrap_or(u32::MAX)
    }

    /// The held value while younger than the maximum age, marked as just used (under the write lock
    /// at most once a second per entry; otherwise a read lock is all a read takes).
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let now = self.now_secs();
        let value = {
            let shard = self.read(key);
            let held = shard.entries.peek(key)?;
            if u64::from(now.saturating_sub(held.at)) >= self.max_age_secs {
                return None;
            }
            if now.saturating_sub(held.promoted.load(Ordering::Relaxed)) < PROMOTE_EVERY_SECS {
                return Some(held.value.clone());
            }
            held.value.clone()
        };
        if let Some(held) = self.shard(key).entries.get(key) {
            held.promoted.store(now, Ordering::Relaxed);
        }
        Some(value)
    }

    pub fn insert(&self, key: K, value: Arc<V>) {
        let bytes = value.weigh();
        if bytes > self.budget_per_shard {
            return;
        }
        let held = Held {
            value,
            at: self.now_secs(),
            bytes: u32::try_from(bytes).unwrap_or(u32::MAX),
            promoted: AtomicU32::new(self.now_secs()),
        };
        // What leaves is dropped after the lock is let go: freeing a connection's projection is
        // work the shard's other readers need not wait for.
        let mut gone = Vec::new();
        {
            let mut shard = self.shard(&key);
            if let Some(old) = shard.entries.put(key, held) {
                shard.bytes -= old.bytes as usize;
                gone.push(old);
            }
            shard.bytes += bytes;
            while shard.bytes > self.budget_per_shard {
                match shard.entries.pop_lru() {
                    Some((_, old)) => {
                        shard.bytes -= old.bytes as usize;
                        gone.push(old);
                    }
                    None => break,
                }
            }
        }
        drop(gone);
    }

    pub fn remove(&self, key: &K) {
        let gone = {
            let mut shard = self.shard(key);
            let old = shard.entries.pop(key);
            if let Some(old) = &old {
                shard.bytes -= old.bytes as usize;
            }
            old
        };
        drop(gone);
    }

    pub fn clear(&self) {
        for shard in &self.shards {
            let mut shard = shard.write().unwrap_or_else(|p| p.into_inner());
            shard.entries.clear();
            shard.bytes = 0;
        }
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|p| p.into_inner()).entries.len())
            .sum()
    }

    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(|p| p.into_inner()).bytes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Blob(usize);

    impl Weigh for Blob {
        fn weigh(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn many_entries_stay_within_the_budget_and_the_recently_used_stay() {
        let map: Bounded<u32, Blob> = Bounded::new(SHARDS * 1000, Duration::from_secs(60));
        for key in 0..10_000u32 {
            map.insert(key, Arc::new(Blob(100)));
        }
        assert!(map.bytes() <= SHARDS * 1000, "{} bytes", map.bytes());
        assert!(map.len() <= SHARDS * 10, "{} entries", map.len());
        assert!(map.get(&9_999).is_some(), "the last one is held");
        assert!(map.get(&0).is_none(), "the first one went");
        map.remove(&9_999);
        assert!(map.get(&9_999).is_none());
        // One larger than a shard's whole budget is not held at all.
        map.insert(1, Arc::new(Blob(SHARDS * 1000)));
        assert!(map.get(&1).is_none());
    }
}
