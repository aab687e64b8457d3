//! The per-stream hash chain: each event's hash covers its fields and the previous event's hash,
//! so an edited, removed or reordered event breaks every link after it.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `prev_hash` of a stream's first event.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

#[derive(Debug)]
pub struct HashInput<'a> {
    pub stream_id: &'a str,
    pub version: u64,
    pub event_id: &'a Uuid,
    pub event_type: &'a str,
    pub schema_version: u32,
    pub occurred_at: DateTime<Utc>,
    pub actor: &'a str,
    pub correlation_id: Option<&'a str>,
    pub payload: &'a str,
    pub prev_hash: &'a [u8],
}

/// SHA-256 over length-prefixed fields, so no two different events share an encoding.
pub fn event_hash(input: &HashInput<'_>) -> Vec<u8> {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(b"latchkey-event-v1");
    field(input.stream_id.as_bytes());
    field(&input.version.to_be_bytes());
    field(input.event_id.as_bytes());
    field(input.event_type.as_bytes());
    field(&input.schema_version.to_be_bytes());
    field(
        input
            .occurred_at
            .to_rfc3339_opts(SecondsFormat::Micros, true)
            .as_bytes(),
    );
    field(input.actor.as_bytes());
    match input.correlation_id {
        Some(id) => {
            field(&[1]);
            field(id.as_bytes());
        }
        None => field(&[0]),
    }
    field(input.payload.as_bytes());
    field(input.prev_hash);
    hasher.finalize().to_vec()
}
