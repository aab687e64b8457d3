//! Caller authentication and tenant isolation, through the real binary.

use std::time::Duration;

use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1::audit_service_client::AuditServiceClient;
use latchkey_proto::v1::connection_service_client::ConnectionServiceClient;
use latchkey_proto::v1::integration_service_client::IntegrationServiceClient;
use latchkey_proto::v1::{
    ConnectClientCredentialsRequest, CreateIntegrationRequest, Event, GetConnectionRequest,
    GetHistoryRequest, GetTokenRequest, GrantType, IntegrationConfig, RevokeConnectionRequest,
    get_history_request,
};
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::helpers::{Mode, Server, cc_integration, command};
use crate::http_json::{Api, Over};

type Auth = Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send>;

fn bearer(key: Option<String>) -> Auth {
    Box::new(move |mut request: tonic::Request<()>| {
        if let Some(key) = &key {
            let value: MetadataValue<_> = format!("Bearer {key}").parse().unwrap();
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    })
}

pub(crate) struct Clients {
    pub(crate) integrations: IntegrationServiceClient<InterceptedService<Channel, Auth>>,
    pub(crate) connections: ConnectionServiceClient<InterceptedService<Channel, Auth>>,
    pub(crate) audit: AuditServiceClient<InterceptedService<Channel, Auth>>,
}

pub(crate) async fn clients(server: &Server, key: Option<&str>) -> Clients {
    let channel = server.channel().await;
    let key = key.map(str::to_owned);
    Clients {
        integrations: IntegrationServiceClient::with_interceptor(
            channel.clone(),
            bearer(key.clone()),
        ),
        connections: ConnectionServiceClient::with_interceptor(
            channel.clone(),
            bearer(key.clone()),
        ),
        audit: AuditServiceClient::with_interceptor(channel, bearer(key)),
    }
}

pub(crate) async fn apikey(mode: &Mode, args: &[&str]) -> String {
    let dir = latchkey_store::testing::TempDir::create();
    let mut all = vec!["apikeys"];
    all.extend_from_slice(args);
    let mut env = mode.env();
    env.push(("USER".to_owned(), "alice".to_owned()));
    let output = command(&all, &env, &dir.path).output().await.unwrap();
    dir.remove();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_keys_see_only_their_tenant_and_bad_keys_are_unauthenticated() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::postgres().await;
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_AUTH", "api-keys"),
            ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
        ],
    )
    .await;
    let admin = apikey(&mode, &["create", "--name", "platform"]).await;
    assert!(admin.starts_with("lk_"));
    let mut as_admin = clients(&server, Some(&admin)).await;
    let integration_id = as_admin
        .integrations
        .create_integration(cc_integration(&provider, "Fake"))
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    // The same matrix over gRPC and over HTTP/JSON, each with keys and tenants of its own.
    let mut keys = vec![admin];
    for over in [Over::Grpc, Over::Http] {
        keys.extend(tenant_matrix(&mode, &server, &integration_id, over).await);
    }
    let (_, log) = server.stop().await;
    for key in &keys {
        assert!(!log.contains(key.as_str()), "a key leaked into the logs");
    }
    mode.cleanup().await;
}

