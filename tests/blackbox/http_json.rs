//! HTTP/JSON on the gRPC port, through the real binary: the routes the proto annotates answer
//! what gRPC answers (the access matrix runs over both through [`Api`]), errors are
//! `google.rpc.Status` JSON with the HTTP status of their code, and gRPC is served as before.

use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1::{GetHistoryRequest, GetTokenRequest, get_history_request};
use serde_json::Value;
use tonic::{Code, Status};

use crate::access::{Clients, apikey, clients};
use crate::helpers::{Mode, Server, cc_integration};

/// Which way a test's calls go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    Grpc,
    Http,
}

/// The calls the access matrix makes, over gRPC or over HTTP/JSON (each route written out here
/// as a user of the API would, not read from the server's table).
pub(crate) struct Api {
    over: Over,
    grpc: Clients,
    http: reqwest::Client,
    base: String,
    key: Option<String>,
}

/// The status a `google.rpc.Status` JSON names.
fn status_of(json: &Value) -> Status {
    let code = Code::from_i32(json["code"].as_i64().expect("code") as i32);
    Status::new(code, json["message"].as_str().unwrap_or_default())
}

/// The gRPC code an HTTP/JSON error names (checked against its HTTP status).
fn http_error(status: u16, body: &str) -> Status {
    let json: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {body}"));
    let code = status_of(&json).code();
    let expected = match code {
        Code::InvalidArgument | Code::FailedPrecondition => 400,
        Code::Unauthenticated => 401,
        Code::PermissionDenied => 403,
        Code::NotFound => 404,
        Code::AlreadyExists | Code::Aborted => 409,
        Code::ResourceExhausted => 429,
        Code::Unavailable => 503,
        _ => status,
    };
    assert_eq!(status, expected, "HTTP status of {code:?}: {body}");
    status_of(&json)
}

impl Api {
    pub(crate) async fn new(server: &Server, key: Option<&str>, over: Over) -> Self {
        Self {
            over,
            grpc: clients(server, key).await,
            http: reqwest::Client::new(),
            base: format!("http://{}", server.grpc_addr),
            key: key.map(str::to_owned),
        }
    }

