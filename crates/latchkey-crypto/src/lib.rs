//! Sealing of Latchkey's secrets (client secrets, tokens, passwords) before anything stores them.
//!
//! AES-256-GCM under a keyring of master keys. Every ciphertext names the key that sealed it, so keys
//! can rotate without rewriting old data, and its associated data binds it to its owner (the stream
//! of the integration or connection) and field, so a ciphertext copied to another connection or
//! field does not open. A fresh random nonce per seal means the same secret sealed twice gives
//! different bytes.
//!
//! This crate must never log, print or put a secret into an error. It does no IO: key files are
//! read and written by the service.
//!
//! ```
//! use latchkey_crypto::{Keyring, MasterKey, Sealer, Field};
//! use latchkey_domain::{ConnectionId, StreamId};
//! use secrecy::{ExposeSecret, SecretString};
//!
//! let sealer = Sealer::new(Keyring::single(MasterKey::generate()));
//! let owner = StreamId::Connection(ConnectionId::new_v7());
//! let token = SecretString::from("ya29.a0Af");
//! let sealed = sealer.seal(&owner, Field::AccessToken, &token).unwrap();
//! assert_eq!(sealer.open(&owner, Field::AccessToken, &sealed).unwrap().expose_secret(), "ya29.a0Af");
//! ```
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use latchkey_domain::{Sealed, SealedSecret, StreamId};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;

/// Which secret of its owner a ciphertext holds; part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    ClientSecret,
    AccessToken,
    RefreshToken,
    Password,
    PkceVerifier,
    /// A data key, wrapped by a master key.
    DataKey,
    WebhookSecret,
    /// The body of an inbound webhook delivery or action callback.
    WebhookBody,
    /// A service account's private key (JWT bearer connections).
    SigningKey,
    /// A device authorization's device code (RFC 8628), while Latchkey polls with it.
    DeviceCode,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecret => "client_secret",
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
            Self::Password => "password",
            Self::PkceVerifier => "pkce_verifier",
            Self::DataKey => "data_key",
            Self::WebhookSecret => "webhook_secret",
            Self::WebhookBody => "webhook_body",
            Self::SigningKey => "signing_key",
            Self::DeviceCode => "device_code",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("master key is invalid: {0}")]
    InvalidKey(String),
    #[error("sealed value names key {0:?}, which is not in the keyring")]
    UnknownKey(String),
    #[error("sealed value is malformed")]
    Malformed,
    /// Wrong key, wrong owner or field, or bytes changed: GCM cannot tell which, and neither do we.
    #[error("sealed value does not open for this owner and field (tampered, moved or wrong key)")]
    Tampered,
    #[error("sealing failed")]
    Seal,
}

/// A 256-bit master key and its id. The id is derived from the key (a hash prefix), so the same
/// key always has the same id and the id reveals nothing useful about the key.
pub struct MasterKey {
    id: String,
    key: SecretBox<[u8; 32]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 digest of `bytes` in lower-case hex: what the log and the store keep in place of a
/// one-time value (an OAuth `state`, an API key) they must recognise but never hold.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"latchkey key id v1\0")
            .chain_update(bytes)
            .finalize();
        Self {
            id: format!("k{}", hex(&digest[..4])),
            key: SecretBox::new(Box::new(bytes)),
        }
    }

    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let key = Aes256Gcm::generate_key(OsRng);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&key);
        Self::from_bytes(bytes)
    }

    /// Parses standard base64 of exactly 32 bytes (surrounding whitespace allowed, as in a file).
    pub fn from_base64(text: &SecretString) -> Result<Self, CryptoError> {
        let decoded = STANDARD
            .decode(text.expose_secret().trim())
            .map_err(|_| CryptoError::InvalidKey("not valid base64".to_owned()))?;
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            CryptoError::InvalidKey(format!("must be 32 bytes, got {}", decoded.len()))
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key as base64, to be written to a key file with restricted permissions.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.key.expose_secret()))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.key.expose_secret()))
    }
}

/// The master keys Latchkey can open with, and the one it seals with.
#[derive(Debug)]
pub struct Keyring {
    active: String,
    keys: BTreeMap<String, MasterKey>,
}

impl Keyring {
    pub fn single(key: MasterKey) -> Self {
        let active = key.id.clone();
        Self {
            active,
            keys: BTreeMap::from([(key.id.clone(), key)]),
        }
    }

