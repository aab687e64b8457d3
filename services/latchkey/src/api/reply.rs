//! `GetToken`'s reply encoded once per version of the connection and of its integration and
//! kept (bounded), so a call costs no message built and encoded, metadata or not: the server sends
//! those bytes as they are (`latchkey_proto::encoded::Encoded`). Clients decode the same
//! `GetTokenResponse`, its `Struct` included. The bytes hold the token in clear, so they are
//! zeroed when the last reply that holds them is gone, as the opened token is.

use std::sync::Arc;
use std::time::Duration;

use latchkey_domain::ConnectionId;
use latchkey_proto::encoded::Encoded;
use latchkey_proto::v1 as pb;
use prost::bytes::Bytes;
use secrecy::ExposeSecret as _;
use secrecy::zeroize::Zeroize as _;

use super::convert::{metadata_to_pb, timestamp};
use crate::bounded::{Bounded, Weigh};
use crate::connections::token::{Credential, Placement};

/// What the encoded replies may hold in all; beyond, the least recently asked is encoded again.
const BUDGET_BYTES: usize = 32 << 20;
/// How long an encoded reply stays without being asked for (as long as its opened token).
const MAX_AGE: Duration = Duration::from_secs(300);

/// A connection's reply as encoded, for one version of the connection and of its integration.
#[derive(Debug)]
struct Held {
    connection_version: u64,
    integration_version: u64,
    reply: Encoded,
}

impl Weigh for Held {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Self>() + self.reply.0.len() + 64
    }
}

/// Each connection's encoded reply, by version (sharded behind read-write locks: concurrent
/// replies only read).
#[derive(Debug)]
pub struct EncodedReplies {
    held: Bounded<ConnectionId, Held>,
}

impl Default for EncodedReplies {
    fn default() -> Self {
        Self {
            held: Bounded::new(BUDGET_BYTES, MAX_AGE),
        }
    }
}

impl EncodedReplies {
    /// `GetToken`'s answer for `credential`: the token, where it goes, and what the connection
    /// says of it.
    pub fn reply(&self, credential: &Credential) -> Encoded {
        let opened = &credential.opened;
        let id = credential.connection.id;
        if let Some(held) = self.held.get(&id)
            && held.connection_version == opened.connection_version
            && held.integration_version == opened.integration_version
        {
            return held.reply.clone();
        }
        let reply = Encoded(encode(credential));
        self.held.insert(
            id,
            Arc::new(Held {
                connection_version: opened.connection_version,
                integration_version: opened.integration_version,
                reply: reply.clone(),
            }),
        );
        reply
    }

    /// `reply` with a DPoP proof for the worker's next call: the held bytes and the proof's field
    /// after them (a field appended to a message is read as part of it).
    pub fn with_proof(reply: &Encoded, proof: &str) -> Encoded {
        let mut bytes = Vec::with_capacity(reply.0.len() + proof.len() + 8);
        bytes.extend_from_slice(&reply.0);
        prost::encoding::string::encode(10, &proof.to_owned(), &mut bytes);
        Encoded(Bytes::from_owner(Wiped(bytes)))
    }

    /// Drops what is held for `id` (its connection is gone or has no token to hand out).
    pub fn forget(&self, id: ConnectionId) {
        self.held.remove(&id);
    }
}

/// Encoded bytes that are zeroed when the last `Bytes` holding them is dropped.
struct Wiped(Vec<u8>);

