use prost::Message as _;
use tonic::Code;

use super::*;

fn route<'a>(
    routes: &'a [Route],
    method: Method,
    path: &str,
) -> (&'a Route, Vec<(&'a str, String)>) {
    routes
        .iter()
        .find_map(|r| {
            (r.method == method)
                .then(|| r.template.matches(path))
                .flatten()
                .map(|b| (r, b))
        })
        .unwrap_or_else(|| panic!("no route {method} {path}"))
}

#[test]
fn every_rpc_of_the_api_has_a_route_and_no_two_routes_overlap() {
    let routes = api_routes().expect("routes");
    let pool = DescriptorPool::decode(latchkey_proto::FILE_DESCRIPTOR_SET).expect("pool");
    for service in pool.services().filter(|s| s.package_name() == PACKAGE) {
        for rpc in service.methods() {
            assert!(
                routes.iter().any(|r| r.rpc.full_name() == rpc.full_name()),
                "{} has no HTTP/JSON route",
                rpc.full_name()
            );
        }
    }
    // A concrete path of each route, made by binding every field to "x": only its own route
    // (with its method) answers it.
    for a in &routes {
        let path = a
            .template_text
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "x".to_owned() + s.split_once('}').map_or("", |(_, v)| v)
                } else {
                    s.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let answering: Vec<_> = routes
            .iter()
            .filter(|b| b.method == a.method && b.template.matches(&path).is_some())
            .map(|b| b.template_text.as_str())
            .collect();
        assert_eq!(
            answering,
            vec![a.template_text.as_str()],
            "{} {path}",
            a.method
        );
    }
}

#[test]
fn a_get_reads_its_path_and_query_into_the_request() {
    let routes = api_routes().expect("routes");
    let (r, bound) = route(&routes, Method::GET, "/v1/connections/01ABC/token");
    let encoded = transcode::request(r, bound, Some("min_ttl=60s"), b"").expect("request");
    let request = latchkey_proto::v1::GetTokenRequest::decode(encoded.as_slice()).expect("decodes");
    assert_eq!(request.connection_id, "01ABC");
    assert_eq!(request.min_ttl.map(|d| d.seconds), Some(60));

    let (r, bound) = route(&routes, Method::GET, "/v1/connections");
    let query = "tenant=acme&page_size=2&status=CONNECTION_STATUS_ACTIVE&labels.team=x";
    let err = transcode::request(r, bound, Some(query), b"").expect_err("a map from the query");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message().starts_with("labels.team:"),
        "{}",
        err.message()
    );
    let (r, bound) = route(&routes, Method::GET, "/v1/connections");
    let encoded = transcode::request(
        r,
        bound,
        Some("tenant=acme&pageSize=2&status=CONNECTION_STATUS_ACTIVE"),
        b"",
    )
    .expect("request");
    let request =
        latchkey_proto::v1::ListConnectionsRequest::decode(encoded.as_slice()).expect("decodes");
    assert_eq!(
        (request.tenant.as_str(), request.page_size, request.status),
        ("acme", 2, 2)
    );
}

#[test]
fn a_post_reads_its_body_and_the_path_wins_over_it() {
    let routes = api_routes().expect("routes");
    let (r, bound) = route(&routes, Method::POST, "/v1/connections/from-path:revoke");
    let body = br#"{"connection_id": "from-body", "reason": "offboarding"}"#;
    let encoded = transcode::request(r, bound, None, body).expect("request");
    let request =
        latchkey_proto::v1::RevokeConnectionRequest::decode(encoded.as_slice()).expect("decodes");
    assert_eq!(request.connection_id, "from-path");
    assert_eq!(request.reason, "offboarding");
}

#[test]
fn bad_requests_name_what_is_wrong() {
    let routes = api_routes().expect("routes");
    type Case<'a> = (Method, &'a str, Option<&'a str>, &'a [u8], &'a str);
    let cases: [Case; 6] = [
        (
            Method::GET,
            "/v1/connections/c/token",
            Some("min_ttl=soon"),
            b"",
            "min_ttl",
        ),
        (
            Method::GET,
            "/v1/connections/c/token",
            Some("nope=1"),
            b"",
            "nope",
        ),
        (
            Method::GET,
            "/v1/connections",
            Some("page_size=many"),
            b"",
            "page_size",
        ),
        (Method::POST, "/v1/connections:import", None, b"[1]", "body"),
        (Method::POST, "/v1/connections:import", None, b"{", "body"),
        (
            Method::POST,
            "/v1/connections:import",
            Some("tenant=a"),
            b"{}",
            "query",
        ),
    ];
    for (method, path, query, body, field) in cases {
        let (r, bound) = route(&routes, method.clone(), path);
        let err = transcode::request(r, bound, query, body).expect_err(path);
        assert_eq!(err.code(), Code::InvalidArgument, "{path}");
        assert!(
            err.message().starts_with(&format!("{field}:")),
            "{path}: {}",
            err.message()
        );
        let json: serde_json::Value = serde_json::from_slice(&status::json(
            &err,
            &DescriptorPool::decode(latchkey_proto::STATUS_DESCRIPTOR_SET).expect("pool"),
        ))
        .expect("JSON");
        assert_eq!(json["code"], 3);
        assert_eq!(
            json["details"][0]["@type"],
            "type.googleapis.com/google.rpc.BadRequest"
        );
        assert_eq!(json["details"][0]["fieldViolations"][0]["field"], field);
    }
}

