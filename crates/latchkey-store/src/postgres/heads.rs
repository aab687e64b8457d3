//! The heads of the connection streams this store last wrote: an append whose expected version
//! is the known head's skips reading the head and the projection, so it is one statement.
//!
//! A known head can be stale (another replica appended since). That is safe: the database
//! advances a stream's head only from the version and hash the new event names
//! (`events_advance_head`), so an event written from a stale head fails as a taken version, the
//! append reports a conflict, and the head is forgotten. A caller that saw the newer version
//! expects it, does not match the known head, and the head is read as before.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use latchkey_domain::{StreamId, connection};
use lru::LruCache;

use crate::Projection;

/// Connection streams whose heads are kept: about 2 KiB each, so a few MiB. Enough for the
/// appends that follow each other closely (a connection's creation and its first validation,
/// refreshes retried after a conflict); the rest read their head.
const KNOWN_HEADS: NonZeroUsize = NonZeroUsize::new(4096).expect("not zero");

/// A stream's last version and hash, if it has events.
pub(super) type Last = Option<(i64, Vec<u8>)>;

struct Known {
    version: i64,
    hash: Vec<u8>,
    state: connection::State,
}

#[derive(Clone)]
pub(super) struct KnownHeads(Arc<Mutex<LruCache<StreamId, Known>>>);

impl Default for KnownHeads {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(LruCache::new(KNOWN_HEADS))))
    }
}

impl std::fmt::Debug for KnownHeads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownHeads").finish_non_exhaustive()
    }
}

impl KnownHeads {
    fn lock(&self) -> MutexGuard<'_, LruCache<StreamId, Known>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stream's head and projection, if known to be at `expected_version`.
    pub(super) fn at(&self, stream: StreamId, expected_version: u64) -> Option<(Last, Projection)> {
        let mut heads = self.lock();
        let known = heads.get(&stream)?;
        if u64::try_from(known.version).ok() != Some(expected_version) {
            return None;
        }
        Some((
            Some((known.version, known.hash.clone())),
            Projection::Connection(Some(known.state.clone())),
        ))
    }

    /// The stream's head after an append committed: its last event's version and hash and the
    /// projection written with it.
    pub(super) fn remember(
        &self,
        stream: StreamId,
        version: u64,
        hash: &[u8],
        state: connection::State,
    ) {
        let Ok(version) = i64::try_from(version) else {
            return;
        };
        self.lock().put(
            stream,
            Known {
                version,
                hash: hash.to_vec(),
                state,
            },
        );
    }

    pub(super) fn forget(&self, stream: StreamId) {
        self.lock().pop(&stream);
    }

    /// Forgets every head (the projections were rewritten).
    pub(super) fn clear(&self) {
        self.lock().clear();
    }
}
