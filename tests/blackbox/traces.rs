//! Traces, in process with an in-memory span exporter: a GetToken that refreshed is one trace under
//! the caller's trace id.

use std::time::Duration;

use latchkey::App;
use latchkey::Settings;
use latchkey_fake_provider::{ExpiresIn, FakeProvider, ProviderConfig, Quirks};
use latchkey_proto::v1::{CreateIntegrationRequest, GetTokenRequest, GrantType, IntegrationConfig};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tonic::metadata::MetadataValue;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::helpers::password_request;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_token_that_refreshed_is_one_trace_under_the_callers_trace_id() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("latchkey", tracing::Level::INFO)
        .with_target("latchkey_store", tracing::Level::INFO)
        .with_target("latchkey_oauth", tracing::Level::INFO);
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber here");
    latchkey::telemetry::install_propagator();

    let fake = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    fake.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(60),
        ..Default::default()
    });
    let dir = latchkey_store::testing::TempDir::create();
    let config = Settings {
        data_dir: Some(dir.path.join("data").display().to_string()),
        grpc_addr: Some("127.0.0.1:0".to_owned()),
        http_addr: Some("127.0.0.1:0".to_owned()),
        allow_loopback_providers: Some("true".to_owned()),
        refresh_concurrency: Some("0".to_owned()),
        ..Default::default()
    }
    .resolve(None)
    .unwrap();
    let app = App::build(config).await.unwrap();
    let grpc = format!("http://{}", app.grpc_addr());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(app.run(shutdown.clone()));

    let channel = tonic::transport::Channel::from_shared(grpc)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut integrations =
        latchkey_proto::v1::integration_service_client::IntegrationServiceClient::new(
            channel.clone(),
        );
    let integration_id = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(IntegrationConfig {
                name: "Fake".to_owned(),
                grant_type: GrantType::Password as i32,
                token_url: fake.url("/token"),
                client_id: fake.config().client_id.clone(),
                allow_password_grant: true,
                ..Default::default()
            }),
            client_secret: fake.config().client_secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut connections =
        latchkey_proto::v1::connection_service_client::ConnectionServiceClient::new(channel);
    let connection_id = connections
        .connect_password(password_request(&fake, integration_id))
        .await
        .unwrap()
        .into_inner()
        .connection_id;
    fake.set_quirks(Quirks::default());

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = tonic::Request::new(GetTokenRequest {
        connection_id,
        min_ttl: Some(prost_types::Duration {
            seconds: 600,
            nanos: 0,
        }),
        dpop: None,
    });
    let traceparent: MetadataValue<_> = format!("00-{trace_id}-00f067aa0ba902b7-01")
        .parse()
        .unwrap();
    request.metadata_mut().insert("traceparent", traceparent);
    connections
        .get_token(request)
        .await
        .expect("refreshed and served");
    assert_eq!(fake.token_calls_of("refresh_token"), 1);

    // Spans end as their work does: wait for the last of them (the append) to be exported.
    crate::helpers::wait_until(
        "the caller's spans exported",
        Duration::from_secs(5),
        || {
            let done = exporter.get_finished_spans().unwrap().iter().any(|s| {
                s.span_context.trace_id().to_string() == trace_id && s.name == "store.append"
            });
            async move { done }
        },
    )
    .await;
    let spans = exporter.get_finished_spans().unwrap();
    let ours: Vec<_> = spans
        .iter()
        .filter(|s| s.span_context.trace_id().to_string() == trace_id)
        .collect();
    let names: Vec<String> = ours.iter().map(|s| s.name.to_string()).collect();
    for expected in [
        "/latchkey.v1.ConnectionService/GetToken",
        "get_token",
        "store.read",
        "refresh",
        "provider.token",
        "store.append",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in the caller's trace: {names:?}"
        );
    }
    // The caller's trace id is the correlation id of the events it caused.
    let events = latchkey_store::SqliteStore::open(&dir.path.join("data/latchkey.db"))
        .await
        .unwrap();
    let all = latchkey_store::EventLog::read_all(&events, 0, 100)
        .await
        .unwrap();
    let refreshed = all
        .iter()
        .find(|e| e.event_type == "refreshed")
        .expect("refreshed");
    assert_eq!(refreshed.correlation_id.as_deref(), Some(trace_id));
    shutdown.cancel();
    running
        .await
        .expect("the app's task")
        .expect("the app stops cleanly");
    dir.remove();
}