#[test]
fn status_codes_map_to_the_usual_http_statuses() {
    assert_eq!(
        status::http_status(Code::InvalidArgument),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status::http_status(Code::Unauthenticated),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status::http_status(Code::PermissionDenied),
        StatusCode::FORBIDDEN
    );
    assert_eq!(status::http_status(Code::NotFound), StatusCode::NOT_FOUND);
    assert_eq!(
        status::http_status(Code::ResourceExhausted),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status::http_status(Code::FailedPrecondition),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status::http_status(Code::Unavailable),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[test]
fn frames_are_read_whole_and_a_cut_one_waits() {
    let mut bytes = vec![0, 0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0, 0];
    assert_eq!(
        frames(&bytes).collect::<Vec<_>>(),
        vec![&b"ab"[..], &b""[..]]
    );
    bytes.extend_from_slice(&[0, 0, 0, 0, 3, b'c']);
    assert_eq!(frames(&bytes).count(), 2);
}

/// The direct writer and prost-reflect agree on `message`'s JSON.
fn same_json<M: prost::Message>(name: &str, message: &M) {
    let pool = DescriptorPool::decode(latchkey_proto::FILE_DESCRIPTOR_SET).expect("pool");
    let descriptor = pool
        .get_message_by_name(&format!("latchkey.v1.{name}"))
        .expect("descriptor");
    let bytes = message.encode_to_vec();
    let mut direct = Vec::new();
    json_out::message(&descriptor, &bytes, &mut direct).expect("written directly");
    let reflected = transcode::reflected(descriptor, &bytes).expect("reflected");
    let direct: serde_json::Value = serde_json::from_slice(&direct).expect("direct is JSON");
    let reflected: serde_json::Value = serde_json::from_slice(&reflected).expect("JSON");
    assert_eq!(direct, reflected, "{name}");
}

fn timestamp(seconds: i64, nanos: i32) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos })
}

#[test]
fn replies_are_written_as_prost_reflect_writes_them() {
    use latchkey_proto::v1 as pb;
    use prost_types::value::Kind as V;
    let value = |kind| prost_types::Value { kind: Some(kind) };
    let nested = prost_types::Struct {
        fields: [("inner".to_owned(), value(V::BoolValue(false)))].into(),
    };
    let metadata = prost_types::Struct {
        fields: [
            (
                "instance_url".to_owned(),
                value(V::StringValue("https://x.example/\"q\"\n".into())),
            ),
            ("expires_in".to_owned(), value(V::NumberValue(3600.0))),
            ("ratio".to_owned(), value(V::NumberValue(-0.125))),
            ("ok".to_owned(), value(V::BoolValue(true))),
            ("none".to_owned(), value(V::NullValue(0))),
            ("nested".to_owned(), value(V::StructValue(nested))),
            (
                "list".to_owned(),
                value(V::ListValue(prost_types::ListValue {
                    values: vec![
                        value(V::NumberValue(1.0)),
                        value(V::StringValue("ü".into())),
                    ],
                })),
            ),
            ("empty".to_owned(), prost_types::Value { kind: None }),
        ]
        .into(),
    };
    same_json(
        "GetTokenResponse",
        &pb::GetTokenResponse {
            access_token: "at-Ünïcode-\u{1}".into(),
            token_type: "Bearer".into(),
            expires_at: timestamp(1_796_000_000, 958_876_767),
            scopes: vec!["read".into(), "write".into()],
            metadata: Some(metadata.clone()),
            version: 42,
            placement: Some(pb::get_token_response::Placement::Header(
                pb::HeaderCredential {
                    name: "Authorization".into(),
                    value: "Bearer at".into(),
                },
            )),
            ..Default::default()
        },
    );
    for nanos in [0, 5_000_000, 5_000, 5, 999_999_999] {
        same_json(
            "Connection",
            &pb::Connection {
                connection_id: "c".into(),
                grant_type: pb::GrantType::ClientCredentials as i32,
                status: pb::ConnectionStatus::ReauthorizationRequired as i32,
                scopes: vec!["a".into()],
                created_at: timestamp(0, nanos),
                updated_at: timestamp(-1, nanos),
                labels: [
                    ("team".to_owned(), "core".to_owned()),
                    ("x".to_owned(), String::new()),
                ]
                .into(),
                metadata: Some(metadata.clone()),
                version: u64::MAX,
                can_refresh: true,
                ..Default::default()
            },
        );
    }
    same_json(
        "ListConnectionsResponse",
        &pb::ListConnectionsResponse {
            connections: vec![
                pb::Connection::default(),
                pb::Connection {
                    tenant: "t".into(),
                    ..Default::default()
                },
            ],
            next_page_token: "n".into(),
        },
    );
    same_json(
        "ReportTokenRejectedResponse",
        &pb::ReportTokenRejectedResponse::default(),
    );
    same_json(
        "CreateConnectSessionRequest",
        &pb::CreateConnectSessionRequest {
            ttl: Some(prost_types::Duration {
                seconds: -3,
                nanos: -500_000_000,
            }),
            ..Default::default()
        },
    );
    same_json(
        "CreateConnectSessionRequest",
        &pb::CreateConnectSessionRequest {
            ttl: Some(prost_types::Duration {
                seconds: 60,
                nanos: 0,
            }),
            integration_ids: vec!["i".into()],
            ..Default::default()
        },
    );
    same_json(
        "VerifyWebhookRequest",
        &pb::VerifyWebhookRequest {
            body: vec![0, 1, 2, 250, 251, 252, 253],
            headers: [("a".to_owned(), "b".to_owned())].into(),
            ..Default::default()
        },
    );
}
