use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use latchkey_fake_provider::FakeProvider;
use latchkey_proto::v1::audit_service_client::AuditServiceClient;
use latchkey_proto::v1::connection_service_client::ConnectionServiceClient;
use latchkey_proto::v1::integration_service_client::IntegrationServiceClient;
use latchkey_proto::v1::{
    ConnectPasswordRequest, CreateIntegrationRequest, GrantType, IntegrationConfig,
};
use latchkey_store::testing::{PgTestDatabase, TempDir};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::transport::Channel;

pub const CANARY_SECRET: &str = "canary-client-secret-3b9f1e27";

/// Where a test's service keeps its data.
pub enum Mode {
    Embedded(TempDir),
    Postgres {
        db: PgTestDatabase,
        master_key: String,
    },
}

impl Mode {
    pub fn embedded() -> Self {
        Mode::Embedded(TempDir::create())
    }

    pub async fn postgres() -> Self {
        use secrecy::ExposeSecret;
        let key = latchkey_crypto::MasterKey::generate().to_base64();
        Mode::Postgres {
            db: PgTestDatabase::create().await,
            master_key: key.expose_secret().to_owned(),
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        match self {
            Mode::Embedded(dir) => vec![(
                "LATCHKEY_DATA_DIR".to_owned(),
                dir.path.join("data").display().to_string(),
            )],
            Mode::Postgres { db, master_key } => vec![
                ("LATCHKEY_DATABASE_URL".to_owned(), db.url.clone()),
                ("LATCHKEY_MASTER_KEY".to_owned(), master_key.clone()),
            ],
        }
    }

    pub fn data_dir(&self) -> Option<PathBuf> {
        match self {
            Mode::Embedded(dir) => Some(dir.path.join("data")),
            Mode::Postgres { .. } => None,
        }
    }

    pub async fn cleanup(self) {
        match self {
            Mode::Embedded(dir) => dir.remove(),
            Mode::Postgres { db, .. } => db.drop_database().await,
        }
    }
}

/// A running `latchkey serve`.
pub struct Server {
    child: Child,
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

/// A `latchkey` command with none of the caller's `LATCHKEY_*` settings, so tests see only theirs.
pub fn command(args: &[&str], env: &[(String, String)], cwd: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    cmd.args(args).current_dir(cwd).kill_on_drop(true);
    for (key, _) in std::env::vars() {
        if key.starts_with("LATCHKEY_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

impl Server {
    pub async fn start(mode: &Mode) -> Self {
        Self::start_with(mode, &[]).await
    }

    pub async fn start_with(mode: &Mode, extra: &[(&str, &str)]) -> Self {
        let mut env = mode.env();
        env.push(("LATCHKEY_GRPC_ADDR".to_owned(), "127.0.0.1:0".to_owned()));
        env.push(("LATCHKEY_HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned()));
        env.push(("LATCHKEY_ADMIN_ADDR".to_owned(), "127.0.0.1:0".to_owned()));
        env.push(("LATCHKEY_LOG".to_owned(), "debug".to_owned()));
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let cwd = std::env::temp_dir();
        let mut child = command(&["serve"], &env, &cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn latchkey");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                sink.lock().unwrap().push_str(&line);
                sink.lock().unwrap().push('\n');
            }
        });
        let mut out_lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = out_lines.next_line().await {
                if let Some(rest) = line.strip_prefix("latchkey ready ") {
                    return Some(rest.to_owned());
                }
            }
            None
        })
        .await;
        let Ok(Some(ready)) = ready else {
            let status = child.try_wait();
            panic!(
                "latchkey did not become ready ({status:?}); stderr:\n{}",
                stderr.lock().unwrap()
            );
        };
        let field = |name: &str| -> SocketAddr {
            ready
                .split(' ')
                .find_map(|kv| kv.strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in ready line {ready:?}"))
        };
        let server = Self {
            grpc_addr: field("grpc="),
            http_addr: field("http="),
            admin_addr: field("admin="),
            child,
            stderr,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        for _ in 0..100 {
            if self
                .http_get("/healthz")
                .await
                .is_ok_and(|(status, _)| status == 200)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("latchkey never answered /healthz");
    }

    /// A GET on the public listener.
    pub async fn http_get(&self, path: &str) -> std::io::Result<(u16, String)> {
        http_get(self.http_addr, path).await
    }

    /// A GET on the admin listener (/metrics, the detailed /healthz).
    pub async fn admin_get(&self, path: &str) -> std::io::Result<(u16, String)> {
        http_get(self.admin_addr, path).await
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.grpc_addr))
            .expect("uri")
            .connect()
            .await
            .expect("connect to gRPC")
    }

    pub async fn integrations(&self) -> IntegrationServiceClient<Channel> {
        IntegrationServiceClient::new(self.channel().await)
    }

    pub async fn connections(&self) -> ConnectionServiceClient<Channel> {
        ConnectionServiceClient::new(self.channel().await)
    }

    pub async fn audit(&self) -> AuditServiceClient<Channel> {
        AuditServiceClient::new(self.channel().await)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends a signal (`STOP`, `CONT`…) to the server process.
    pub async fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let sent = Command::new("kill")
            .args([format!("-{name}"), pid])
            .status()
            .await
            .expect("kill");
        assert!(sent.success(), "kill -{name}");
    }

    /// SIGKILL: no shutdown at all, as a crash.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("kill -9");
        let _ = self.child.wait().await;
    }

    /// SIGTERM, then waits for a graceful exit.
    pub async fn stop(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().expect("running").to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill");
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("latchkey exits after SIGTERM")
            .expect("wait");
        // Let the stderr reader drain.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let stderr = self.stderr();
        (status, stderr)
    }
}

/// A client-credentials integration against the fake provider, its secret included.
pub fn cc_integration(
    provider: &latchkey_fake_provider::FakeProvider,
    name: &str,
) -> latchkey_proto::v1::CreateIntegrationRequest {
    use latchkey_proto::v1::{CreateIntegrationRequest, GrantType, IntegrationConfig};
    CreateIntegrationRequest {
        config: Some(IntegrationConfig {
            name: name.to_owned(),
            grant_type: GrantType::ClientCredentials as i32,
            token_url: provider.url("/token"),
            client_id: provider.config().client_id.clone(),
            ..Default::default()
        }),
        client_secret: provider.config().client_secret.clone(),
        ..Default::default()
    }
}

pub fn integration_config(name: &str) -> latchkey_proto::v1::IntegrationConfig {
    use latchkey_proto::v1::{GrantType, IntegrationConfig};
    IntegrationConfig {
        name: name.to_owned(),
        description: "Salesforce production org".to_owned(),
        grant_type: GrantType::AuthorizationCode as i32,
        authorization_url: "https://login.salesforce.com/services/oauth2/authorize".to_owned(),
        token_url: "https://login.salesforce.com/services/oauth2/token".to_owned(),
        revocation_url: "https://login.salesforce.com/services/oauth2/revoke".to_owned(),
        base_uri: "https://acme.my.salesforce.com".to_owned(),
        client_id: "3MVG9-client-id".to_owned(),
        scopes: vec!["api".to_owned(), "refresh_token".to_owned()],
        authorization_params: [("prompt".to_owned(), "consent".to_owned())].into(),
        ..Default::default()
    }
}

pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A minimal HTTP/1.1 GET, so the tests need no HTTP client crate.
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: latchkey\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Ok((status, body))
}

/// A connection as `GetConnection` answers now.
pub async fn connection(server: &Server, connection_id: &str) -> latchkey_proto::v1::Connection {
    server
        .connections()
        .await
        .get_connection(latchkey_proto::v1::GetConnectionRequest {
            connection_id: connection_id.to_owned(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner()
}

/// Every row of a Postgres mode's database, as `pg_dump --data-only` writes them (to look for a
/// secret in clear). Panics in embedded mode.
pub async fn pg_dump(mode: &Mode) -> Vec<u8> {
    let Mode::Postgres { db, .. } = mode else {
        panic!("pg_dump of an embedded mode")
    };
    let dump = tokio::process::Command::new("pg_dump")
        .arg("--data-only")
        .arg(&db.url)
        .output()
        .await
        .expect("pg_dump is installed (scripts/test installs postgresql)");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    dump.stdout
}

/// A connection's events, oldest first, as `GetHistory` streams them.
pub async fn history(server: &Server, connection_id: &str) -> Vec<latchkey_proto::v1::Event> {
    use latchkey_proto::v1::{GetHistoryRequest, get_history_request};
    let mut stream = server
        .audit()
        .await
        .get_history(GetHistoryRequest {
            stream: Some(get_history_request::Stream::ConnectionId(
                connection_id.to_owned(),
            )),
            from_version: 1,
        })
        .await
        .unwrap()
        .into_inner();
    let mut events = Vec::new();
    while let Some(event) = stream.message().await.unwrap() {
        events.push(event);
    }
    events
}

/// Asks `check` every 50 ms until it holds, for at most `within`; a test waits for what it
/// expects instead of sleeping for it. Panics naming `what` when it never holds.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the service's clock has passed `at` (an expiry it announced), with a margin for
/// the two clocks' rounding: waiting out a stated time rather than a guessed one.
pub async fn until_after(at: &prost_types::Timestamp) {
    let at = chrono::DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).unwrap_or(0))
        .expect("a valid timestamp");
    let left = (at - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(50)).await;
}

// Fixtures: the integrations and connections tests build on.

/// `LATCHKEY_ALLOW_LOOPBACK_PROVIDERS`: the fake provider listens on loopback.
pub(crate) const LOOPBACK: (&str, &str) = ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true");
/// No refresher: refreshes happen only when a caller asks.
pub(crate) const NO_REFRESHER: (&str, &str) = ("LATCHKEY_REFRESH_CONCURRENCY", "0");

/// A password-grant integration at the fake provider (tokens refreshed 5 s before expiry).
pub(crate) fn password_integration(provider: &FakeProvider) -> IntegrationConfig {
    IntegrationConfig {
        name: format!("Fake {}", uuid::Uuid::new_v4().simple()),
        grant_type: GrantType::Password as i32,
        authorization_url: provider.url("/authorize"),
        token_url: provider.url("/token"),
        revocation_url: provider.url("/revoke"),
        client_id: provider.config().client_id.clone(),
        scopes: vec!["read".to_owned()],
        allow_password_grant: true,
        refresh_margin_secs: Some(5),
        ..Default::default()
    }
}

/// Creates `config` with the provider's client secret; its id.
pub(crate) async fn integration(
    server: &Server,
    config: IntegrationConfig,
    provider: &FakeProvider,
) -> String {
    server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(config),
            client_secret: provider.config().client_secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .integration_id
}

/// Tenant `acme`'s request for a password connection with the provider's user.
pub(crate) fn password_request(
    provider: &FakeProvider,
    integration_id: impl Into<String>,
) -> ConnectPasswordRequest {
    ConnectPasswordRequest {
        integration_id: integration_id.into(),
        tenant: "acme".to_owned(),
        username: provider.config().username.clone(),
        password: provider.config().password.clone(),
        scopes: vec![],
        profile: None,
        connection_params: Default::default(),
    }
}

/// A password connection of tenant `acme`; its id.
pub(crate) async fn connect(
    server: &Server,
    integration_id: &str,
    provider: &FakeProvider,
) -> String {
    server
        .connections()
        .await
        .connect_password(password_request(provider, integration_id.to_owned()))
        .await
        .unwrap()
        .into_inner()
        .connection_id
}

pub(crate) fn min_ttl(secs: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: secs,
        nanos: 0,
    })
}

/// Creates `n` password connections, `concurrency` at a time.
pub(crate) async fn connect_many(
    server: &Server,
    integration_id: &str,
    provider: &FakeProvider,
    n: usize,
) -> Vec<String> {
    let client = server.connections().await;
    let mut ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|_| {
                let mut client = client.clone();
                let request = password_request(provider, integration_id.to_owned());
                tokio::spawn(async move {
                    client
                        .connect_password(request)
                        .await
                        .unwrap()
                        .into_inner()
                        .connection_id
                })
            })
            .collect();
        for task in tasks {
            ids.push(task.await.expect("task"));
        }
    }
    ids
}

/// An HTTP client that shows redirects instead of following them, as a test of a browser's
/// first step wants.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
