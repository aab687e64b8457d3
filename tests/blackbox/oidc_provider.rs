//! panva's `oidc-provider` (tests/oidc-provider/server.mjs), a certified OpenID Provider, started
//! per test as the real authorization server the standard flows are checked against. Node.js and
//! the package come from `scripts/test` (`npm ci` in tests/oidc-provider).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use std::collections::BTreeMap;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::grants::{get_with, through_start_link};
use crate::helpers::browser;

/// One running provider, stopped when dropped.
pub struct OidcProvider {
    pub issuer: String,
    /// `https://127.0.0.1:<port>`, when started with `mtls`.
    pub tls_origin: Option<String>,
    /// `https://127.0.0.1:<port>`: the https front, when started with `front`.
    pub front_origin: Option<String>,
    _child: Child,
    settings: PathBuf,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.settings);
    }
}

fn server_script() -> PathBuf {
    let dir = std::env::var("LATCHKEY_TEST_OIDC_PROVIDER").map_or_else(
        |_| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tests/oidc-provider"
            ))
        },
        PathBuf::from,
    );
    assert!(
        dir.join("node_modules/oidc-provider").exists(),
        "oidc-provider is not installed in {}: run scripts/test, or `npm ci --prefix {}`",
        dir.display(),
        dir.display()
    );
    dir.join("server.mjs")
}

impl OidcProvider {
    /// Starts a provider with `settings` (`clients`: oidc-provider client metadata;
    /// `access_token_ttl`, `device_code_ttl`: seconds; `require_par`, `dpop_nonce`, `cimd`;
    /// `mtls`: `{cert, key, ca}` PEM paths for its TLS port; `front`: `{cert, key}` for an https
    /// front; `ca`: a PEM path its own fetches trust).
    pub async fn start(settings: Value) -> Self {
        let file = std::env::temp_dir().join(format!(
            "latchkey-oidc-provider-{}.json",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&file, settings.to_string()).expect("write settings");
        let mut command = Command::new("node");
        if let Some(ca) = settings.get("ca").and_then(Value::as_str) {
            command.env("NODE_EXTRA_CA_CERTS", ca);
        }
        let mut child = command
            .arg(server_script())
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node (install Node.js: scripts/test does)");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(ports) = line.strip_prefix("oidc-provider listening on ") {
                    let mut ports = ports.split(' ').map(|p| p.trim().parse::<u16>().ok());
                    let port = ports.next().flatten()?;
                    let mut next = || ports.next().flatten().unwrap_or(0);
                    return Some((port, next(), next()));
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("oidc-provider did not start");
        let (port, tls_port, front_port) = port;
        // Whatever it prints later is read (a closed pipe would end it).
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            issuer: format!("http://127.0.0.1:{port}"),
            tls_origin: (tls_port != 0).then(|| format!("https://127.0.0.1:{tls_port}")),
            front_origin: (front_port != 0).then(|| format!("https://127.0.0.1:{front_port}")),
            _child: child,
            settings: file,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// What the provider's introspection endpoint (RFC 7662) says of `token`.
    pub async fn introspect(&self, token: &str) -> Value {
        reqwest::Client::new()
            .post(self.url("/token/introspection"))
            .basic_auth("introspector", Some("introspector-secret"))
            .form(&[("token", token)])
            .send()
            .await
            .expect("introspection")
            .bytes()
            .await
            .ok()
            .and_then(|body| serde_json::from_slice(&body).ok())
            .expect("introspection JSON")
    }

    /// Points the https front at `upstream` (the service's plain-HTTP listener).
    pub async fn front(&self, upstream: &str) {
        let answer = reqwest::Client::new()
            .post(self.url("/test/front"))
            .query(&[("upstream", upstream)])
            .send()
            .await
            .expect("front");
        assert_eq!(answer.status(), 204);
    }

    /// What the provider knows that must never leak from Latchkey: a registered client's secret
    /// (`client_id`) or a device code (`user_code`).
    pub async fn secret(&self, query: (&str, &str), field: &str) -> String {
        let body = reqwest::Client::new()
            .get(self.url("/test/secrets"))
            .query(&[query])
            .send()
            .await
            .expect("secrets")
            .bytes()
            .await
            .expect("body");
        let value: Value = serde_json::from_slice(&body).expect("JSON");
        value[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} for {query:?}: {value}"))
            .to_owned()
    }

    /// The customer at the verification page approves (`true`) or denies `user_code`.
    pub async fn decide_device_code(&self, user_code: &str, approve: bool) {
        let decision = if approve { "approve" } else { "deny" };
        let response = reqwest::Client::new()
            .post(self.url("/test/device"))
            .query(&[("user_code", user_code), ("decision", decision)])
            .send()
            .await
            .expect("device decision");
        assert_eq!(response.status(), 204, "{decision} {user_code}");
    }

    /// A customer's browser from `authorization_url` (Latchkey's start link or the provider's
    /// URL) through the provider, which logs in and consents at once, to wherever the provider
    /// sends it back (Latchkey's callback). Returns the last answer's status and body, and the
    /// provider's URLs the browser was sent to.
    pub async fn authorize(&self, authorization_url: &str) -> (u16, String, Vec<String>) {
        let (mut url, latchkey_cookie) = through_start_link(authorization_url).await;
        let mut jar = BTreeMap::new();
        let mut visited = Vec::new();
        for _ in 0..12 {
            if !url.starts_with(&self.issuer) {
                let back = get_with(&url, &latchkey_cookie).await;
                let status = back.status().as_u16();
                return (status, back.text().await.unwrap_or_default(), visited);
            }
            visited.push(url.clone());
            let cookies: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let response = browser()
                .get(&url)
                .header(reqwest::header::COOKIE, cookies.join("; "))
                .send()
                .await
                .expect("the provider answers");
            for set in response.headers().get_all(reqwest::header::SET_COOKIE) {
                let pair = set.to_str().unwrap_or_default().split(';').next();
                if let Some((name, value)) = pair.and_then(|p| p.split_once('=')) {
                    jar.insert(name.to_owned(), value.to_owned());
                }
            }
            let status = response.status().as_u16();
            let Some(location) = response.headers().get(reqwest::header::LOCATION).cloned() else {
                return (status, response.text().await.unwrap_or_default(), visited);
            };
            let next = url::Url::parse(&url)
                .and_then(|base| base.join(location.to_str().unwrap_or_default()))
                .expect("a redirect URL");
            url = next.into();
        }
        panic!("the provider kept redirecting: {visited:?}");
    }
}