/// Two tenants' keys over `over`: each sees only its own, a missing key, a forged one and a
/// revoked one are unauthenticated, every read is in the access log. Returns the keys made.
async fn tenant_matrix(
    mode: &Mode,
    server: &Server,
    integration_id: &str,
    over: Over,
) -> Vec<String> {
    let (acme, globex) = match over {
        Over::Grpc => ("acme", "globex"),
        Over::Http => ("acme-http", "globex-http"),
    };
    let key_a = apikey(mode, &["create", "--name", "acme worker", "--tenant", acme]).await;
    let key_b = apikey(
        mode,
        &["create", "--name", "globex worker", "--tenant", globex],
    )
    .await;
    let mut as_a = Api::new(server, Some(&key_a), over).await;
    let mut as_b = Api::new(server, Some(&key_b), over).await;
    let a_conn = as_a.connect(integration_id, acme).await.unwrap();
    let b = as_b.connect(integration_id, globex).await.unwrap();

    // Tenant A sees its own connection…
    as_a.get_token(&a_conn).await.unwrap();
    assert_eq!(as_a.get_connection(&a_conn).await.unwrap(), acme);
    // …and tenant B's exactly as if it did not exist.
    let not_found = [
        as_a.get_token(&b).await.unwrap_err(),
        as_a.get_connection(&b).await.unwrap_err(),
        as_a.history_actors(&b).await.unwrap_err(),
        as_a.revoke(&b).await.unwrap_err(),
    ];
    let missing_id = uuid::Uuid::now_v7().to_string();
    let missing = as_a.get_connection(&missing_id).await.unwrap_err();
    for status in not_found {
        assert_eq!(status.code(), Code::NotFound, "{over:?}: {status:?}");
        assert_eq!(
            status.message().replace(&b, "<id>"),
            missing.message().replace(&missing_id, "<id>"),
            "{over:?}: indistinguishable from a missing connection"
        );
    }
    assert_eq!(as_a.list_tenants().await.unwrap(), [acme]);
    let other_tenant = as_a.connect(integration_id, globex).await.unwrap_err();
    assert_eq!(other_tenant.code(), Code::PermissionDenied, "{over:?}");
    let not_admin = as_a.create_empty_integration().await.unwrap_err();
    assert_eq!(not_admin.code(), Code::PermissionDenied, "{over:?}");

    // The key is the actor of what it causes.
    let key_a_id = key_a.split('_').nth(1).unwrap();
    let actor = format!("key:{key_a_id}");
    assert_eq!(as_a.history_actors(&a_conn).await.unwrap()[0], actor);

    // Every token read is audited: who, which connection, which minute.
    for _ in 0..4 {
        as_a.get_token(&a_conn).await.unwrap();
    }
    // Counts are written every two seconds: wait (at most ten) for all five.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let reads = loop {
        let reads = as_a.reads(&a_conn, &actor).await.unwrap();
        if reads >= 5 || std::time::Instant::now() > deadline {
            break reads;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reads, 5, "{over:?}");
    let hidden = as_b.reads(&a_conn, &actor).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound, "{over:?}");

    // No key, a forged key, a revoked key: UNAUTHENTICATED.
    let mut anonymous = Api::new(server, None, over).await;
    let none = anonymous.list_tenants().await.unwrap_err();
    assert_eq!(none.code(), Code::Unauthenticated, "{over:?}");
    let forged = format!("lk_{key_a_id}_forgedsecret");
    let mut as_forger = Api::new(server, Some(&forged), over).await;
    let forged = as_forger.list_tenants().await.unwrap_err();
    assert_eq!(forged.code(), Code::Unauthenticated, "{over:?}");
    let revoked = apikey(mode, &["revoke", key_a_id]).await;
    assert!(revoked.contains(key_a_id));
    // Replicas may hold a key they checked for a second: the revocation shows within that.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while as_a.list_tenants().await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "{over:?}: the revoked key still admitted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = as_a.list_tenants().await.unwrap_err();
    assert_eq!(after.code(), Code::Unauthenticated, "{over:?}");
    let list = apikey(mode, &["list"]).await;
    assert!(list.contains("revoked") && !list.contains(key_a.splitn(3, '_').nth(2).unwrap()));
    vec![key_a, key_b]
}

#[tokio::test]
async fn serving_on_all_interfaces_without_authentication_refuses_to_start() {
    let dir = latchkey_store::testing::TempDir::create();
    let env = vec![
        (
            "LATCHKEY_DATA_DIR".to_owned(),
            dir.path.join("data").display().to_string(),
        ),
        ("LATCHKEY_GRPC_ADDR".to_owned(), "0.0.0.0:0".to_owned()),
        ("LATCHKEY_HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
    ];
    let output = command(&["serve"], &env, &dir.path).output().await.unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not a loopback address and LATCHKEY_AUTH is none"),
        "{stderr}"
    );
    assert!(!dir.path.join("data").exists(), "nothing was started");
    dir.remove();
}

