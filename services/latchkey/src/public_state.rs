//! What the public listener's handlers share: the store, the connections, the per-address limit
//! on browser requests (callbacks and connect pages), and who may frame the connect pages.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use latchkey_store::EventStore;

use crate::connections::Connections;
use crate::inbound::Inbound;

/// Callbacks one client address may make per second (and in a burst): a person clicks a few;
/// a script guessing `state` values is refused with 429 before any lookup.
const CALLBACKS_PER_SECOND: u32 = 20;
const CALLBACK_BURST: u32 = 50;

#[derive(Debug, Clone)]
pub struct HttpState {
    pub store: Arc<dyn EventStore>,
    pub connections: Connections,
    /// Provider webhooks and action callbacks.
    pub inbound: Inbound,
    per_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// The connect pages' `frame-ancestors` sources (`'none'` unless configured).
    pub frame_ancestors: Arc<str>,
    /// The platform's face on the connect pages.
    pub brand: Arc<crate::connect_pages::Brand>,
}

impl HttpState {
    /// `frame_ancestors`: origins that may frame the connect pages (`LATCHKEY_CONNECT_FRAME_ANCESTORS`).
    pub fn new(
        store: Arc<dyn EventStore>,
        connections: Connections,
        inbound: Inbound,
        frame_ancestors: &[String],
        brand: Arc<crate::connect_pages::Brand>,
    ) -> Self {
        let rate = NonZeroU32::new(CALLBACKS_PER_SECOND).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(CALLBACK_BURST).unwrap_or(NonZeroU32::MIN);
        Self {
            store,
            connections,
            inbound,
            per_address: Arc::new(RateLimiter::keyed(
                Quota::per_second(rate).allow_burst(burst),
            )),
            brand,
            frame_ancestors: if frame_ancestors.is_empty() {
                "'none'".into()
            } else {
                frame_ancestors.join(" ").into()
            },
        }
    }

    /// Whether this client address may make another browser request now (callbacks and the
    /// connect pages share its budget).
    pub fn allow(&self, peer: SocketAddr) -> bool {
        self.per_address.check_key(&peer.ip()).is_ok()
    }
}
