//! `GetToken`'s reply without a `google.protobuf.Struct` built per call: a connection's metadata
//! is encoded once per version and kept (bounded), and the reply carries those bytes as they go on
//! the wire (`latchkey_proto::server::GetTokenResponse`). Clients decode the same `Struct`.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use latchkey_domain::{ConnectionId, connection};
use latchkey_proto::server;
use lru::LruCache;
use prost::bytes::Bytes;

use latchkey_proto::server::get_token_response::Placement as Reply;
use latchkey_proto::v1 as pb;
use secrecy::ExposeSecret as _;

use super::convert::{metadata_to_pb, timestamp};
use crate::connections::token::{Credential, Placement};

/// Connections whose encoded metadata is kept; beyond, the least recently asked is encoded again.
const HELD: usize = 65_536;

/// Each connection's encoded metadata, by version.
#[derive(Debug)]
pub struct EncodedMetadata {
    held: Mutex<LruCache<ConnectionId, (u64, Bytes)>>,
}

impl Default for EncodedMetadata {
    fn default() -> Self {
        Self {
            held: Mutex::new(LruCache::new(
                NonZeroUsize::new(HELD).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }
}

impl EncodedMetadata {
    /// The encoded `Struct` of `state`'s metadata (empty bytes for none).
    pub fn of(&self, state: &connection::State) -> Bytes {
        if state.metadata.is_empty() {
            return Bytes::new();
        }
        if let Ok(mut held) = self.held.lock()
            && let Some((version, bytes)) = held.get(&state.id)
            && *version == state.version
        {
            return bytes.clone();
        }
        let bytes = Bytes::from(prost::Message::encode_to_vec(&metadata_to_pb(
            state.metadata.iter(),
        )));
        if let Ok(mut held) = self.held.lock() {
            held.put(state.id, (state.version, bytes.clone()));
        }
        bytes
    }
}

/// `GetToken`'s answer: the token, where it goes, and what the connection says of it, its
/// metadata as `held` encoded it.
pub fn credential_to_reply(
    credential: Credential,
    held: &EncodedMetadata,
) -> server::GetTokenResponse {
    let placement = match credential.placement {
        Placement::Header { name, value } => Reply::Header(pb::HeaderCredential {
            name,
            value: value.expose_secret().to_owned(),
        }),
        Placement::Query { param, value } => Reply::Query(pb::QueryCredential {
            param,
            value: value.expose_secret().to_owned(),
        }),
    };
    let connection = &credential.connection;
    server::GetTokenResponse {
        access_token: credential.access_token.expose_secret().to_owned(),
        token_type: connection
            .token_type
            .clone()
            .unwrap_or_else(|| "Bearer".to_owned()),
        expires_at: connection.expires_at.map(timestamp),
        scopes: connection.scopes.clone(),
        placement: Some(placement),
        base_uri: credential.base_uri.unwrap_or_default(),
        metadata: Some(held.of(connection)),
        version: connection.version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reply's bytes decode as the `v1` reply with the same `Struct` as built per call.
    #[test]
    fn the_encoded_metadata_decodes_as_the_struct_built_per_call() {
        let metadata = prost_types::Struct {
            fields: [(
                "instance_url".to_owned(),
                prost_types::Value {
                    kind: Some(prost_types::value::Kind::StringValue(
                        "https://acme.my.salesforce.com".to_owned(),
                    )),
                },
            )]
            .into(),
        };
        let reply = server::GetTokenResponse {
            access_token: "t".to_owned(),
            metadata: Some(Bytes::from(prost::Message::encode_to_vec(&metadata))),
            version: 3,
            ..Default::default()
        };
        let decoded: latchkey_proto::v1::GetTokenResponse =
            prost::Message::decode(prost::Message::encode_to_vec(&reply).as_slice())
                .unwrap_or_default();
        assert_eq!(decoded.metadata, Some(metadata));
        assert_eq!(decoded.version, 3);
        let empty = server::GetTokenResponse {
            metadata: Some(Bytes::new()),
            ..Default::default()
        };
        let decoded: latchkey_proto::v1::GetTokenResponse =
            prost::Message::decode(prost::Message::encode_to_vec(&empty).as_slice())
                .unwrap_or_default();
        assert_eq!(decoded.metadata, Some(prost_types::Struct::default()));
    }
}
