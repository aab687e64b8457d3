//! The operator's CLI against a running server: from an integration to a revoked connection with
//! nothing but `latchkey`, and imports from another token store.

use std::process::Output;
use std::time::Duration;

use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1::{GetTokenRequest, get_token_response};
use tokio::io::AsyncWriteExt as _;

use crate::helpers::{CANARY_SECRET, Mode, Server, command};

/// The CLI's environment: the server and a key file.
struct Cli {
    env: Vec<(String, String)>,
    dir: latchkey_store::testing::TempDir,
}

impl Cli {
    fn new(server: &Server, key: &str) -> Self {
        let dir = latchkey_store::testing::TempDir::create();
        let key_file = dir.path.join("api-key");
        std::fs::write(&key_file, format!("{key}\n")).unwrap();
        Self {
            env: vec![
                (
                    "LATCHKEY_SERVER".to_owned(),
                    format!("http://{}", server.grpc_addr),
                ),
                (
                    "LATCHKEY_API_KEY_FILE".to_owned(),
                    key_file.display().to_string(),
                ),
            ],
            dir,
        }
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, "").await
    }

    async fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = command(args, &self.env, &self.dir.path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        child.wait_with_output().await.unwrap()
    }

    /// Runs a command that must succeed; its standard output.
    async fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    async fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args).await;
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    }
}

