//! DPoP proofs for workers (RFC 9449 §7): a connection's tokens are bound to its DPoP key, which
//! never leaves Latchkey; a worker names the request it is about to make and gets a proof for
//! it, bound to the token it was handed (`ath`).

use latchkey_domain::{ConnectionId, StreamId};
use latchkey_oauth::DpopKey;
use url::Url;

use super::Connections;
use super::token::Credential;
use crate::error::AppError;

/// The request a worker will make with its token.
#[derive(Debug)]
pub struct ProofRequest {
    pub method: String,
    pub url: Url,
    /// The resource server's `DPoP-Nonce`, when it asked for one.
    pub nonce: Option<String>,
}

impl Connections {
    /// Connection `id`'s DPoP key: derived from its data key, so never stored and destroyed with
    /// the connection.
    pub(super) async fn derived_dpop_key(&self, id: ConnectionId) -> Result<DpopKey, AppError> {
        let seed = self.vault.derive(&StreamId::Connection(id), "dpop").await?;
        DpopKey::from_seed(secrecy::ExposeSecret::expose_secret(&seed))
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// A proof for `request`, carrying the hash of `credential`'s token; refused for a
    /// connection whose tokens are not DPoP-bound.
    pub async fn dpop_proof(
        &self,
        credential: &Credential,
        request: &ProofRequest,
    ) -> Result<String, AppError> {
        let connection = &credential.connection;
        let bound = connection
            .token_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("dpop"));
        if !bound {
            return Err(AppError::FailedPrecondition(format!(
                "connection {}'s token is not DPoP-bound (token_type {}); leave dpop unset",
                connection.id,
                connection.token_type.as_deref().unwrap_or("Bearer")
            )));
        }
        let key = self.derived_dpop_key(connection.id).await?;
        key.proof(
            &request.method,
            &request.url,
            request.nonce.as_deref(),
            Some(&credential.opened.access_token),
        )
        .map_err(|e| AppError::Internal(e.to_string()))
    }
}