/// The `google.rpc.ErrorInfo` reason and the `RetryInfo` delay of a refusal.
fn reason_and_retry(status: &tonic::Status) -> (String, Option<std::time::Duration>) {
    use tonic_types::StatusExt;
    let details = status.get_error_details();
    (
        details
            .error_info()
            .map(|i| i.reason.clone())
            .unwrap_or_default(),
        details.retry_info().and_then(|r| r.retry_delay),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_over_its_rate_and_an_address_guessing_keys_get_resource_exhausted() {
    use latchkey_proto::v1::ListIntegrationsRequest;
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[("LATCHKEY_CALLER_RATE", "5")]).await;
    let mut integrations = server.integrations().await;
    let mut refused = None;
    for _ in 0..50 {
        if let Err(status) = integrations
            .list_integrations(ListIntegrationsRequest::default())
            .await
        {
            refused = Some(status);
            break;
        }
    }
    let refused = refused.expect("the sixth call in a second or so is over the rate");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(refused.message().contains("LATCHKEY_CALLER_RATE"));
    let (reason, retry) = reason_and_retry(&refused);
    assert_eq!(reason, "RATE_LIMITED");
    assert!(
        retry.is_some_and(|d| d <= std::time::Duration::from_secs(1)),
        "{retry:?}"
    );
    server.stop().await;

    // Guesses at one key's secret: each costs a lookup until the address has failed 20 times
    // with that key id; then it is refused without one (other keys from the address are not:
    // holes::bad_keys_from_one_address_never_lock_out_a_valid_key).
    let server = Server::start_with(&mode, &[("LATCHKEY_AUTH", "api-keys")]).await;
    let mut codes = Vec::new();
    for i in 0..40 {
        let key = format!("lk_{}_{i:0>43}", "0".repeat(12));
        let mut as_guess = clients(&server, Some(&key)).await;
        let status = as_guess
            .integrations
            .list_integrations(ListIntegrationsRequest::default())
            .await
            .unwrap_err();
        codes.push(status.code());
    }
    assert_eq!(codes[0], Code::Unauthenticated);
    let first_refusal = codes
        .iter()
        .position(|c| *c == Code::ResourceExhausted)
        .expect("refused unread after the burst");
    assert!((15..=25).contains(&first_refusal), "{codes:?}");
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_key_reads_but_cannot_revoke_and_an_expired_key_is_refused() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_AUTH", "api-keys"),
            ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
        ],
    )
    .await;
    let admin = apikey(&mode, &["create", "--name", "platform"]).await;
    let worker = apikey(
        &mode,
        &[
            "create", "--name", "worker", "--tenant", "acme", "--role", "reader",
        ],
    )
    .await;
    let manager = apikey(&mode, &["create", "--name", "ops", "--tenant", "acme"]).await;
    let expired = apikey(
        &mode,
        &[
            "create",
            "--name",
            "old",
            "--tenant",
            "acme",
            "--expires-in",
            "0",
        ],
    )
    .await;
    let mut as_admin = clients(&server, Some(&admin)).await;
    let integration_id = as_admin
        .integrations
        .create_integration(cc_integration(&provider, "Roles"))
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut as_worker = clients(&server, Some(&worker)).await;
    let refused = as_worker
        .connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id: integration_id.clone(),
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("reader"),
        "{}",
        refused.message()
    );
    let mut as_manager = clients(&server, Some(&manager)).await;
    let connection_id = as_manager
        .connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connection_id;
    // The reader gets the token and reads, and may not revoke.
    as_worker
        .connections
        .get_token(GetTokenRequest {
            connection_id: connection_id.clone(),
            min_ttl: None,
            dpop: None,
        })
        .await
        .unwrap();
    let revoke = RevokeConnectionRequest {
        connection_id: connection_id.clone(),
        reason: "no".to_owned(),
    };
    let refused = as_worker
        .connections
        .revoke_connection(revoke.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    // A manager of one tenant still cannot create integrations (that needs every tenant).
    let refused = as_manager
        .integrations
        .create_integration(CreateIntegrationRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    as_manager
        .connections
        .revoke_connection(revoke)
        .await
        .unwrap();
    // An expired key is refused, saying so.
    let mut as_expired = clients(&server, Some(&expired)).await;
    let refused = as_expired
        .connections
        .get_connection(GetConnectionRequest {
            connection_id,
            as_of: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert!(
        refused.message().contains("expired"),
        "{}",
        refused.message()
    );
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_change_a_pinned_audience_nor_ask_a_scope_outside_the_allowed_ones() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_AUTH", "api-keys"),
            ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
        ],
    )
    .await;
    let admin = apikey(&mode, &["create", "--name", "platform"]).await;
    let tenant = apikey(&mode, &["create", "--name", "acme", "--tenant", "acme"]).await;
    let mut as_admin = clients(&server, Some(&admin)).await;
    let config = || IntegrationConfig {
        name: format!("Pinned {}", uuid::Uuid::new_v4().simple()),
        grant_type: GrantType::ClientCredentials as i32,
        token_url: provider.url("/token"),
        client_id: provider.config().client_id.clone(),
        scopes: vec!["read".to_owned()],
        allowed_scopes: vec!["read".to_owned(), "write".to_owned()],
        token_params: [("audience".to_owned(), "https://api.example".to_owned())].into(),
        ..Default::default()
    };
    // The integration's own scopes must lie within what it allows.
    let refused = as_admin
        .integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                scopes: vec!["admin".to_owned()],
                ..config()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("allowed_scopes"),
        "{}",
        refused.message()
    );
    let integration_id = as_admin
        .integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(config()),
            client_secret: provider.config().client_secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let request = |params: &[(&str, &str)], scopes: &[&str]| ConnectClientCredentialsRequest {
        integration_id: integration_id.clone(),
        tenant: "acme".to_owned(),
        extra_params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    };
    let mut as_tenant = clients(&server, Some(&tenant)).await;
    let refused = as_tenant
        .connections
        .connect_client_credentials(request(&[("audience", "https://attacker.example")], &[]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("extra_params.audience"),
        "{}",
        refused.message()
    );
    let refused = as_tenant
        .connections
        .connect_client_credentials(request(&[], &["admin"]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("allowed_scopes"),
        "{}",
        refused.message()
    );
    // What the integration does not pin, and scopes it allows, a tenant may ask for.
    as_tenant
        .connections
        .connect_client_credentials(request(&[("resource", "reports")], &["write"]))
        .await
        .unwrap();
    let audience = provider.token_calls().last().and_then(|call| {
        call.params
            .iter()
            .find(|(k, _)| k == "audience")
            .map(|(_, v)| v.clone())
    });
    assert_eq!(audience.as_deref(), Some("https://api.example"), "pinned");
    // The platform itself may.
    as_admin
        .connections
        .connect_client_credentials(request(&[("audience", "https://other.example")], &[]))
        .await
        .unwrap();
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_own_integration_is_invisible_to_other_tenants_and_shared_ones_serve_all() {
    use latchkey_proto::v1::{
        GetIntegrationRequest, ListIntegrationsRequest, UpdateIntegrationRequest,
    };
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_AUTH", "api-keys"),
            ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
        ],
    )
    .await;
    let platform = apikey(&mode, &["create", "--name", "platform"]).await;
    let key_a = apikey(
        &mode,
        &[
            "create", "--name", "a", "--tenant", "acme", "--role", "admin",
        ],
    )
    .await;
    let key_b = apikey(
        &mode,
        &[
            "create", "--name", "b", "--tenant", "globex", "--role", "admin",
        ],
    )
    .await;
    let config = |name: &str| IntegrationConfig {
        name: name.to_owned(),
        grant_type: GrantType::ClientCredentials as i32,
        token_url: provider.url("/token"),
        client_id: provider.config().client_id.clone(),
        ..Default::default()
    };
    let create = |name: &str, owner: &str| CreateIntegrationRequest {
        config: Some(config(name)),
        client_secret: provider.config().client_secret.clone(),
        owner_tenant: owner.to_owned(),
        ..Default::default()
    };
    let mut as_platform = clients(&server, Some(&platform)).await;
    let mut as_a = clients(&server, Some(&key_a)).await;
    let mut as_b = clients(&server, Some(&key_b)).await;
    let shared = as_platform
        .integrations
        .create_integration(create("Shared", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shared.owner_tenant, "");
    // Acme's own OAuth app: its key makes it, and it is acme's whatever the request says.
    let own = as_a
        .integrations
        .create_integration(create("Acme's own", ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.owner_tenant, "acme");
    let refused = as_a
        .integrations
        .create_integration(create("For globex", "globex"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    let names = |response: latchkey_proto::v1::ListIntegrationsResponse| {
        let mut names: Vec<String> = response
            .integrations
            .into_iter()
            .map(|i| i.config.unwrap().name)
            .collect();
        names.sort();
        names
    };
    let list = ListIntegrationsRequest::default;
    assert_eq!(
        names(
            as_b.integrations
                .list_integrations(list())
                .await
                .unwrap()
                .into_inner()
        ),
        ["Shared"]
    );
    assert_eq!(
        names(
            as_a.integrations
                .list_integrations(list())
                .await
                .unwrap()
                .into_inner()
        ),
        ["Acme's own", "Shared"]
    );
    assert_eq!(
        names(
            as_platform
                .integrations
                .list_integrations(list())
                .await
                .unwrap()
                .into_inner()
        ),
        ["Acme's own", "Shared"]
    );
    let get = |id: &str| GetIntegrationRequest {
        integration_id: id.to_owned(),
    };
    let hidden = as_b
        .integrations
        .get_integration(get(&own.integration_id))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound, "as if it did not exist");
    let connect = |integration: &str, tenant: &str| ConnectClientCredentialsRequest {
        integration_id: integration.to_owned(),
        tenant: tenant.to_owned(),
        ..Default::default()
    };
    let hidden = as_b
        .connections
        .connect_client_credentials(connect(&own.integration_id, "globex"))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    as_a.connections
        .connect_client_credentials(connect(&own.integration_id, "acme"))
        .await
        .unwrap();
    as_b.connections
        .connect_client_credentials(connect(&shared.integration_id, "globex"))
        .await
        .unwrap();
    // A tenant changes its own integration, not the shared one nor another's.
    let rename =
        |integration: &latchkey_proto::v1::Integration, name: &str| UpdateIntegrationRequest {
            integration_id: integration.integration_id.clone(),
            config: Some(config(name)),
            ..Default::default()
        };
    as_a.integrations
        .update_integration(rename(&own, "Acme's app"))
        .await
        .unwrap();
    let refused = as_a
        .integrations
        .update_integration(rename(&shared, "Mine now"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let hidden = as_b
        .integrations
        .update_integration(rename(&own, "Globex's now"))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    server.stop().await;
    mode.cleanup().await;
}

/// The events of a system stream, read with `GetHistory` by `reader`.
/// The reads of `connection_id` by `actor` that `tokens_read` events count.
fn reads_of(events: &[Event], connection_id: &str, actor: &str) -> u64 {
    let mut reads = 0;
    for event in events {
        let payload: serde_json::Value = serde_json::from_str(&event.payload_json).unwrap();
        for r in payload["reads"].as_array().into_iter().flatten() {
            if r["connection_id"] == connection_id && r["actor"] == actor {
                reads += r["reads"].as_u64().unwrap_or(0);
            }
        }
    }
    reads
}

async fn system_history(reader: &mut Clients, stream: &str) -> Result<Vec<Event>, tonic::Status> {
    let mut events = reader
        .audit
        .get_history(GetHistoryRequest {
            stream: Some(get_history_request::Stream::SystemStream(stream.to_owned())),
            from_version: 0,
        })
        .await?
        .into_inner();
    let mut all = Vec::new();
    while let Some(event) = events.message().await? {
        all.push(event);
    }
    Ok(all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_lifecycle_and_token_reads_are_in_the_log_and_survive_a_kill_9() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::postgres().await;
    let settings = [
        ("LATCHKEY_AUTH", "api-keys"),
        ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
    ];
    let server = Server::start_with(&mode, &settings).await;
    let admin = apikey(&mode, &["create", "--name", "platform"]).await;
    let worker = apikey(
        &mode,
        &[
            "create", "--name", "worker", "--tenant", "acme", "--role", "reader",
        ],
    )
    .await;
    let manager = apikey(&mode, &["create", "--name", "ops", "--tenant", "acme"]).await;
    let manager_id = manager.split('_').nth(1).unwrap();
    apikey(&mode, &["revoke", manager_id]).await;

    let mut as_admin = clients(&server, Some(&admin)).await;
    let integration_id = as_admin
        .integrations
        .create_integration(cc_integration(&provider, "Fake"))
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let connection_id = as_admin
        .connections
        .connect_client_credentials(ConnectClientCredentialsRequest {
            integration_id,
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connection_id;
    let mut as_worker = clients(&server, Some(&worker)).await;
    for _ in 0..5 {
        as_worker
            .connections
            .get_token(GetTokenRequest {
                connection_id: connection_id.clone(),
                min_ttl: None,
                dpop: None,
            })
            .await
            .unwrap();
    }
    // The counts are written every two seconds: once they are in the log, the process dies
    // without a shutdown.
    let worker_id = worker.split('_').nth(1).unwrap();
    let actor = format!("key:{worker_id}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        // NOT_FOUND until the first count is written.
        let access = system_history(&mut as_admin, "access")
            .await
            .unwrap_or_default();
        if reads_of(&access, &connection_id, &actor) == 5 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "reads not recorded: {access:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill().await;

    let server = Server::start_with(&mode, &settings).await;
    let mut as_admin = clients(&server, Some(&admin)).await;
    let access = system_history(&mut as_admin, "access").await.unwrap();
    for event in &access {
        assert_eq!(event.stream_id, "system-access");
        assert_eq!(event.r#type, "tokens_read");
        assert!(event.tenant.is_empty());
    }
    assert_eq!(
        reads_of(&access, &connection_id, &actor),
        5,
        "every read before the kill is in the log: {access:?}"
    );

    let keys = system_history(&mut as_admin, "keys").await.unwrap();
    let seen: Vec<(&str, &str)> = keys
        .iter()
        .map(|e| (e.r#type.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("api_key_created", "operator:alice"),
            ("api_key_created", "operator:alice"),
            ("api_key_created", "operator:alice"),
            ("api_key_revoked", "operator:alice"),
        ]
    );
    let created: serde_json::Value = serde_json::from_str(&keys[1].payload_json).unwrap();
    assert_eq!(created["role"], "reader");
    assert_eq!(created["tenant"], "acme");
    for event in &keys {
        let secret = worker.splitn(3, '_').nth(2).unwrap();
        assert!(
            !event.payload_json.contains(secret),
            "no key secret in the log"
        );
        assert!(!event.payload_json.contains("secret_hash"));
    }

    // Only admins read the system streams; a name that is not one is refused by name.
    let mut as_worker = clients(&server, Some(&worker)).await;
    let denied = system_history(&mut as_worker, "keys").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let unknown = system_history(&mut as_admin, "secrets").await.unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(unknown.message().contains("system_stream"), "{unknown:?}");

    let (status, output) = server.stop().await;
    assert!(status.success(), "{output}");
    mode.cleanup().await;
}