    /// The first key seals; the others open what they sealed before.
    pub fn from_keys(keys: Vec<MasterKey>) -> Option<Self> {
        let mut keys = keys.into_iter();
        let mut keyring = Self::single(keys.next()?);
        for key in keys {
            keyring = keyring.with_retired(key);
        }
        Some(keyring)
    }

    pub fn key_ids(&self) -> Vec<String> {
        self.keys.keys().cloned().collect()
    }

    /// Adds a key that opens older ciphertexts but does not seal new ones.
    pub fn with_retired(mut self, key: MasterKey) -> Self {
        self.keys.entry(key.id.clone()).or_insert(key);
        self
    }

    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    fn active(&self) -> &MasterKey {
        // `active` is always a key of the map: both constructors insert it.
        &self.keys[&self.active]
    }
}

/// Seals and opens secrets for their owners.
#[derive(Debug)]
pub struct Sealer {
    keyring: Keyring,
    fingerprint_key: SecretBox<[u8; 32]>,
}

fn associated_data(owner: &StreamId, field: Field, key_id: &str) -> Vec<u8> {
    format!("latchkey.v1\0{owner}\0{}\0{key_id}", field.as_str()).into_bytes()
}

impl Sealer {
    pub fn new(keyring: Keyring) -> Self {
        let digest = Sha256::new()
            .chain_update(b"latchkey fingerprint v1\0")
            .chain_update(keyring.active().key.expose_secret())
            .finalize();
        let mut fingerprint_key = [0u8; 32];
        fingerprint_key.copy_from_slice(&digest);
        Self {
            keyring,
            fingerprint_key: SecretBox::new(Box::new(fingerprint_key)),
        }
    }

    pub fn active_key_id(&self) -> &str {
        self.keyring.active_key_id()
    }

    /// `[1][key id length][key id][nonce][ciphertext and tag]`.
    pub fn seal(
        &self,
        owner: &StreamId,
        field: Field,
        secret: &SecretString,
    ) -> Result<Sealed, CryptoError> {
        let key = self.keyring.active();
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = associated_data(owner, field, &key.id);
        let ciphertext = key
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let id = key.id.as_bytes();
        let mut out = Vec::with_capacity(2 + id.len() + NONCE_LEN + ciphertext.len());
        out.push(FORMAT_V1);
        out.push(u8::try_from(id.len()).map_err(|_| CryptoError::Seal)?);
        out.extend_from_slice(id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(Sealed::from_bytes(out))
    }

    pub fn open(
        &self,
        owner: &StreamId,
        field: Field,
        sealed: &Sealed,
    ) -> Result<SecretString, CryptoError> {
        let bytes = sealed.as_bytes();
        let (&version, rest) = bytes.split_first().ok_or(CryptoError::Malformed)?;
        if version != FORMAT_V1 {
            return Err(CryptoError::Malformed);
        }
        let (&id_len, rest) = rest.split_first().ok_or(CryptoError::Malformed)?;
        let id_len = usize::from(id_len);
        if rest.len() < id_len + NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (id, rest) = rest.split_at(id_len);
        let id = std::str::from_utf8(id).map_err(|_| CryptoError::Malformed)?;
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let key = self
            .keyring
            .keys
            .get(id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let aad = associated_data(owner, field, id);
        let plaintext = key
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Malformed)
    }

    /// Wraps a data key for `owner` under the active master key.
    pub fn wrap_data_key(&self, owner: &StreamId, key: &DataKey) -> Result<Sealed, CryptoError> {
        let text = SecretString::from(STANDARD.encode(key.key.expose_secret()));
        self.seal(owner, Field::DataKey, &text)
    }

    /// Unwraps `owner`'s data key with whichever master key wrapped it.
    pub fn unwrap_data_key(
        &self,
        owner: &StreamId,
        wrapped: &Sealed,
    ) -> Result<DataKey, CryptoError> {
        let text = self.open(owner, Field::DataKey, wrapped)?;
        let bytes = STANDARD
            .decode(text.expose_secret())
            .map_err(|_| CryptoError::Malformed)?;
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed)?;
        Ok(DataKey::from_bytes(bytes))
    }

    /// The id of the master key a ciphertext of this sealer names.
    pub fn key_id_of(sealed: &Sealed) -> Option<String> {
        let bytes = sealed.as_bytes();
        if bytes.first() != Some(&FORMAT_V1) {
            return None;
        }
        let len = usize::from(*bytes.get(1)?);
        std::str::from_utf8(bytes.get(2..2 + len)?)
            .ok()
            .map(str::to_owned)
    }

