use super::*;
use latchkey_domain::{ConnectionId, IntegrationId};

#[test]
fn data_associated_data_is_the_formatted_owner_and_field() {
    use latchkey_domain::{ConnectSessionId, SystemStream};
    for owner in [
        StreamId::Connection(ConnectionId::new_v7()),
        StreamId::Integration(IntegrationId::new_v7()),
        StreamId::Session(ConnectSessionId::new_v7()),
        StreamId::System(SystemStream::Keys),
    ] {
        for field in [Field::AccessToken, Field::ClientSecret] {
            assert_eq!(
                data_associated_data(&owner, field),
                format!("latchkey.v2\0{owner}\0{}", field.as_str()).into_bytes()
            );
        }
    }
}

const CANARY: &str = "canary-secret-7f3a9c";

fn sealer() -> Sealer {
    Sealer::new(Keyring::single(MasterKey::from_bytes([7; 32])))
}

fn owner() -> StreamId {
    StreamId::Integration(IntegrationId::new_v7())
}

fn secret() -> SecretString {
    SecretString::from(CANARY)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn sha256_hex_matches_the_fips_180_vector() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn stored_bytes_do_not_hold_the_plaintext() {
    let sealed = sealer()
        .seal(&owner(), Field::ClientSecret, &secret())
        .unwrap();
    assert!(!contains(sealed.as_bytes(), CANARY.as_bytes()));
    let json = serde_json::to_string(&sealed).unwrap();
    assert!(!json.contains(CANARY));
}

#[test]
fn a_sealed_value_opens_for_its_owner_and_field() {
    let (sealer, owner) = (sealer(), owner());
    let sealed = sealer.seal(&owner, Field::ClientSecret, &secret()).unwrap();
    let opened = sealer.open(&owner, Field::ClientSecret, &sealed).unwrap();
    assert_eq!(opened.expose_secret(), CANARY);
}

#[test]
fn every_flipped_byte_fails_to_open() {
    let (sealer, owner) = (sealer(), owner());
    let sealed = sealer.seal(&owner, Field::ClientSecret, &secret()).unwrap();
    for i in 0..sealed.as_bytes().len() {
        let mut bytes = sealed.as_bytes().to_vec();
        bytes[i] ^= 0x01;
        let result = sealer.open(&owner, Field::ClientSecret, &Sealed::from_bytes(bytes));
        assert!(result.is_err(), "flipping byte {i} still opened");
    }
}

#[test]
fn a_ciphertext_moved_to_another_owner_or_field_fails() {
    let (sealer, owner) = (sealer(), owner());
    let sealed = sealer.seal(&owner, Field::AccessToken, &secret()).unwrap();
    let other = StreamId::Connection(ConnectionId::new_v7());
    assert_eq!(
        sealer
            .open(&other, Field::AccessToken, &sealed)
            .unwrap_err(),
        CryptoError::Tampered
    );
    assert_eq!(
        sealer
            .open(&owner, Field::RefreshToken, &sealed)
            .unwrap_err(),
        CryptoError::Tampered
    );
}

#[test]
fn sealing_the_same_value_twice_gives_different_bytes() {
    let (sealer, owner) = (sealer(), owner());
    let a = sealer.seal(&owner, Field::ClientSecret, &secret()).unwrap();
    let b = sealer.seal(&owner, Field::ClientSecret, &secret()).unwrap();
    assert_ne!(a, b);
}

#[test]
fn another_keyring_cannot_open_and_says_which_key_is_missing() {
    let owner = owner();
    let sealed = sealer()
        .seal(&owner, Field::ClientSecret, &secret())
        .unwrap();
    let stranger = Sealer::new(Keyring::single(MasterKey::from_bytes([8; 32])));
    let err = stranger
        .open(&owner, Field::ClientSecret, &sealed)
        .unwrap_err();
    assert_eq!(
        err,
        CryptoError::UnknownKey(sealer().active_key_id().to_owned())
    );
}

#[test]
fn a_retired_key_still_opens_what_it_sealed() {
    let owner = owner();
    let old = sealer()
        .seal(&owner, Field::ClientSecret, &secret())
        .unwrap();
    let rotated = Sealer::new(
        Keyring::single(MasterKey::from_bytes([9; 32]))
            .with_retired(MasterKey::from_bytes([7; 32])),
    );
    let opened = rotated.open(&owner, Field::ClientSecret, &old).unwrap();
    assert_eq!(opened.expose_secret(), CANARY);
    let new = rotated
        .seal(&owner, Field::ClientSecret, &secret())
        .unwrap();
    assert!(sealer().open(&owner, Field::ClientSecret, &new).is_err());
}

#[test]
fn one_mac_checks_every_signature_and_refuses_what_is_not_one() {
    let good = hmac_sha256_hex(b"secret", b"message");
    let wrong = hmac_sha256_hex(b"other", b"message");
    let sigs = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(hmac_sha256_matches_any(
        b"secret",
        b"message",
        &sigs(&[&wrong, &good]),
        false
    ));
    assert!(!hmac_sha256_matches_any(
        b"secret",
        b"message",
        &sigs(&[&wrong]),
        false
    ));
    assert!(!hmac_sha256_matches_any(
        b"secret",
        b"message",
        &sigs(&["zz", "", "abcd"]),
        false
    ));
    let b64 = STANDARD.encode(
        (0..good.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&good[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>(),
    );
    assert!(hmac_sha256_matches_any(
        b"secret",
        b"message",
        &sigs(&[&b64]),
        true
    ));
}

#[test]
fn master_keys_parse_from_base64_of_32_bytes_only() {
    let key = MasterKey::generate();
    let parsed = MasterKey::from_base64(&key.to_base64()).unwrap();
    assert_eq!(parsed.id(), key.id());
    let short = MasterKey::from_base64(&SecretString::from("AAAA")).unwrap_err();
    assert_eq!(
        short,
        CryptoError::InvalidKey("must be 32 bytes, got 3".to_owned())
    );
    assert!(MasterKey::from_base64(&SecretString::from("!!")).is_err());
    assert!(!format!("{key:?}").contains(key.to_base64().expose_secret()));
}

#[test]
fn data_keys_seal_per_owner_and_field_and_survive_master_rotation() {
    let owner = owner();
    let data_key = DataKey::generate();
    let sealed = data_key
        .seal(&owner, Field::AccessToken, &secret())
        .unwrap();
    assert!(!contains(sealed.as_bytes(), CANARY.as_bytes()));
    assert_eq!(
        data_key
            .open(&owner, Field::AccessToken, &sealed)
            .unwrap()
            .expose_secret(),
        CANARY
    );
    assert!(data_key.open(&owner, Field::RefreshToken, &sealed).is_err());
    assert!(
        data_key
            .open(
                &StreamId::Connection(ConnectionId::new_v7()),
                Field::AccessToken,
                &sealed
            )
            .is_err()
    );
    assert!(
        DataKey::generate()
            .open(&owner, Field::AccessToken, &sealed)
            .is_err()
    );

    let old = sealer();
    let wrapped = old.wrap_data_key(&owner, &data_key).unwrap();
    assert_eq!(
        Sealer::key_id_of(&wrapped).as_deref(),
        Some(old.active_key_id())
    );
    let rotated = Sealer::new(
        Keyring::from_keys(vec![
            MasterKey::from_bytes([9; 32]),
            MasterKey::from_bytes([7; 32]),
        ])
        .unwrap(),
    );
    let rewrapped = rotated
        .wrap_data_key(&owner, &rotated.unwrap_data_key(&owner, &wrapped).unwrap())
        .unwrap();
    let only_new = Sealer::new(Keyring::single(MasterKey::from_bytes([9; 32])));
    let unwrapped = only_new.unwrap_data_key(&owner, &rewrapped).unwrap();
    assert_eq!(
        unwrapped
            .open(&owner, Field::AccessToken, &sealed)
            .unwrap()
            .expose_secret(),
        CANARY,
        "what the data key sealed opens after the master key changed"
    );
    assert!(only_new.unwrap_data_key(&owner, &wrapped).is_err());
    assert!(!format!("{data_key:?}").contains('7'));
}

#[test]
fn hmac_signatures_verify_in_hex_and_base64_and_fail_when_anything_changes() {
    let hex_sig = hmac_sha256_hex(b"secret", b"body");
    assert!(verify_hmac_sha256(b"secret", b"body", &hex_sig, false));
    assert!(!verify_hmac_sha256(b"secret", b"bodY", &hex_sig, false));
    assert!(!verify_hmac_sha256(b"other", b"body", &hex_sig, false));
    assert!(!verify_hmac_sha256(b"secret", b"body", "zz", false));
    let bytes: Vec<u8> = (0..hex_sig.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex_sig[i..i + 2], 16).unwrap())
        .collect();
    assert!(verify_hmac_sha256(
        b"secret",
        b"body",
        &STANDARD.encode(bytes),
        true
    ));
}

#[test]
fn fingerprints_tell_secrets_apart_without_revealing_them() {
    let sealer = sealer();
    let a = sealer.fingerprint(&secret());
    assert_eq!(a, sealer.fingerprint(&secret()));
    assert_ne!(a, sealer.fingerprint(&SecretString::from("other")));
    assert!(a.starts_with("hmac-sha256:") && !a.contains(CANARY));
    let unkeyed = hex(&Sha256::digest(CANARY.as_bytes())[..8]);
    assert!(!a.ends_with(&unkeyed));
}

/// The Standard Webhooks specification's published vector: the key is the base64 after `whsec_`,
/// the message `{id}.{timestamp}.{body}`, the signature base64.
#[test]
fn the_standard_webhooks_vector_verifies() {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .unwrap();
    let message = br#"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}"#;
    let signature = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_owned();
    assert!(hmac_sha256_matches_any(
        &key,
        message,
        std::slice::from_ref(&signature),
        true
    ));
    assert!(!hmac_sha256_matches_any(
        &key,
        &message[1..],
        &[signature],
        true
    ));
}

/// RFC 2202's HMAC-SHA1 test case 2, in hex and base64.
#[test]
fn hmac_sha1_checks_rfc_2202s_vector() {
    let message = b"what do ya want for nothing?";
    let hex = "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79".to_owned();
    assert!(hmac_sha1_matches_any(
        b"Jefe",
        message,
        std::slice::from_ref(&hex),
        false
    ));
    assert!(!hmac_sha1_matches_any(b"Jefe", b"other", &[hex], false));
    let base64 = "7/zfauXrL6LSdBbV8YTfnCWafHk=".to_owned();
    assert!(hmac_sha1_matches_any(b"Jefe", message, &[base64], true));
}

/// RFC 8032's Ed25519 test 1 (an empty message), and a flipped bit.
#[test]
fn ed25519_checks_rfc_8032s_vector() {
    let public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let signature = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
    assert!(ed25519_verifies(public, b"", signature));
    assert!(!ed25519_verifies(public, b"x", signature));
    assert!(!ed25519_verifies("zz", b"", signature));
}
