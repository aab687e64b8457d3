//! What an operator's tooling reads (issue 41): the probes on the admin listener, `/livez` and
//! `/readyz`, through a database outage.

use std::time::{Duration, Instant};

use crate::helpers::{Mode, Server, wait_until};

async fn ready(server: &Server) -> (u16, serde_json::Value) {
    let (code, body) = server.admin_get("/readyz").await.unwrap();
    (code, serde_json::from_str(&body).unwrap())
}

/// Sets whether the test database takes sessions; refusing also ends the service's sessions.
async fn database_open(db: &latchkey_store::testing::PgTestDatabase, open: bool) {
    let admin = sqlx::PgPool::connect(&latchkey_store::testing::admin_url())
        .await
        .unwrap();
    sqlx::query(&format!(
        "ALTER DATABASE \"{}\" WITH ALLOW_CONNECTIONS {open}",
        db.name
    ))
    .execute(&admin)
    .await
    .unwrap();
    if !open {
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(&db.name)
            .execute(&admin)
            .await
            .unwrap();
    }
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_within_five_seconds_of_losing_the_database_and_recovers_while_liveness_answers()
 {
    let mode = Mode::postgres().await;
    let server = Server::start(&mode).await;
    let (code, body) = ready(&server).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"]["status"], "ok");
    assert_eq!(body["master_key"]["status"], "loaded");
    assert!(body["relay"].is_object(), "the relay is reported: {body}");
    let (code, _) = server.admin_get("/livez").await.unwrap();
    assert_eq!(code, 200);

    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    database_open(db, false).await;
    let lost = Instant::now();
    wait_until("/readyz says unready", Duration::from_secs(5), || async {
        ready(&server).await.0 == 503
    })
    .await;
    eprintln!("unready {:?} after the database went away", lost.elapsed());
    let (_, body) = ready(&server).await;
    assert_eq!(body["status"], "unready");
    assert_eq!(body["database"]["status"], "unavailable");
    let (code, body) = server.admin_get("/livez").await.unwrap();
    assert_eq!(
        code, 200,
        "liveness does not depend on the database: {body}"
    );

    database_open(db, true).await;
    wait_until("/readyz ready again", Duration::from_secs(30), || async {
        ready(&server).await.0 == 200
    })
    .await;
    server.stop().await;
    mode.cleanup().await;
}

/// An OTLP collector on port 0: what it received, by signal.
mod collector {
    use std::sync::{Arc, Mutex};

    use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
        MetricsService, MetricsServiceServer,
    };
    use opentelemetry_proto::tonic::collector::metrics::v1::{
        ExportMetricsServiceRequest, ExportMetricsServiceResponse,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };

    #[derive(Clone, Default)]
    pub struct Received {
        /// Span names.
        pub spans: Arc<Mutex<Vec<String>>>,
        /// Metric names.
        pub metrics: Arc<Mutex<Vec<String>>>,
    }

    #[tonic::async_trait]
    impl TraceService for Received {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            let mut spans = self.spans.lock().unwrap();
            for resource in &request.get_ref().resource_spans {
                for scope in &resource.scope_spans {
                    spans.extend(scope.spans.iter().map(|s| s.name.clone()));
                }
            }
            Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
        }
    }

    #[tonic::async_trait]
    impl MetricsService for Received {
        async fn export(
            &self,
            request: tonic::Request<ExportMetricsServiceRequest>,
        ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
            let mut metrics = self.metrics.lock().unwrap();
            for resource in &request.get_ref().resource_metrics {
                for scope in &resource.scope_metrics {
                    metrics.extend(scope.metrics.iter().map(|m| m.name.clone()));
                }
            }
            Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
        }
    }

    /// Starts the collector; its address and what it receives.
    pub async fn start() -> (std::net::SocketAddr, Received) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Received::default();
        let server = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(received.clone()))
            .add_service(MetricsServiceServer::new(received.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
        tokio::spawn(server);
        (addr, received)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_otlp_collector_receives_traces_and_metrics_and_a_dead_one_is_warned_about() {
    let (addr, received) = collector::start().await;
    let mode = Mode::embedded();
    let endpoint = format!("http://{addr}");
    let server = Server::start_with(
        &mode,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_METRIC_EXPORT_INTERVAL", "300"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    )
    .await;
    let mut integrations = server.integrations().await;
    integrations
        .list_templates(latchkey_proto::v1::ListTemplatesRequest {})
        .await
        .unwrap();
    wait_until(
        "the collector receives the call's span",
        Duration::from_secs(20),
        || async { !received.spans.lock().unwrap().is_empty() },
    )
    .await;
    wait_until(
        "the collector receives the per-RPC and process metrics",
        Duration::from_secs(20),
        || async {
            let metrics = received.metrics.lock().unwrap();
            [
                "rpc.server.call.duration",
                "grpc_server_handled_total",
                "latchkey_build_info",
                "process_resident_memory_bytes",
            ]
            .iter()
            .all(|name| metrics.iter().any(|m| m == name))
        },
    )
    .await;
    let log = server.stderr();
    assert!(
        log.contains("exporting over OTLP") && log.contains(&endpoint),
        "announced with its endpoint: {log}"
    );
    server.stop().await;

    // A collector that is not there: said within seconds, and the service serves on.
    let dead = Server::start_with(
        &mode,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")],
    )
    .await;
    wait_until(
        "a warning that the collector cannot be reached",
        Duration::from_secs(5),
        || async {
            dead.stderr()
                .contains("the OTLP collector cannot be reached")
        },
    )
    .await;
    let (code, _) = dead.admin_get("/readyz").await.unwrap();
    assert_eq!(code, 200);
    dead.stop().await;
    mode.cleanup().await;
}

/// The series of a scrape: every sample line, without its value.
fn series(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(series, _)| series.to_owned()))
        .collect()
}

async fn scrape(server: &Server) -> String {
    let (code, text) = server.admin_get("/metrics").await.unwrap();
    assert_eq!(code, 200);
    text
}

/// The sample of one series, by its exact name and labels.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no series {series}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_each_rpc_with_process_and_build_figures_and_stay_bounded_over_ten_thousand_connections()
 {
    use latchkey_proto::v1::{
        CreateIntegrationRequest, GetConnectionRequest, ImportConnectionRequest,
        ListTemplatesRequest, ListTemplatesResponse,
    };
    let mode = Mode::postgres().await;
    let server = Server::start(&mode).await;
    let mut integrations = server.integrations().await;
    for _ in 0..3 {
        integrations
            .list_templates(ListTemplatesRequest {})
            .await
            .unwrap();
    }
    let mut connections = server.connections().await;
    let refused = connections
        .get_connection(GetConnectionRequest {
            connection_id: "not-an-id".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    // Paths no server method has, each different: they must not become label values.
    let mut raw = tonic::client::Grpc::new(server.channel().await);
    for n in 0..50 {
        raw.ready().await.unwrap();
        let path = format!("/made.Up{n}/Method{n}").parse().unwrap();
        let answer = raw
            .unary::<_, ListTemplatesResponse, _>(
                tonic::Request::new(ListTemplatesRequest {}),
                path,
                tonic_prost::ProstCodec::default(),
            )
            .await;
        assert_eq!(answer.unwrap_err().code(), tonic::Code::Unimplemented);
    }

    let text = scrape(&server).await;
    let templates = r#"grpc_service="latchkey.v1.IntegrationService",grpc_type="unary""#;
    assert_eq!(
        sample(
            &text,
            &format!(
                r#"grpc_server_handled_total{{grpc_code="OK",grpc_method="ListTemplates",{templates}}}"#
            )
        ),
        3.0
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"grpc_server_started_total{{grpc_method="ListTemplates",{templates}}}"#)
        ),
        3.0
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                r#"grpc_server_handling_seconds_count{{grpc_method="ListTemplates",{templates}}}"#
            )
        ),
        3.0
    );
    assert_eq!(
        sample(
            &text,
            r#"grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="GetConnection",grpc_service="latchkey.v1.ConnectionService",grpc_type="unary"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            r#"grpc_server_handled_total{grpc_code="Unimplemented",grpc_method="unknown",grpc_service="unknown",grpc_type="unary"}"#
        ),
        50.0
    );
    assert!(!text.contains("made.Up"), "a caller's path became a label");
    assert!(sample(&text, "process_resident_memory_bytes") > 0.0);
    assert!(sample(&text, "process_open_fds") > 0.0);
    assert_eq!(
        sample(
            &text,
            &format!(
                r#"latchkey_build_info{{version="{}"}}"#,
                env!("CARGO_PKG_VERSION")
            )
        ),
        1.0
    );
    assert!(sample(&text, r#"latchkey_store_pool_connections{state="max"}"#) >= 1.0);
    assert!(text.contains(r#"latchkey_refresher{state="capacity"}"#));
    let before = series(&text);

    // Ten thousand connections later, the same series (the counts move, the label sets do not).
    let integration = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(crate::helpers::integration_config("imported")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..16 {
        let mut connections = server.connections().await;
        let integration = integration.clone();
        workers.spawn(async move {
            for n in (worker..10_000).step_by(16) {
                connections
                    .import_connection(ImportConnectionRequest {
                        integration_id: integration.clone(),
                        tenant: format!("tenant-{}", n % 500),
                        access_token: format!("at-{n}"),
                        provider_account_id: format!("account-{n}"),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.unwrap();
    }
    let text = scrape(&server).await;
    assert_eq!(
        sample(&text, r#"latchkey_connections{status="active"}"#),
        10_000.0
    );
    let after = series(&text);
    let new: Vec<&String> = after.difference(&before).collect();
    assert!(
        new.iter()
            .all(|s| s.contains(r#"grpc_method="ImportConnection""#)
                || s.contains(r#"grpc_method="CreateIntegration""#)
                || s.starts_with("latchkey_append_seconds")),
        "series that came with the connections: {new:?}"
    );
    assert!(
        after.len() < before.len() + 20,
        "{} -> {}",
        before.len(),
        after.len()
    );
    assert!(!text.contains("tenant-") && !text.contains("account-"));
    server.stop().await;
    mode.cleanup().await;
}

/// Metric names in a PromQL expression: the identifiers that are not functions, keywords or
/// label names (those inside braces or `by (…)`).
fn metric_names(expr: &str) -> Vec<String> {
    const PROMQL: [&str; 9] = [
        "sum",
        "rate",
        "max",
        "count",
        "histogram_quantile",
        "by",
        "le",
        "without",
        "avg",
    ];
    let mut names = Vec::new();
    let mut depth_braces = 0;
    let mut in_by = false;
    let mut word = String::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
            if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_' || *n == ':')
            {
                continue;
            }
            let token = std::mem::take(&mut word);
            let starts_alpha = token.starts_with(|c: char| c.is_ascii_alphabetic());
            if depth_braces == 0 && !in_by && starts_alpha && !PROMQL.contains(&token.as_str()) {
                names.push(token.clone());
            }
            in_by = token == "by" || token == "without";
            continue;
        }
        match c {
            '{' => depth_braces += 1,
            '}' => depth_braces -= 1,
            ')' => in_by = false,
            '(' => {}
            _ => {}
        }
        if c == '(' && in_by {
            // The label list of `by (…)` runs to its `)`.
            for inner in chars.by_ref() {
                if inner == ')' {
                    break;
                }
            }
            in_by = false;
        }
    }
    names
}

#[test]
fn the_grafana_dashboard_queries_only_metrics_the_service_exports() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("deploy/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    let families = latchkey::metric_families();
    // A histogram's series carry suffixes.
    let exported = |name: &str| {
        families.iter().any(|f| {
            name == f
                || [
                    f.clone() + "_bucket",
                    f.clone() + "_sum",
                    f.clone() + "_count",
                ]
                .contains(&name.to_owned())
        })
    };
    assert_eq!(
        metric_names("sum by (le, x) (rate(a_b_bucket{c=\"d\"}[5m])) / e"),
        ["a_b_bucket", "e"]
    );
    assert!(!exported("latchkey_no_such_metric"));
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let names = metric_names(expr);
            assert!(!names.is_empty(), "{expr}: no metric");
            for name in names {
                assert!(
                    exported(&name),
                    "{}: {name} is not exported",
                    panel["title"]
                );
                queried += 1;
            }
        }
    }
    assert!(queried >= 15, "{queried}");
}
