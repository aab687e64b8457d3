//! `GetToken`'s reply without a `google.protobuf.Struct` built per call: a connection's metadata
//! is encoded once per version and kept (bounded), and the reply carries those bytes as they go on
//! the wire (`latchkey_proto::server::GetTokenResponse`). Clients decode the same `Struct`.

use std::sync::Arc;
use std::time::Duration;

use latchkey_domain::{ConnectionId, connection};
use latchkey_proto::server;
use prost::bytes::Bytes;

use latchkey_proto::server::get_token_response::Placement as Reply;
use latchkey_proto::v1 as pb;
use secrecy::ExposeSecret as _;

use super::convert::{metadata_to_pb, timestamp};
use crate::bounded::{Bounded, Weigh};
use crate::connections::token::{Credential, Placement};

/// What the encoded metadata may hold in all; beyond, the least recently asked is encoded again.
const BUDGET_BYTES: usize = 16 << 20;
/// How long an encoding stays without being asked for.
const MAX_AGE: Duration = Duration::from_secs(600);

/// A connection's metadata encoded, for one version of the connection.
#[derive(Debug)]
struct Encoded {
    version: u64,
    bytes: Bytes,
}

impl Weigh for Encoded {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>() + self.bytes.len() + 64
    }
}

/// Each connection's encoded metadata, by version (sharded behind read-write locks: concurrent
/// replies only read).
#[derive(Debug)]
pub struct EncodedMetadata {
    held: Bounded<ConnectionId, Encoded>,
}

impl Default for EncodedMetadata {
    fn default() -> Self {
        Self {
            held: Bounded::new(BUDGET_BYTES, MAX_AGE),
        }
    }
}

impl EncodedMetadata {
    /// The encoded `Struct` of `state`'s metadata (empty bytes for none).
    pub fn of(&self, state: &connection::State) -> Bytes {
        if state.metadata.is_empty() {
            return Bytes::new();
        }
        if let Some(held) = self.held.get(&state.id)
            && held.version == state.version
        {
            return held.bytes.clone();
        }
        let bytes = Bytes::from(prost::Message::encode_to_vec(&metadata_to_pb(
            state.metadata.iter(),
        )));
        self.held.insert(
            state.id,
            Arc::new(Encoded {
                version: state.version,
                bytes: bytes.clone(),
            }),
        );
        bytes
    }
}

/// `GetToken`'s answer: the token, where it goes, and what the connection says of it, its
/// metadata as `held` encoded it.
pub fn credential_to_reply(
    credential: Credential,
    held: &EncodedMetadata,
) -> server::GetTokenResponse {
    let opened = &credential.opened;
    let placement = match &opened.placement {
        Placement::Header { name, value } => Reply::Header(pb::HeaderCredential {
            name: name.clone(),
            value: value.expose_secret().to_owned(),
        }),
        Placement::Query { param, value } => Reply::Query(pb::QueryCredential {
            param: param.clone(),
            value: value.expose_secret().to_owned(),
        }),
    };
    let connection = &credential.connection;
    server::GetTokenResponse {
        access_token: opened.access_token.expose_secret().to_owned(),
        token_type: connection
            .token_type
            .clone()
            .unwrap_or_else(|| "Bearer".to_owned()),
        expires_at: connection.expires_at.map(timestamp),
        scopes: connection.scopes.clone(),
        placement: Some(placement),
        base_uri: opened.base_uri.clone().unwrap_or_default(),
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
