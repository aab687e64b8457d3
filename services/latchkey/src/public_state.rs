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
    pub brand: Arc<Brand>,
}

impl HttpState {
    /// `frame_ancestors`: origins that may frame the connect pages (`LATCHKEY_CONNECT_FRAME_ANCESTORS`).
    pub fn new(
        store: Arc<dyn EventStore>,
        connections: Connections,
        inbound: Inbound,
        frame_ancestors: &[String],
        brand: Arc<Brand>,
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

/// The platform's face on the pages.
#[derive(Debug, Default, Clone)]
pub struct Brand {
    /// The platform's name: "Acme connects your accounts", "Back to Acme".
    pub name: Option<String>,
    /// `#rrggbb`, the buttons' colour.
    pub accent: Option<String>,
    /// Where a customer asks for help (`https:` or `mailto:`).
    pub support_url: Option<String>,
    /// Where "Back to the platform" leads when the session's return URL is not known.
    pub home_url: Option<String>,
    /// The logo, fetched at start (settings only).
    pub logo: Option<Arc<Logo>>,
}

/// An image the pages show, served from this origin.
#[derive(Debug)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}
