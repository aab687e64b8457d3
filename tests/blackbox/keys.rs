//! Envelope encryption end to end: crypto-shredding on delete, and master-key rotation under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use latchkey_crypto::{Field, Keyring, MasterKey, Sealer};
use latchkey_domain::{ConnectionId, Sealed, StreamId};
use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1::{
    ConnectClientCredentialsRequest, CreateIntegrationRequest, DeleteConnectionRequest,
    GetHistoryRequest, GetTokenRequest, GrantType, IntegrationConfig, RefreshTokenRequest,
    get_history_request,
};
use latchkey_store::{DataKeys, EventLog, EventStore, SqliteStore};
use secrecy::SecretString;
use tonic::Code;

use crate::helpers::{Mode, Server, command};

const LOOPBACK: (&str, &str) = ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true");

async fn cc_connection(server: &Server, provider: &FakeProvider) -> (String, String) {
    let integration_id = server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: format!("Fake {}", uuid::Uuid::new_v4().simple()),
                grant_type: GrantType::ClientCredentials as i32,
                token_url: provider.url("/token"),
                revocation_url: provider.url("/revoke"),
                client_id: provider.config().client_id.clone(),
                ..Default::default()
            }),
            client_secret: provider.config().client_secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let connection = server
        .connections()
        .await
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id: integration_id.clone(),
            tenant: "acme".to_owned(),
            client_id: provider.config().client_id.clone(),
            client_secret: provider.config().client_secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (integration_id, connection.connection_id)
}

