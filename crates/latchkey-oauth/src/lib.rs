//! Latchkey's OAuth 2.0 client, built for providers as they are.
//!
//! Every provider call goes through one guarded HTTP client ([`ProviderClient`]): HTTPS only (plain
//! HTTP to loopback only in development), no redirects followed, every address IANA's special-purpose
//! registries call not globally reachable refused after DNS resolution (`guard`), timeouts and a body limit. Token responses are parsed
//! leniently where real providers bend RFC 6749 (`expires_in` as a string, no `token_type`, `scope`
//! as a list, 200 responses that carry an `error`) and strictly where security needs it.
//!
//! Secrets come in and go out as `SecretString`; no error or log line of this crate holds one.
//! It must not depend on the store, the service or the crypto crate: sealing is the caller's job.
#![forbid(unsafe_code)]

mod assertion;
mod authorize;
mod client_assertion;
mod device;
mod discovery;
mod dpop;
mod error;
mod guard;
mod http;
mod identity;
mod mcp;
mod pkce;
mod pushed;
mod stated_end;
mod token;

pub use assertion::{
    ASSERTION_ALGORITHMS, AssertionClaims, AssertionError, AssertionKey, ServiceAccountFile,
};
pub use authorize::{AuthorizationRequest, authorization_url, random_token};
pub use client_assertion::ClientAssertionKey;
pub use device::DeviceAuthorization;
pub use discovery::{ServerMetadata, discover};
pub use dpop::DpopKey;
pub use error::OAuthError;
pub use http::{HttpPolicy, ProviderClient, ProviderResponse};
pub use identity::{account_at, verify_id_token, verify_push_token};
pub use jsonwebtoken::jwk::{Jwk, JwkSet};
pub use mcp::{ProtectedResource, RegisteredClient};
pub use pkce::Pkce;
pub use token::{ClientCredentials, Grant, RevocationOutcome, TokenResponse, parse_token_response};