    /// An HTTP/JSON call: the body of a 2xx, else the error it names.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<String, Status> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = &self.key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("HTTP/JSON call");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        if status == 200 {
            Ok(text)
        } else {
            Err(http_error(status, &text))
        }
    }

    async fn get(&self, path: &str) -> Result<Value, Status> {
        let text = self.send(reqwest::Method::GET, path, None).await?;
        Ok(serde_json::from_str(&text).expect("JSON reply"))
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, Status> {
        let text = self.send(reqwest::Method::POST, path, Some(body)).await?;
        Ok(serde_json::from_str(&text).expect("JSON reply"))
    }

    /// The access token `GetToken` hands out.
    pub(crate) async fn get_token(&mut self, id: &str) -> Result<String, Status> {
        match self.over {
            Over::Grpc => {
                let request = GetTokenRequest {
                    connection_id: id.to_owned(),
                    min_ttl: None,
                    dpop: None,
                };
                let reply = self.grpc.connections.get_token(request).await?;
                Ok(reply.into_inner().access_token)
            }
            Over::Http => {
                let reply = self.get(&format!("/v1/connections/{id}/token")).await?;
                Ok(reply["accessToken"]
                    .as_str()
                    .expect("accessToken")
                    .to_owned())
            }
        }
    }

    /// The connection's tenant.
    pub(crate) async fn get_connection(&mut self, id: &str) -> Result<String, Status> {
        match self.over {
            Over::Grpc => {
                let request = latchkey_proto::v1::GetConnectionRequest {
                    connection_id: id.to_owned(),
                    as_of: None,
                };
                Ok(self
                    .grpc
                    .connections
                    .get_connection(request)
                    .await?
                    .into_inner()
                    .tenant)
            }
            Over::Http => {
                let reply = self.get(&format!("/v1/connections/{id}")).await?;
                Ok(reply["tenant"].as_str().expect("tenant").to_owned())
            }
        }
    }

    /// The actors of the connection's history, oldest first.
    pub(crate) async fn history_actors(&mut self, id: &str) -> Result<Vec<String>, Status> {
        match self.over {
            Over::Grpc => {
                let request = GetHistoryRequest {
                    stream: Some(get_history_request::Stream::ConnectionId(id.to_owned())),
                    from_version: 0,
                };
                let mut stream = self.grpc.audit.get_history(request).await?.into_inner();
                let mut actors = Vec::new();
                while let Some(event) = stream.message().await? {
                    actors.push(event.actor);
                }
                Ok(actors)
            }
            Over::Http => {
                let path = format!("/v1/connections/{id}/history");
                let text = self.send(reqwest::Method::GET, &path, None).await?;
                text.lines()
                    .map(|line| {
                        let line: Value = serde_json::from_str(line).expect("a JSON line");
                        if line.get("error").is_some() {
                            return Err(status_of(&line["error"]));
                        }
                        Ok(line["result"]["actor"].as_str().expect("actor").to_owned())
                    })
                    .collect()
            }
        }
    }

    pub(crate) async fn revoke(&mut self, id: &str) -> Result<(), Status> {
        match self.over {
            Over::Grpc => {
                let request = latchkey_proto::v1::RevokeConnectionRequest {
                    connection_id: id.to_owned(),
                    reason: String::new(),
                };
                self.grpc.connections.revoke_connection(request).await?;
            }
            Over::Http => {
                self.post(
                    &format!("/v1/connections/{id}:revoke"),
                    Value::Object(Default::default()),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// The tenants of the connections the caller lists.
    pub(crate) async fn list_tenants(&mut self) -> Result<Vec<String>, Status> {
        match self.over {
            Over::Grpc => {
                let request = latchkey_proto::v1::ListConnectionsRequest::default();
                let reply = self.grpc.connections.list_connections(request).await?;
                Ok(reply
                    .into_inner()
                    .connections
                    .into_iter()
                    .map(|c| c.tenant)
                    .collect())
            }
            Over::Http => {
                let reply = self.get("/v1/connections").await?;
                Ok(reply["connections"]
                    .as_array()
                    .map(|all| {
                        all.iter()
                            .filter_map(|c| c["tenant"].as_str())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default())
            }
        }
    }

    /// A client-credentials connection's id.
    pub(crate) async fn connect(
        &mut self,
        integration_id: &str,
        tenant: &str,
    ) -> Result<String, Status> {
        match self.over {
            Over::Grpc => {
                let request = latchkey_proto::v1::ConnectClientCredentialsRequest {
                    integration_id: integration_id.to_owned(),
                    tenant: tenant.to_owned(),
                    ..Default::default()
                };
                let reply = self
                    .grpc
                    .connections
                    .connect_client_credentials(request)
                    .await?;
                Ok(reply.into_inner().connection_id)
            }
            Over::Http => {
                let body = serde_json::json!({"integration_id": integration_id, "tenant": tenant});
                let reply = self
                    .post("/v1/connections:connectClientCredentials", body)
                    .await?;
                Ok(reply["connectionId"]
                    .as_str()
                    .expect("connectionId")
                    .to_owned())
            }
        }
    }

    /// Creating an (empty) integration: what a tenant's key is told.
    pub(crate) async fn create_empty_integration(&mut self) -> Result<(), Status> {
        match self.over {
            Over::Grpc => {
                let request = latchkey_proto::v1::CreateIntegrationRequest::default();
                self.grpc.integrations.create_integration(request).await?;
            }
            Over::Http => {
                self.post("/v1/integrations", Value::Object(Default::default()))
                    .await?;
            }
        }
        Ok(())
    }

    /// The reads of the connection's token the access log counts for `actor`.
    pub(crate) async fn reads(&mut self, id: &str, actor: &str) -> Result<u64, Status> {
        match self.over {
            Over::Grpc => {
                let request = latchkey_proto::v1::GetAccessLogRequest {
                    connection_id: id.to_owned(),
                    since: None,
                };
                let log = self.grpc.audit.get_access_log(request).await?.into_inner();
                Ok(log
                    .reads
                    .iter()
                    .filter(|r| r.actor == actor)
                    .map(|r| r.reads)
                    .sum())
            }
            Over::Http => {
                let log = self.get(&format!("/v1/connections/{id}/accessLog")).await?;
                Ok(log["reads"]
                    .as_array()
                    .map(|all| {
                        all.iter()
                            .filter(|r| r["actor"] == actor)
                            // uint64 is a string in proto3 JSON.
                            .map(|r| {
                                r["reads"]
                                    .as_str()
                                    .and_then(|n| n.parse::<u64>().ok())
                                    .expect("reads")
                            })
                            .sum()
                    })
                    .unwrap_or_default())
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_gets_the_token_grpc_gets_and_errors_are_status_json() {
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
    let mut grpc = Api::new(&server, Some(&admin), Over::Grpc).await;
    let integration_id = grpc
        .grpc
        .integrations
        .create_integration(cc_integration(&provider, "Fake"))
        .await
        .unwrap()
        .into_inner()
        .integration_id;
    let id = grpc.connect(&integration_id, "acme").await.unwrap();
    let token = grpc.get_token(&id).await.unwrap();

    // curl itself, as the README's quickstart has it.
    let curl = |args: Vec<String>| async move {
        let output = tokio::process::Command::new("curl")
            .args(["-sS", "-w", "\n%{http_code}"])
            .args(&args)
            .output()
            .await
            .expect("curl runs");
        let text = String::from_utf8(output.stdout).expect("UTF-8");
        let (body, status) = text.rsplit_once('\n').expect("status line");
        (status.parse::<u16>().expect("status"), body.to_owned())
    };
    let url = |path: &str| format!("http://{}{path}", server.grpc_addr);
    let auth = format!("authorization: Bearer {admin}");
    let (status, body) = curl(vec![
        "-H".into(),
        auth.clone(),
        url(&format!("/v1/connections/{id}/token?min_ttl=60s")),
    ])
    .await;
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        reply["accessToken"],
        token.as_str(),
        "the same credential as gRPC"
    );
    assert_eq!(reply["header"]["value"], format!("Bearer {token}"));
    assert_eq!(
        reply["metadata"]["token_type"], "Bearer",
        "metadata as a JSON object"
    );

    // A bad id: 400, google.rpc.Status naming the field.
    let (status, body) = curl(vec![
        "-H".into(),
        auth.clone(),
        url("/v1/connections/not-an-id/token"),
    ])
    .await;
    assert_eq!(status, 400, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["code"], 3);
    assert_eq!(
        error["details"][0]["@type"],
        "type.googleapis.com/google.rpc.BadRequest"
    );
    assert_eq!(
        error["details"][0]["fieldViolations"][0]["field"],
        "connection_id"
    );
    let (status, body) = curl(vec![
        "-H".into(),
        auth.clone(),
        url(&format!("/v1/connections/{id}/token?min_ttl=soon")),
    ])
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"field\":\"min_ttl\""), "{body}");

    // No key: 401, with the reason gRPC gives.
    let (status, body) = curl(vec![url(&format!("/v1/connections/{id}/token"))]).await;
    assert_eq!(status, 401, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["code"], 16);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("API key")),
        "{body}"
    );

    // Unknown routes and methods, an oversized body.
    let (status, _) = curl(vec!["-H".into(), auth.clone(), url("/v1/nothing")]).await;
    assert_eq!(status, 404);
    let (status, _) = curl(vec![
        "-X".into(),
        "PUT".into(),
        "-H".into(),
        auth.clone(),
        url(&format!("/v1/connections/{id}")),
    ])
    .await;
    assert_eq!(status, 405);
    let big = format!("{{\"reason\": \"{}\"}}", "x".repeat(300 * 1024));
    let huge = std::env::temp_dir().join(format!("latchkey-big-{}.json", std::process::id()));
    std::fs::write(&huge, big).unwrap();
    let (status, _) = curl(vec![
        "-H".into(),
        auth.clone(),
        "--data-binary".into(),
        format!("@{}", huge.display()),
        url(&format!("/v1/connections/{id}:revoke")),
    ])
    .await;
    std::fs::remove_file(&huge).unwrap();
    assert_eq!(status, 413);

    // A browser's request is refused whatever it carries: a page cannot post to Latchkey.
    for browser in ["origin: https://evil.example", "sec-fetch-site: cross-site"] {
        let (status, body) = curl(vec![
            "-X".into(),
            "POST".into(),
            "-H".into(),
            auth.clone(),
            "-H".into(),
            browser.into(),
            "-H".into(),
            "content-type: text/plain".into(),
            "--data".into(),
            "{}".into(),
            url(&format!("/v1/connections/{id}:revoke")),
        ])
        .await;
        assert_eq!(status, 403, "{browser}: {body}");
        assert!(body.contains("browsers"), "{body}");
    }
    assert_eq!(grpc.get_token(&id).await.unwrap(), token, "not revoked");

    // A server stream: one JSON object a line.
    let (status, body) = curl(vec![
        "-H".into(),
        auth.clone(),
        url(&format!("/v1/connections/{id}/history")),
    ])
    .await;
    assert_eq!(status, 200, "{body}");
    let types: Vec<String> = body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["result"]["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(types, ["connection_created", "authorized"]);
    assert!(!body.contains(&token), "history over HTTP shows no token");

    // gRPC beside it is untouched: health, reflection's unknown methods still UNIMPLEMENTED.
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel().await);
    health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    let mut unknown = tonic::client::Grpc::new(server.channel().await);
    unknown.ready().await.unwrap();
    let missing: Result<tonic::Response<()>, Status> = unknown
        .unary(
            tonic::Request::new(()),
            "/latchkey.v1.NoSuchService/Call".parse().unwrap(),
            tonic_prost::ProstCodec::<(), ()>::default(),
        )
        .await;
    assert_eq!(missing.unwrap_err().code(), Code::Unimplemented);

    let (_, log) = server.stop().await;
    assert!(!log.contains(&token), "the token in the log");
    assert!(!log.contains(&admin), "the key in the log");
    mode.cleanup().await;
}