async fn admin_key(mode: &Mode) -> String {
    let dir = latchkey_store::testing::TempDir::create();
    let output = command(
        &["apikeys", "create", "--name", "operator"],
        &mode.env(),
        &dir.path,
    )
    .output()
    .await
    .unwrap();
    dir.remove();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_template_to_a_revoked_connection_with_the_cli_alone() {
    let provider = FakeProvider::start(ProviderConfig {
        client_secret: CANARY_SECRET.to_owned(),
        ..ProviderConfig::default()
    })
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
    let key = admin_key(&mode).await;
    let cli = Cli::new(&server, &key);
    let mut seen = String::new();

    let templates = cli.ok(&["integrations", "templates"]).await;
    assert!(templates.starts_with("TEMPLATE") && templates.contains("zoom"));
    let (token_url, revocation_url) = (provider.url("/token"), provider.url("/revoke"));
    let create = cli
        .run_with_stdin(
            &[
                "integrations",
                "create",
                "--template",
                "zoom",
                "--name",
                "Reports",
                "--grant-type",
                "client-credentials",
                "--token-url",
                &token_url,
                "--revocation-url",
                &revocation_url,
                "--client-auth",
                "basic",
                "--client-id",
                &provider.config().client_id,
                "--client-secret-file",
                "-",
                "--json",
            ],
            &format!("{CANARY_SECRET}\n"),
        )
        .await;
    assert_eq!(create.status.code(), Some(0), "{}", text(&create));
    seen += &text(&create);
    let integration: serde_json::Value =
        serde_json::from_slice(&create.stdout).expect("one JSON object");
    let integration_id = integration["integration_id"].as_str().unwrap().to_owned();
    assert_eq!(integration["has_client_secret"], true);
    assert_eq!(integration["grant_type"], "CLIENT_CREDENTIALS");
    assert!(
        integration["authorization_url"]
            .as_str()
            .unwrap()
            .contains("zoom.us"),
        "the template filled what the flags left"
    );

    let connection = cli
        .json(&[
            "connect",
            "client-credentials",
            "--integration",
            &integration_id,
            "--tenant",
            "acme",
            "--name",
            "Nightly reports",
            "--label",
            "env=prod",
            "--json",
        ])
        .await;
    assert_eq!(connection["status"], "ACTIVE");
    let id = connection["connection_id"].as_str().unwrap().to_owned();

    // A worker reads the token; the access log shows it within seconds.
    let mut connections = server.connections().await;
    let mut read = tonic::Request::new(GetTokenRequest {
        connection_id: id.clone(),
        min_ttl: None,
        dpop: None,
    });
    read.metadata_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    let token = connections.get_token(read).await.unwrap().into_inner();
    let Some(get_token_response::Placement::Header(header)) = token.placement else {
        panic!("a header credential")
    };
    let access_token = header.value.trim_start_matches("Bearer ").to_owned();
    let mut log = String::new();
    for _ in 0..100 {
        log = cli.ok(&["access-log", &id]).await;
        if log.lines().count() > 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut lines = log.lines();
    assert!(lines.next().unwrap().starts_with("MINUTE"), "{log}");
    let row = lines
        .next()
        .unwrap_or_else(|| panic!("no read logged: {log}"));
    assert!(
        row.contains("key:") && row.trim_end().ends_with(" 1"),
        "{row}"
    );

    let labelled = cli
        .json(&[
            "connections",
            "label",
            &id,
            "team=data",
            "--remove",
            "env",
            "--json",
        ])
        .await;
    assert_eq!(labelled["labels"], serde_json::json!({"team": "data"}));
    let refreshed = cli.json(&["connections", "refresh", &id, "--json"]).await;
    assert!(refreshed["version"].as_u64() > labelled["version"].as_u64());
    let list = cli.ok(&["connections", "list", "--tenant", "acme"]).await;
    assert!(
        list.starts_with("CONNECTION") && list.contains(&id),
        "{list}"
    );
    let integrations = cli.ok(&["integrations", "list"]).await;
    assert!(integrations.starts_with("INTEGRATION") && integrations.contains("Reports"));
    let updated = cli
        .json(&[
            "integrations",
            "update",
            &integration_id,
            "--description",
            "nightly exports",
            "--json",
        ])
        .await;
    assert_eq!(updated["description"], "nightly exports");
    assert_eq!(
        updated["has_client_secret"], true,
        "an update keeps the secret"
    );

    let revoked = cli
        .json(&[
            "connections",
            "revoke",
            &id,
            "--reason",
            "offboarded",
            "--json",
        ])
        .await;
    assert_eq!(revoked["status"], "REVOKED");
    assert!(provider.revocations() >= 1, "revoked at the provider too");
    let history = cli.ok(&["history", &id]).await;
    let types: Vec<&str> = history
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(
        types,
        [
            "connection_created",
            "authorized",
            "connection_updated",
            "connection_updated",
            "refreshed",
            "revoked"
        ],
        "{history}"
    );
    seen += &history;

    // Exit codes: 2 for what cannot be done as asked, 3 when nothing could be reached.
    let missing = cli
        .run(&[
            "connections",
            "show",
            "0190c9a0-0000-7000-8000-000000000000",
        ])
        .await;
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("NotFound"));
    let no_file = cli
        .run(&[
            "integrations",
            "create",
            "--name",
            "x",
            "--client-secret-file",
            "/nonexistent/secret",
        ])
        .await;
    assert_eq!(no_file.status.code(), Some(2));
    assert!(text(&no_file).contains("--client-secret-file"));
    let refused = cli.run(&["connections", "refresh", &id]).await;
    assert_eq!(
        refused.status.code(),
        Some(2),
        "revoked: {}",
        text(&refused)
    );
    assert!(text(&refused).contains("FailedPrecondition"));
    let mut unreachable = Cli::new(&server, &key);
    unreachable.env[0].1 = "http://127.0.0.1:1".to_owned();
    assert_eq!(
        unreachable
            .run(&["integrations", "list"])
            .await
            .status
            .code(),
        Some(3)
    );
    unreachable.dir.remove();

    cli.ok(&["connections", "delete", &id]).await;
    cli.ok(&["integrations", "delete", &integration_id]).await;
    assert!(
        !seen.contains(CANARY_SECRET),
        "no client secret in any output"
    );
    assert!(!seen.contains(&access_token), "no token in any output");
    assert!(!server.stderr().contains(CANARY_SECRET));
    server.stop().await;
    cli.dir.remove();
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_imported_lines_with_three_bad_ones_are_served_at_once_and_refreshed_when_due() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::postgres().await;
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
            ("LATCHKEY_RETURN_URL_ORIGINS", "https://app.example"),
        ],
    )
    .await;
    let cli = Cli::new(&server, "unused");
    let (authorize, token_url) = (provider.url("/authorize"), provider.url("/token"));
    let created = cli
        .run_with_stdin(
            &[
                "integrations",
                "create",
                "--name",
                "Moved here",
                "--grant-type",
                "authorization-code",
                "--authorization-url",
                &authorize,
                "--token-url",
                &token_url,
                "--client-id",
                &provider.config().client_id,
                "--client-secret-file",
                "-",
                "--json",
            ],
            &provider.config().client_secret,
        )
        .await;
    assert_eq!(created.status.code(), Some(0), "{}", text(&created));
    let integration: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let integration_id = integration["integration_id"].as_str().unwrap().to_owned();

    // The authorization link for a customer, printed alone on standard output.
    let link = cli
        .ok(&[
            "connect",
            "start",
            "--integration",
            &integration_id,
            "--tenant",
            "acme",
            "--return-url",
            "https://app.example/connected",
        ])
        .await;
    let link = url::Url::parse(link.trim()).expect("one URL");
    // Through Latchkey's start link, which binds the browser, to the provider.
    let (link, _) = crate::grants::through_start_link(link.as_str()).await;
    let link = url::Url::parse(&link).unwrap();
    assert!(link.as_str().starts_with(&authorize), "{link}");
    let query: std::collections::HashMap<_, _> = link.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], provider.config().client_id);
    assert!(query.contains_key("state") && query["code_challenge_method"] == "S256");

    let now = chrono::Utc::now();
    let mut tokens = Vec::new();
    let mut lines = Vec::new();
    for i in 0..1000 {
        let line = match i {
            99 => r#"{"import_id": "src-99", "access_token": "x"}"#.to_owned(),
            499 => "{not json".to_owned(),
            899 => serde_json::json!({
                "import_id": "src-899",
                "tenant": "not a tenant",
                "access_token": "canary-import-899",
            })
            .to_string(),
            _ => {
                let (access, refresh) = provider.grant_elsewhere("read");
                // The first ten die in 20 s: due for a refresh at once.
                let expires = if i < 10 { 20 } else { 3600 };
                tokens.push((i, access.clone(), refresh.clone()));
                serde_json::json!({
                    "import_id": format!("src-{i}"),
                    "tenant": format!("t{}", i % 10),
                    "access_token": access,
                    "refresh_token": refresh,
                    "expires_at": (now + chrono::Duration::seconds(expires)).to_rfc3339(),
                    "scopes": "read",
                    "metadata": {"instance_url": "https://acme.example"},
                    "profile": {"name": format!("customer {i}"), "labels": {"source": "nango"}},
                })
                .to_string()
            }
        };
        lines.push(line);
    }
    let file = cli.dir.path.join("connections.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let file = file.display().to_string();
    let args = [
        "connections",
        "import",
        file.as_str(),
        "--integration",
        integration_id.as_str(),
    ];

    let first = cli.run(&args).await;
    let out = text(&first);
    assert_eq!(first.status.code(), Some(1), "{out}");
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("imported 997, already there 0, refused 3"),
        "{out}"
    );
    for n in [100, 500, 900] {
        assert!(
            out.contains(&format!("line {n}: ")),
            "line {n} named: {out}"
        );
    }
    assert!(out.contains("line 100: tenant: is required"), "{out}");
    assert!(
        out.contains("line 900: InvalidArgument") && out.contains("tenant"),
        "{out}"
    );
    let again = cli.run(&args).await;
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("imported 0, already there 997, refused 3"),
        "{}",
        text(&again)
    );

    // Served at once, as imported.
    let list = cli
        .ok(&["connections", "list", "--tenant", "t5", "--json"])
        .await;
    let listed: Vec<serde_json::Value> = list
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 100);
    let first_of_t5 = listed
        .iter()
        .find(|c| c["name"] == "customer 5")
        .expect("customer 5 imported");
    assert_eq!(first_of_t5["status"], "ACTIVE");
    assert_eq!(first_of_t5["has_refresh_token"], true);
    let token_of = |connection_id: &str| {
        let connection_id = connection_id.to_owned();
        let server_channel = server.connections();
        async move {
            let token = server_channel
                .await
                .get_token(GetTokenRequest {
                    connection_id,
                    min_ttl: None,
                    dpop: None,
                })
                .await
                .unwrap()
                .into_inner();
            match token.placement {
                Some(get_token_response::Placement::Header(h)) => {
                    h.value.trim_start_matches("Bearer ").to_owned()
                }
                other => panic!("{other:?}"),
            }
        }
    };
    let id5 = first_of_t5["connection_id"].as_str().unwrap().to_owned();
    let long_lived = listed.iter().find(|c| c["name"] == "customer 15").unwrap();
    let id15 = long_lived["connection_id"].as_str().unwrap().to_owned();
    assert_eq!(
        token_of(&id15).await,
        tokens[15].1,
        "the imported token, at once"
    );

    // The short-lived ones are refreshed by the refresher, with their imported refresh tokens.
    let refreshed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if provider.token_calls_of("refresh_token") >= 10 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(refreshed.is_ok(), "{}", server.stderr());
    let token = token_of(&id5).await;
    assert_ne!(token, tokens[5].1, "refreshed when due");
    assert!(provider.accepts_access_token(&token));
    assert!(
        !provider.accepts_refresh_token(&tokens[5].2),
        "rotated: spent"
    );
    assert_eq!(token_of(&id15).await, tokens[15].1, "not due: untouched");

    let history = cli.ok(&["history", &id5]).await;
    assert!(
        history.contains("imported") && history.contains("refreshed"),
        "{history}"
    );
    // No token of the file in any log line or output.
    let logs = server.stderr() + &out + &text(&again) + &history;
    assert!(!logs.contains("canary-import-899"));
    for (_, access, refresh) in &tokens {
        assert!(!logs.contains(access.as_str()) && !logs.contains(refresh.as_str()));
    }
    server.stop().await;
    cli.dir.remove();
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_connects_from_its_key_file_with_the_cli() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let issuer = "reports@acme-project.iam.gserviceaccount.com";
    provider.trust_service_account(issuer, include_str!("fixtures/service-account-rsa.pub.pem"));
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_AUTH", "api-keys"),
            ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
        ],
    )
    .await;
    let key = admin_key(&mode).await;
    let cli = Cli::new(&server, &key);
    let token_url = provider.url("/token");
    let create = cli
        .run_with_stdin(
            &[
                "integrations",
                "create",
                "--template",
                "google-service-account",
                "--name",
                "Workspace reports",
                "--grant-type",
                "jwt-bearer",
                "--token-url",
                &token_url,
                // The fake provider takes Basic; Google's template says the body.
                "--client-auth",
                "basic",
                "--client-id",
                &provider.config().client_id,
                "--client-secret-file",
                "-",
                "--json",
            ],
            &format!("{}\n", provider.config().client_secret),
        )
        .await;
    assert_eq!(create.status.code(), Some(0), "{}", text(&create));
    let integration: serde_json::Value = serde_json::from_slice(&create.stdout).unwrap();
    assert_eq!(integration["grant_type"], "JWT_BEARER");
    let integration_id = integration["integration_id"].as_str().unwrap().to_owned();

    // The key file as Google hands it out, read from a file: never on the command line.
    let private_key = include_str!("fixtures/service-account-rsa.pem");
    let key_file = cli.dir.path.join("service-account.json");
    let file = serde_json::json!({
        "type": "service_account",
        "private_key_id": "key-7",
        "private_key": private_key,
        "client_email": issuer,
        "token_uri": token_url,
    });
    std::fs::write(&key_file, file.to_string()).unwrap();
    let key_path = key_file.display().to_string();
    let connection_id = cli
        .ok(&[
            "connect",
            "service-account",
            "--integration",
            &integration_id,
            "--tenant",
            "acme",
            "--key-file",
            &key_path,
            "--subject",
            "ada@acme.example",
            "--claim",
            "box_sub_type=enterprise",
            "--quiet",
        ])
        .await
        .trim()
        .to_owned();
    let token = cli.json(&["token", &connection_id, "--json"]).await;
    let credential = token["credential"].as_str().unwrap();
    let access_token = credential.trim_start_matches("Authorization: Bearer ");
    assert!(provider.accepts_access_token(access_token), "{token}");
    let accepted = provider.accepted_assertions();
    assert_eq!(accepted[0]["iss"], issuer);
    assert_eq!(accepted[0]["sub"], "ada@acme.example");
    assert_eq!(accepted[0]["box_sub_type"], "enterprise");

    // A key file that is not one is named by its flag's field, and the key never echoed.
    std::fs::write(&key_file, "not a key").unwrap();
    let refused = cli
        .run(&[
            "connect",
            "service-account",
            "--integration",
            &integration_id,
            "--tenant",
            "acme",
            "--key-file",
            &key_path,
            "--issuer",
            issuer,
        ])
        .await;
    assert_ne!(refused.status.code(), Some(0));
    assert!(text(&refused).contains("key"), "{}", text(&refused));
    let (_, log) = server.stop().await;
    let key_line = private_key.lines().nth(3).unwrap();
    assert!(!log.contains(key_line));
    mode.cleanup().await;
}

#[tokio::test]
async fn a_reader_that_closes_the_pipe_ends_a_command_quietly_with_exit_zero() {
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    let env = [(
        "LATCHKEY_SERVER".to_owned(),
        format!("http://{}", server.grpc_addr),
    )];
    // `| head -0`: the reader is gone before the first line is written.
    let mut child = command(&["integrations", "templates"], &env, &std::env::temp_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    server.stop().await;
    mode.cleanup().await;
}
