//! TLS on the gRPC listener, and client certificates (mTLS) as an alternative to API keys.

use std::path::Path;

use latchkey_proto::v1::ListConnectionsRequest;
use latchkey_proto::v1::connection_service_client::ConnectionServiceClient;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::helpers::{Mode, Server};

struct Pki {
    ca: String,
    server: (String, String),
    /// `urn:latchkey:all:admin`.
    client: (String, String),
    /// `urn:latchkey:tenant:acme:reader`.
    reader: (String, String),
    /// From the CA, but naming no role.
    roleless: (String, String),
    stranger: (String, String),
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_with = |names: Vec<String>, uri: Option<&str>, issuer: &Issuer<'_, KeyPair>| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        if let Some(uri) = uri {
            params
                .subject_alt_names
                .push(SanType::URI(uri.try_into().unwrap()));
        }
        let cert = params.signed_by(&key, issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let leaf = |names: Vec<String>, issuer: &Issuer<'_, KeyPair>| leaf_with(names, None, issuer);
    let server = leaf(
        vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
        &issuer,
    );
    let client = leaf_with(
        vec!["worker".to_owned()],
        Some("urn:latchkey:all:admin"),
        &issuer,
    );
    let reader = leaf_with(
        vec!["reader".to_owned()],
        Some("urn:latchkey:tenant:acme:reader"),
        &issuer,
    );
    let roleless = leaf(vec!["roleless".to_owned()], &issuer);
    // A certificate from another CA.
    let other_key = KeyPair::generate().unwrap();
    let mut other_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    other_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let other = Issuer::new(other_params, other_key);
    let stranger = leaf(vec!["stranger".to_owned()], &other);
    Pki {
        ca: ca.pem(),
        server,
        client,
        reader,
        roleless,
        stranger,
    }
}

async fn client(
    server: &Server,
    ca: &str,
    identity: Option<&(String, String)>,
) -> Result<ConnectionServiceClient<Channel>, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    let channel = Channel::from_shared(format!("https://{}", server.grpc_addr))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await?;
    Ok(ConnectionServiceClient::new(channel))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_serves_tls_and_admits_only_clients_with_a_certificate_from_the_ca() {
    let pki = pki();
    let files = latchkey_store::testing::TempDir::create();
    let cert = write(&files.path, "server.pem", &pki.server.0);
    let key = write(&files.path, "server.key", &pki.server.1);
    let ca = write(&files.path, "ca.pem", &pki.ca);
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_AUTH", "mtls"),
            ("LATCHKEY_TLS_CERT", &cert),
            ("LATCHKEY_TLS_KEY", &key),
            ("LATCHKEY_TLS_CLIENT_CA", &ca),
        ],
    )
    .await;

    let mut admitted = client(&server, &pki.ca, Some(&pki.client))
        .await
        .expect("a CA-signed client connects");
    admitted
        .list_connections(ListConnectionsRequest::default())
        .await
        .expect("and is served");

    // A certificate names its scope and role: a tenant's reader lists, and may not revoke.
    let mut reader = client(&server, &pki.ca, Some(&pki.reader)).await.unwrap();
    reader
        .list_connections(ListConnectionsRequest {
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .expect("a reader reads");
    let refused = reader
        .revoke_connection(latchkey_proto::v1::RevokeConnectionRequest {
            connection_id: uuid::Uuid::now_v7().to_string(),
            reason: "no".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    // From the CA, but naming no role: not admitted as an admin any more.
    let mut roleless = client(&server, &pki.ca, Some(&pki.roleless)).await.unwrap();
    let refused = roleless
        .list_connections(ListConnectionsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert!(
        refused.message().contains("urn:latchkey:"),
        "{}",
        refused.message()
    );

    for identity in [None, Some(&pki.stranger)] {
        let refused = match client(&server, &pki.ca, identity).await {
            Err(_) => true,
            Ok(mut c) => c
                .list_connections(ListConnectionsRequest::default())
                .await
                .is_err(),
        };
        assert!(
            refused,
            "a client without a certificate from the CA is refused"
        );
    }
    // Plain text to a TLS listener gets nothing.
    let plain = Channel::from_shared(format!("http://{}", server.grpc_addr))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = plain {
        assert!(
            ConnectionServiceClient::new(channel)
                .list_connections(ListConnectionsRequest::default())
                .await
                .is_err()
        );
    }
    server.stop().await;
    mode.cleanup().await;
    files.remove();
}
