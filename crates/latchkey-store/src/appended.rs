//! What an adapter signals after a committed append: the hooks, then the waiters.

use std::sync::Arc;

use latchkey_domain::{IntegrationId, StreamId};

/// What an [`AppendHook`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidation {
    /// The stream was appended to, here or by another replica.
    Stream(StreamId),
    /// The live connections of the integration's provider accounts may have changed: a connection
    /// was added or removed, or its provider account or status changed (here or elsewhere; heard
    /// shortly after the commit, not before `append` returns). Told only by a store that
    /// [`crate::EventLog::hears_route_changes`].
    Routes(IntegrationId),
    /// Anything may have changed: drop every copy. `heard` says whether every append reaches the
    /// hooks from now on (listening started) or not (it stopped).
    All { heard: bool },
}

/// See [`crate::EventLog::on_append`].
pub type AppendHook = Arc<dyn Fn(Invalidation) + Send + Sync>;

/// See [`crate::EventLog::hear_other_replicas`].
pub type HearingTask = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// An adapter's signals after a committed append: the hooks, then the waiters.
#[derive(Clone)]
pub(crate) struct Appended {
    pub(crate) notify: Arc<tokio::sync::Notify>,
    hooks: Arc<std::sync::RwLock<Vec<AppendHook>>>,
    heard: Arc<std::sync::atomic::AtomicBool>,
    /// Whether the adapter tells [`Invalidation::Routes`] while it hears every append.
    routes: bool,
}

impl std::fmt::Debug for Appended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appended").finish_non_exhaustive()
    }
}

impl Appended {
    /// `heard`: whether every append reaches the hooks from the start (one process owns the store);
    /// `routes`: whether the adapter tells [`Invalidation::Routes`].
    pub(crate) fn new(heard: bool, routes: bool) -> Self {
        Self {
            notify: Arc::default(),
            hooks: Arc::default(),
            heard: Arc::new(std::sync::atomic::AtomicBool::new(heard)),
            routes,
        }
    }

    pub(crate) fn add(&self, hook: AppendHook) {
        self.hooks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(hook);
    }

    pub(crate) fn heard(&self) -> bool {
        self.heard.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn hears_routes(&self) -> bool {
        self.routes && self.heard()
    }

    fn tell_hooks(&self, invalidation: Invalidation) {
        for hook in self.hooks.read().unwrap_or_else(|p| p.into_inner()).iter() {
            hook(invalidation);
        }
    }

    fn tell(&self, invalidation: Invalidation) {
        self.tell_hooks(invalidation);
        self.notify.notify_waiters();
    }

    /// The integration's routes may have changed (no waiter wakes: no event is told by this).
    pub(crate) fn routes_changed(&self, integration: IntegrationId) {
        self.tell_hooks(Invalidation::Routes(integration));
    }

    pub(crate) fn committed(&self, stream: StreamId) {
        self.tell(Invalidation::Stream(stream));
    }

    /// Every copy is suspect; from now on appends are (`heard`) or are not all heard.
    pub(crate) fn everything(&self, heard: bool) {
        self.heard.store(heard, std::sync::atomic::Ordering::SeqCst);
        self.tell(Invalidation::All { heard });
    }
}