/// Every sealed value in a JSON payload: strings that decode to Latchkey's ciphertext formats.
fn ciphertexts(value: &serde_json::Value, out: &mut Vec<(String, Sealed)>) {
    use base64::Engine as _;
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if let serde_json::Value::String(text) = v
                    && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text)
                    && bytes.len() > 28
                    && matches!(bytes[0], 1 | 2)
                {
                    out.push((key.clone(), Sealed::from_bytes(bytes)));
                } else {
                    ciphertexts(v, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| ciphertexts(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_connection_destroys_every_secret_it_held_and_keeps_its_history() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let (integration_id, doomed) = cc_connection(&server, &provider).await;
    let (_, survivor) = cc_connection(&server, &provider).await;
    let mut connections = server.connections().await;
    let token = connections
        .get_token(GetTokenRequest {
            connection_id: doomed.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(provider.accepts_access_token(&token.access_token));

    connections
        .delete_connection(DeleteConnectionRequest {
            connection_id: doomed.clone(),
        })
        .await
        .unwrap();
    // Revoked at the provider first: once the key is gone it never could be.
    assert_eq!(provider.revocations(), 1);
    assert!(!provider.accepts_access_token(&token.access_token));
    let gone = connections
        .get_token(GetTokenRequest {
            connection_id: doomed.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    // Deleting again is harmless (and revokes nothing twice).
    connections
        .delete_connection(DeleteConnectionRequest {
            connection_id: doomed.clone(),
        })
        .await
        .unwrap();
    assert_eq!(provider.revocations(), 1);
    let mut history = server
        .audit()
        .await
        .get_history(GetHistoryRequest {
            stream: Some(get_history_request::Stream::ConnectionId(doomed.clone())),
            from_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let mut types = Vec::new();
    while let Some(event) = history.message().await.unwrap() {
        types.push(event.r#type);
    }
    assert_eq!(
        types,
        ["connection_created", "authorized", "revoked", "deleted"],
        "the history stays, the provider's answer in it"
    );
    // Others are untouched.
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: survivor.clone(),
        })
        .await
        .unwrap();
    server.stop().await;

    // With every master key there is, nothing the deleted connection held opens any more.
    let data = mode.data_dir().unwrap();
    let key_text = std::fs::read_to_string(data.join("master.key")).unwrap();
    let master = MasterKey::from_base64(&SecretString::from(key_text.trim().to_owned())).unwrap();
    let sealer = Sealer::new(Keyring::single(master));
    let store = SqliteStore::open(&data.join("latchkey.db")).await.unwrap();
    let owner = StreamId::Connection(doomed.parse::<ConnectionId>().unwrap());
    assert!(
        store.data_key(&owner.to_string()).await.unwrap().is_none(),
        "the data key is destroyed"
    );
    let mut sealed = Vec::new();
    for event in store.read_stream(owner, 1, 100).await.unwrap() {
        ciphertexts(&serde_json::from_str(&event.payload).unwrap(), &mut sealed);
    }
    assert!(
        sealed.len() >= 2,
        "the access token and the connection's client secret: {sealed:?}"
    );
    for (field_name, ciphertext) in &sealed {
        for field in [
            Field::AccessToken,
            Field::RefreshToken,
            Field::ClientSecret,
            Field::Password,
            Field::DataKey,
        ] {
            assert!(
                sealer.open(&owner, field, ciphertext).is_err(),
                "{field_name} opened with the master key"
            );
        }
    }
    assert!(
        store
            .data_key(&format!("integration-{integration_id}"))
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_master_key_under_load_fails_no_call_and_the_old_key_can_go_ten_seconds_later()
{
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let (integration_id, connection_id) = cc_connection(&server, &provider).await;
    let data = mode.data_dir().unwrap();
    let old_key = std::fs::read_to_string(data.join("master.key")).unwrap();
    let old_id = MasterKey::from_base64(&SecretString::from(old_key.trim().to_owned()))
        .unwrap()
        .id()
        .to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let (calls, failures) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let client = server.connections().await;
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (mut client, stop, calls, failures) = (
                client.clone(),
                stop.clone(),
                calls.clone(),
                failures.clone(),
            );
            let connection_id = connection_id.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let result = client
                        .get_token(GetTokenRequest {
                            connection_id: connection_id.clone(),
                            min_ttl: None,
                            dpop: None,
                        })
                        .await;
                    calls.fetch_add(1, Ordering::Relaxed);
                    if result.is_err() {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    let keys = |args: &[&str]| {
        let mut all = vec!["keys"];
        all.extend_from_slice(args);
        let env = mode.env();
        let cwd = data.clone();
        let args: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            command(&refs, &env, &cwd).output().await.unwrap()
        }
    };
    let rotated = keys(&["rotate"]).await;
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let out = String::from_utf8_lossy(&rotated.stdout).to_string();
    assert!(out.contains("re-wrapped 2 data keys"), "{out}");
    let too_soon = keys(&["drop", &old_id]).await;
    assert!(
        !too_soon.status.success(),
        "dropping waits until servers have the new key"
    );
    tokio::time::sleep(Duration::from_secs(11)).await;
    let dropped = keys(&["drop", &old_id]).await;
    assert!(
        dropped.status.success(),
        "{}",
        String::from_utf8_lossy(&dropped.stderr)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    assert!(calls.load(Ordering::Relaxed) > 100, "the load ran");
    assert_eq!(failures.load(Ordering::Relaxed), 0, "no call failed");
    let key_file = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert_eq!(key_file.lines().count(), 1);
    assert!(
        !key_file.contains(old_key.trim()),
        "the old master key is gone"
    );
    server.stop().await;

    // A fresh process, with only the new key: every remaining secret still opens.
    let server = Server::start_with(&mode, &[LOOPBACK]).await;
    let mut connections = server.connections().await;
    connections
        .get_token(GetTokenRequest {
            connection_id: connection_id.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap();
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: connection_id.clone(),
        })
        .await
        .expect("the connection's own client secret opens");
    connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .expect("the integration's client secret opens");

    // The rotation and the drop are in the log, naming keys by id only.
    let mut history = server
        .audit()
        .await
        .get_history(GetHistoryRequest {
            stream: Some(get_history_request::Stream::SystemStream("keys".to_owned())),
            from_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    while let Some(event) = history.message().await.unwrap() {
        assert!(!event.payload_json.contains(old_key.trim()));
        seen.push((event.r#type, event.payload_json));
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, "master_key_rotated");
    assert!(seen[0].1.contains(&old_id) && seen[0].1.contains("\"rewrapped\":2"));
    assert_eq!(seen[1].0, "master_key_dropped");
    server.stop().await;
    mode.cleanup().await;
}