    /// A keyed fingerprint (HMAC-SHA256, first 8 bytes): equal secrets give equal fingerprints
    /// under one keyring, and without the key nobody can test guesses against it.
    pub fn fingerprint(&self, secret: &SecretString) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.fingerprint_key.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(secret.expose_secret().as_bytes());
        format!("hmac-sha256:{}", hex(&mac.finalize().into_bytes()[..8]))
    }

    /// Seals a secret and fingerprints it, as integrations store their client secret.
    pub fn seal_secret(
        &self,
        owner: &StreamId,
        field: Field,
        secret: &SecretString,
    ) -> Result<SealedSecret, CryptoError> {
        Ok(SealedSecret {
            sealed: self.seal(owner, field, secret)?,
            fingerprint: self.fingerprint(secret),
        })
    }
}

/// Whether `signature` (hex or base64 text) is the HMAC-SHA256 of `message` under `secret`,
/// compared in constant time.
pub fn verify_hmac_sha256(
    secret: &[u8],
    message: &[u8],
    signature: &str,
    base64_encoded: bool,
) -> bool {
    let decoded = if base64_encoded {
        STANDARD.decode(signature.trim()).ok()
    } else {
        decode_hex(signature.trim())
    };
    let Some(expected) = decoded else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret) else {
        return false;
    };
    mac.update(message);
    mac.verify_slice(&expected).is_ok()
}

/// Whether any of `signatures` (hex or base64 text) is the HMAC-SHA256 of `message` under
/// `secret`: the MAC is computed once, each comparison in constant time.
pub fn hmac_sha256_matches_any(
    secret: &[u8],
    message: &[u8],
    signatures: &[String],
    base64_encoded: bool,
) -> bool {
    <Hmac<Sha256> as Mac>::new_from_slice(secret).is_ok_and(|mac| {
        any_signature_is(
            mac.chain_update(message).finalize(),
            signatures,
            base64_encoded,
        )
    })
}

/// [`hmac_sha256_matches_any`] with HMAC-SHA1 (GitHub's legacy `X-Hub-Signature`, Twilio).
pub fn hmac_sha1_matches_any(
    secret: &[u8],
    message: &[u8],
    signatures: &[String],
    base64_encoded: bool,
) -> bool {
    <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret).is_ok_and(|mac| {
        any_signature_is(
            mac.chain_update(message).finalize(),
            signatures,
            base64_encoded,
        )
    })
}

/// Whether any of `signatures` (hex or base64 text) decodes to `expected`, each compared in
/// constant time.
fn any_signature_is<M: hmac::digest::OutputSizeUser>(
    expected: hmac::digest::CtOutput<M>,
    signatures: &[String],
    base64_encoded: bool,
) -> bool {
    let size = <M as hmac::digest::OutputSizeUser>::output_size();
    signatures.iter().any(|signature| {
        let decoded = if base64_encoded {
            STANDARD.decode(signature.trim()).ok()
        } else {
            decode_hex(signature.trim())
        };
        decoded.is_some_and(|bytes| {
            bytes.len() == size
                && expected
                    == hmac::digest::CtOutput::new(
                        hmac::digest::generic_array::GenericArray::from_slice(&bytes).clone(),
                    )
        })
    })
}

/// Whether `signature_hex` is the Ed25519 signature of `message` under `public_key_hex`
/// (Discord's interactions, strict verification).
pub fn ed25519_verifies(public_key_hex: &str, message: &[u8], signature_hex: &str) -> bool {
    let (Some(key), Some(signature)) = (
        decode_hex(public_key_hex.trim()),
        decode_hex(signature_hex.trim()),
    ) else {
        return false;
    };
    ed25519_verifies_bytes(&key, message, &signature)
}

