//! The standard flows against a real authorization server, panva's `oidc-provider`
//! (tests/oidc-provider), one module per family: clients without a shared secret, authorizations
//! (PAR, MCP servers), the device flow, bound and derived tokens (DPoP, token exchange), and the
//! new secrets' leak checks. Each flow ends in a token the provider's own introspection calls
//! active.

pub(super) use std::time::Duration;

pub(super) use latchkey_proto::v1::get_token_response::Placement;
pub(super) use latchkey_proto::v1::{
    ClientAuthMethod, ConnectClientCredentialsRequest, ConnectMcpServerRequest,
    ConnectTokenExchangeRequest, ConnectionStatus, CreateIntegrationRequest, DpopRequest,
    GetIntegrationRequest, GetTokenRequest, GrantType, IntegrationConfig, ListConnectionsRequest,
    RefreshTokenRequest, RevokeConnectionRequest, StartAuthorizationRequest,
    StartDeviceAuthorizationRequest,
};
pub(super) use serde_json::json;
pub(super) use tonic::Code;
pub(super) use tonic_types::StatusExt;

pub(super) use crate::helpers::{
    LOOPBACK, Mode, Server, connection, contains_bytes, history, http_get, pg_dump, wait_until,
};
pub(super) use crate::oidc_provider::OidcProvider;

mod authorization;
mod client_auth;
mod device;
mod secrets;
mod tokens;

const EC_KEY: &str = include_str!("../fixtures/service-account-ec.pem");
const RSA_KEY: &str = include_str!("../fixtures/service-account-rsa.pem");

/// A line from the middle of a PEM key: what a leak of the key would show.
fn key_line(pem: &str) -> &str {
    pem.lines().nth(2).unwrap_or_default()
}

fn private_key_jwt_integration(provider: &OidcProvider, client_id: &str) -> IntegrationConfig {
    IntegrationConfig {
        name: format!("Okta-like {}", uuid::Uuid::new_v4().simple()),
        grant_type: GrantType::ClientCredentials as i32,
        token_url: provider.url("/token"),
        revocation_url: provider.url("/token/revocation"),
        issuer: provider.issuer.clone(),
        client_id: client_id.to_owned(),
        client_auth: ClientAuthMethod::PrivateKeyJwt as i32,
        client_assertion_algorithm: "ES256".to_owned(),
        scopes: vec!["read".to_owned()],
        ..Default::default()
    }
}

fn device_integration(provider: &OidcProvider) -> IntegrationConfig {
    IntegrationConfig {
        name: format!("TV app {}", uuid::Uuid::new_v4().simple()),
        grant_type: GrantType::DeviceCode as i32,
        device_authorization_url: provider.url("/device/auth"),
        token_url: provider.url("/token"),
        revocation_url: provider.url("/token/revocation"),
        client_id: "tv".to_owned(),
        scopes: vec!["openid".to_owned(), "offline_access".to_owned()],
        ..Default::default()
    }
}

fn device_client() -> serde_json::Value {
    json!({
        "client_id": "tv",
        "client_secret": "tv-secret",
        "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
        "response_types": [],
        "redirect_uris": [],
    })
}

/// Waits until the connection is no longer pending, and returns it.
async fn settled(server: &Server, id: &str) -> latchkey_proto::v1::Connection {
    wait_until(
        "the device authorization settles",
        Duration::from_secs(30),
        || async { connection(server, id).await.status != ConnectionStatus::Pending as i32 },
    )
    .await;
    connection(server, id).await
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate (`CN=reports-bot`) it
/// issued, and a self-signed client certificate: (ca, server, client, self-signed), each
/// certificate with its key, PEM.
fn mtls_pki() -> (String, (String, String), String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    // A subject of its own: one equal to the CA's reads as self-signed to OpenSSL (Node).
    let mut server_params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let mut server_name = DistinguishedName::new();
    server_name.push(DnType::CommonName, "127.0.0.1");
    server_params.distinguished_name = server_name;
    let server = server_params.signed_by(&server_key, &issuer).unwrap().pem();
    let named = |cn: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, cn);
        params.distinguished_name = name;
        params
    };
    let client_key = KeyPair::generate().unwrap();
    let client = named("reports-bot")
        .signed_by(&client_key, &issuer)
        .unwrap()
        .pem();
    let own_key = KeyPair::generate().unwrap();
    let own = named("kiosk").self_signed(&own_key).unwrap().pem();
    (
        ca,
        (server, server_key.serialize_pem()),
        format!("{client}{}", client_key.serialize_pem()),
        format!("{own}{}", own_key.serialize_pem()),
    )
}