impl AsRef<[u8]> for Wiped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The reply built as `v1` has it and encoded; the clear copies it was built from are zeroed.
fn encode(credential: &Credential) -> Bytes {
    let opened = &credential.opened;
    let placement = match &opened.placement {
        Placement::Header { name, value } => {
            pb::get_token_response::Placement::Header(pb::HeaderCredential {
                name: name.clone(),
                value: value.expose_secret().to_owned(),
            })
        }
        Placement::Query { param, value } => {
            pb::get_token_response::Placement::Query(pb::QueryCredential {
                param: param.clone(),
                value: value.expose_secret().to_owned(),
            })
        }
    };
    let connection = &credential.connection;
    let mut reply = pb::GetTokenResponse {
        access_token: opened.access_token.expose_secret().to_owned(),
        token_type: connection
            .token_type
            .clone()
            .unwrap_or_else(|| "Bearer".to_owned()),
        expires_at: connection.expires_at.map(timestamp),
        scopes: connection.scopes.clone(),
        placement: Some(placement),
        base_uri: opened.base_uri.clone().unwrap_or_default(),
        metadata: Some(metadata_to_pb(connection.metadata.iter())),
        version: connection.version,
        dpop_proof: String::new(),
    };
    let bytes = Bytes::from_owner(Wiped(prost::Message::encode_to_vec(&reply)));
    reply.access_token.zeroize();
    match &mut reply.placement {
        Some(pb::get_token_response::Placement::Header(h)) => h.value.zeroize(),
        Some(pb::get_token_response::Placement::Query(q)) => q.value.zeroize(),
        None => {}
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::Opened;
    use latchkey_domain::connection;
    use secrecy::SecretString;

    fn credential(connection_version: u64, integration_version: u64, token: &str) -> Credential {
        let state: connection::State = serde_json::from_value(serde_json::json!({
            "id": "0193f0a6-7c1e-7d2a-9b1e-3f4a5b6c7d8e",
            "integration_id": "0193f0a6-7c1e-7d2a-9b1e-3f4a5b6c7d8f",
            "tenant": "acme",
            "grant_type": "authorization_code",
            "status": "active",
            "scopes": ["read", "write"],
            "metadata": {"instance_url": "https://acme.my.salesforce.com"},
            "consecutive_failures": 0,
            "version": connection_version,
            "created_at": "2026-12-01T00:00:00Z",
            "updated_at": "2026-12-01T00:00:00Z",
            "expires_at": "2026-12-01T01:00:00Z",
        }))
        .expect("a connection state");
        Credential {
            opened: Arc::new(Opened {
                connection_version,
                integration_version,
                access_token: SecretString::from(token),
                placement: Placement::Header {
                    name: "Authorization".to_owned(),
                    value: SecretString::from(format!("Bearer {token}")),
                },
                base_uri: Some("https://acme.my.salesforce.com".to_owned()),
            }),
            connection: Arc::new(state),
        }
    }

    fn decoded(reply: &Encoded) -> pb::GetTokenResponse {
        prost::Message::decode(prost::Message::encode_to_vec(reply).as_slice())
            .expect("the reply decodes as v1's")
    }

    /// The reply's bytes decode as `v1`'s reply, its `Struct` included; a new version of the
    /// connection (a refresh) or of its integration is encoded anew, never answered from before.
    #[test]
    fn the_reply_decodes_as_v1s_and_follows_each_version() {
        let replies = EncodedReplies::default();
        let first = decoded(&replies.reply(&credential(3, 7, "tok-1")));
        assert_eq!(first.access_token, "tok-1");
        assert_eq!(first.scopes, ["read", "write"]);
        assert_eq!(first.version, 3);
        assert_eq!(first.base_uri, "https://acme.my.salesforce.com");
        let metadata = first.metadata.expect("metadata");
        assert!(metadata.fields.contains_key("instance_url"));
        let Some(pb::get_token_response::Placement::Header(header)) = first.placement else {
            panic!("a header placement");
        };
        assert_eq!(header.value, "Bearer tok-1");
        // Held: the same version answers the same bytes, even from a credential opened anew.
        assert_eq!(
            decoded(&replies.reply(&credential(3, 7, "other"))).access_token,
            "tok-1"
        );
        assert_eq!(
            decoded(&replies.reply(&credential(4, 7, "tok-2"))).access_token,
            "tok-2"
        );
        assert_eq!(
            decoded(&replies.reply(&credential(4, 8, "tok-3"))).access_token,
            "tok-3"
        );
        // What a log of the API's state would print holds no token.
        let printed = format!("{replies:?} {:?}", replies.reply(&credential(4, 8, "x")));
        assert!(!printed.contains("tok-"), "{printed}");
        replies.forget(credential(4, 8, "x").connection.id);
        assert_eq!(
            decoded(&replies.reply(&credential(4, 8, "tok-4"))).access_token,
            "tok-4"
        );
    }

    /// Encoded bytes go out unchanged, inside another message too, and decode back to them.
    #[test]
    fn a_message_encoded_ahead_goes_out_as_it_was_and_reads_back() {
        let reply = pb::GetTokenResponse {
            access_token: "t".to_owned(),
            scopes: vec!["a".to_owned()],
            version: 3,
            ..Default::default()
        };
        let bytes = prost::Message::encode_to_vec(&reply);
        let encoded = Encoded(Bytes::from(bytes.clone()));
        assert_eq!(prost::Message::encode_to_vec(&encoded), bytes);
        let read: Encoded = prost::Message::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(read, encoded);
        let outer = latchkey_proto::server::ReportTokenRejectedResponse {
            verdict: 1,
            credential: Some(encoded),
        };
        let outer: pb::ReportTokenRejectedResponse =
            prost::Message::decode(prost::Message::encode_to_vec(&outer).as_slice())
                .expect("decodes as v1's");
        assert_eq!(outer.credential, Some(reply));
    }
}