/// [`ed25519_verifies`] with the key and the signature as bytes (Standard Webhooks' `v1a`).
pub fn ed25519_verifies_bytes(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(key), Ok(signature)) = (
        <[u8; 32]>::try_from(public_key),
        <[u8; 64]>::try_from(signature),
    ) else {
        return false;
    };
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&key) else {
        return false;
    };
    key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature))
        .is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether two secrets are the same, compared in constant time (their MACs under a fixed key, so
/// neither the content nor the length leaks through timing).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let mac = |m: &[u8]| {
        <Hmac<Sha256> as Mac>::new_from_slice(b"latchkey.same_secret")
            .map(|mac| mac.chain_update(m).finalize())
    };
    match (mac(a), mac(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// HMAC-SHA256 of `message`, lower-case hex (for tests and clients that sign).
pub fn hmac_sha256_hex(secret: &[u8], message: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

const FORMAT_V2: u8 = 2;

/// A per-owner data key (envelope encryption): it seals the owner's secrets, and is itself stored
/// only wrapped by a master key. Destroying it makes every secret it sealed unreadable
/// (crypto-shredding), and rotating master keys re-wraps it without touching what it sealed.
pub struct DataKey {
    key: SecretBox<[u8; 32]>,
    /// The key expanded once for AES-GCM (round keys and the GHASH key), not on every seal and
    /// open: a data key is cached and opens a token on every `GetToken`. Wiped on drop (the
    /// `zeroize` features of `aes` and `polyval`, which GHASH runs on).
    cipher: Aes256Gcm,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

/// `latchkey.v2\0<owner>\0<field>`, built without `format!` (it runs on every `GetToken`).
fn data_associated_data(owner: &StreamId, field: Field) -> Vec<u8> {
    let mut aad = Vec::with_capacity(96);
    aad.extend_from_slice(b"latchkey.v2\0");
    owner.push_text(&mut aad);
    aad.push(0);
    aad.extend_from_slice(field.as_str().as_bytes());
    aad
}

impl DataKey {
    pub fn generate() -> Self {
        let key = Aes256Gcm::generate_key(OsRng);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&key);
        Self::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let key = SecretBox::new(Box::new(bytes));
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.expose_secret()));
        Self { key, cipher }
    }

    fn cipher(&self) -> &Aes256Gcm {
        &self.cipher
    }

    /// `[2][nonce][ciphertext and tag]`, bound to `owner` and `field`.
    pub fn seal(
        &self,
        owner: &StreamId,
        field: Field,
        secret: &SecretString,
    ) -> Result<Sealed, CryptoError> {
        self.seal_bytes(owner, field, secret.expose_secret().as_bytes())
    }

    /// [`DataKey::seal`] for bytes that need not be text (a webhook body).
    pub fn seal_bytes(
        &self,
        owner: &StreamId,
        field: Field,
        plaintext: &[u8],
    ) -> Result<Sealed, CryptoError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &data_associated_data(owner, field),
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(FORMAT_V2);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(Sealed::from_bytes(out))
    }

    pub fn open(
        &self,
        owner: &StreamId,
        field: Field,
        sealed: &Sealed,
    ) -> Result<SecretString, CryptoError> {
        String::from_utf8(self.open_bytes(owner, field, sealed)?)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Malformed)
    }

    /// What [`DataKey::seal_bytes`] sealed.
    pub fn open_bytes(
        &self,
        owner: &StreamId,
        field: Field,
        sealed: &Sealed,
    ) -> Result<Vec<u8>, CryptoError> {
        let bytes = sealed.as_bytes();
        let (&version, rest) = bytes.split_first().ok_or(CryptoError::Malformed)?;
        if version != FORMAT_V2 || rest.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &data_associated_data(owner, field),
                },
            )
            .map_err(|_| CryptoError::Tampered)
    }

    /// HMAC-SHA256 under this key, first 8 bytes: stable across master-key rotation, and useless
    /// for testing guesses without the key.
    pub fn fingerprint(&self, secret: &SecretString) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(secret.expose_secret().as_bytes());
        format!("hmac-sha256:{}", hex(&mac.finalize().into_bytes()[..8]))
    }

    /// A 32-byte secret derived from this key for `purpose` of `owner` (HMAC-SHA256 over a label
    /// no secret can equal: it starts with a NUL). A key that lives exactly as long as the data
    /// key (a connection's DPoP key): nothing to store, and destroyed with it.
    pub fn derive(&self, owner: &StreamId, purpose: &str) -> SecretBox<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"\0latchkey-derive-v1\0");
        mac.update(owner.to_string().as_bytes());
        mac.update(b"\0");
        mac.update(purpose.as_bytes());
        SecretBox::new(Box::new(mac.finalize().into_bytes().into()))
    }
}

#[cfg(test)]
mod tests;
