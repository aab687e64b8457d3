use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Ciphertext produced by Latchkey's sealer. The domain never sees a secret in clear: it stores and
/// moves these bytes, and only the crypto crate can open them. Serialized as base64 (standard,
/// padded). `Debug` shows the length only.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(Vec<u8>);

impl Sealed {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

impl Serialize for Sealed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Sealed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(text)
            .map(Self)
            .map_err(|_| serde::de::Error::custom("sealed value is not valid base64"))
    }
}

/// A sealed secret with its fingerprint: a keyed hash that lets an operator tell two secrets apart
/// (or check which one is configured) without being able to read or brute-force either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    pub sealed: Sealed,
    pub fingerprint: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_base64_and_back() {
        let sealed = Sealed::from_bytes(b"foobar".to_vec());
        let json = serde_json::to_string(&sealed).unwrap();
        assert_eq!(json, "\"Zm9vYmFy\"");
        assert_eq!(serde_json::from_str::<Sealed>(&json).unwrap(), sealed);
        assert!(serde_json::from_str::<Sealed>("\"Zm9v*\"").is_err());
    }

    #[test]
    fn debug_never_shows_the_bytes() {
        let sealed = Sealed::from_bytes(b"ciphertext".to_vec());
        assert_eq!(format!("{sealed:?}"), "Sealed(10 bytes)");
    }
}
