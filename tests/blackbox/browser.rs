//! The hosted connect pages in a real browser: Debian's Chromium, headless, driven through
//! chromedriver (WebDriver). `scripts/test` starts one and sets `LATCHKEY_TEST_WEBDRIVER_URL`;
//! without it a test starts its own chromedriver, which must be installed.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1::{CreateConnectSessionRequest, GrantType};

use crate::grants::{create_integration, provider_config};
use crate::helpers::{Mode, Server, until_after};

/// A chromedriver: the one `scripts/test` started, or one of this test's own.
struct Driver {
    url: String,
    child: Option<tokio::process::Child>,
}

impl Driver {
    async fn start() -> Self {
        if let Ok(url) = std::env::var("LATCHKEY_TEST_WEBDRIVER_URL") {
            return Self { url, child: None };
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver is installed (scripts/test installs chromium-driver)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            url: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        }
    }

    /// A new browser with a profile of its own (no cookie of another), 1024 px wide unless
    /// `width` says otherwise.
    async fn browser(&self, profile: &std::path::Path, width: u32) -> Client {
        self.browser_with(profile, width, &[]).await
    }

    /// [`Driver::browser`] with more of Chromium's flags (`--lang=fr`, `--force-dark-mode`).
    async fn browser_with(&self, profile: &std::path::Path, width: u32, extra: &[&str]) -> Client {
        let mut capabilities = serde_json::Map::new();
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={width},900"));
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        // The browser's own network log (Chrome's performance log): every request it sent.
        capabilities.insert(
            "goog:loggingPrefs".to_owned(),
            serde_json::json!({ "performance": "ALL" }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session through chromedriver")
    }

    async fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

/// Every URL the page loaded (itself and its resources), as the browser's resource timing lists them.
async fn loaded(browser: &Client) -> Vec<String> {
    let urls = browser
        .execute(
            "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(urls).unwrap()
}

/// Reads (and empties) the browser's performance log through chromedriver.
#[derive(Debug)]
struct NetworkLog;

impl fantoccini::wd::WebDriverCompatibleCommand for NetworkLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(r#"{"type":"performance"}"#.to_owned()),
        )
    }
}

/// The requests the browser sent since the last read, from its network log: (URL, resource type,
/// URL of the page that made it).
async fn requested(browser: &Client) -> Vec<(String, String, String)> {
    let entries = browser.issue_cmd(NetworkLog).await.unwrap();
    let entries = entries.as_array().cloned().unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    entries
        .iter()
        .filter_map(|entry| entry["message"].as_str())
        .filter_map(|message| serde_json::from_str::<serde_json::Value>(message).ok())
        .filter(|message| message["message"]["method"] == "Network.requestWillBeSent")
        .map(|message| {
            let params = &message["message"]["params"];
            (
                text(&params["request"]["url"]),
                text(&params["type"]),
                text(&params["documentURL"]),
            )
        })
        .collect()
}

/// Nothing from another origin: every URL the page loaded is on `origin` (its resource timing),
/// and every request a page of `origin` made for its own use (not a navigation, which the
/// authorization makes to the provider on purpose) went to `origin` (the browser's network log,
/// which must have seen the page).
async fn assert_same_origin(browser: &Client, origin: &str) {
    for url in loaded(browser).await {
        assert!(url.starts_with(origin), "{url} is not on {origin}");
    }
    let requests = requested(browser).await;
    assert!(
        requests.iter().any(|(_, _, page)| page.starts_with(origin)),
        "the network log saw no page of {origin}: {requests:?}"
    );
    for (url, kind, page) in &requests {
        if page.starts_with(origin) && kind != "Document" && !url.starts_with("data:") {
            assert!(
                url.starts_with(origin),
                "{page} asked {url} ({kind}), not on {origin}"
            );
        }
    }
}

async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/connect");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

async fn heading(browser: &Client) -> String {
    browser
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Opens a connect link as a customer does: its page, then Continue (the click spends it), then
/// waits for the session's page.
async fn open_link(browser: &Client, url: &str) {
    browser.goto(url).await.unwrap();
    assert_eq!(heading(browser).await, "Connect your account");
    browser
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let arrived = async {
        while !browser
            .current_url()
            .await
            .is_ok_and(|u| u.path().starts_with("/connect/s/"))
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), arrived)
        .await
        .expect("Continue leads to the session's page");
}

/// Waits (up to 20 s) for a page whose heading is `text`: the browser follows redirects itself.
async fn wait_for_heading(browser: &Client, text: &str) {
    let found = async {
        loop {
            if let Ok(h1) = browser.find(Locator::Css("h1")).await
                && h1.text().await.unwrap_or_default() == text
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), found)
        .await
        .unwrap_or_else(|_| panic!("no page headed {text:?}"));
}

/// Tabs through the page from the top and names each control focus lands on, until it comes
/// round (or 20 steps).
async fn tab_order(browser: &Client) -> Vec<String> {
    let mut seen = Vec::new();
    // A click on the heading, above every control: the browser's tab sequence starts there (a
    // click on the body's middle could land on, or below, a control of a narrow page).
    let top = browser.find(Locator::Css("h1")).await.unwrap();
    top.click().await.unwrap();
    for _ in 0..20 {
        let focused = browser.active_element().await.unwrap();
        focused.send_keys(&Key::Tab.to_string()).await.unwrap();
        let now = browser.active_element().await.unwrap();
        let id = now.attr("id").await.unwrap().unwrap_or_default();
        let name = format!(
            "{}{}:{}",
            now.tag_name().await.unwrap().to_lowercase(),
            if id.is_empty() {
                String::new()
            } else {
                format!("#{id}")
            },
            now.text().await.unwrap()
        );
        if seen.contains(&name) || name.starts_with("body") {
            break;
        }
        seen.push(name);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_connects_with_the_keyboard_alone_and_a_second_browser_is_refused() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
            ("LATCHKEY_RETURN_URL_ORIGINS", "https://app.example"),
        ],
    )
    .await;
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.name = "Acme CRM".to_owned();
    config.description = "Contacts and deals from Acme CRM".to_owned();
    let secret = provider.config().client_secret.clone();
    let integration_id = create_integration(&server, config, &secret).await;
    let created = server
        .connections()
        .await
        .create_connect_session(CreateConnectSessionRequest {
            tenant: "acme".to_owned(),
            integration_ids: vec![integration_id],
            return_url: "https://app.example/done".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let origin = format!("http://{}", server.http_addr);
    let driver = Driver::start().await;
    let profiles = latchkey_store::testing::TempDir::create();

    // At 320 px wide, with the keyboard alone.
    let browser = driver.browser(&profiles.path.join("customer"), 320).await;
    open_link(&browser, &created.connect_url).await;
    assert_eq!(heading(&browser).await, "Connect an account");
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        format!("/connect/s/{}", created.session_id)
    );
    assert_same_origin(&browser, &origin).await;
    screenshot(&browser, "list.png").await;
    let order = tab_order(&browser).await;
    assert_eq!(
        order,
        ["button:Connect to Acme CRM"],
        "every control, in order"
    );
    // Tab to the button, Enter: to the provider, which consents and sends the browser back.
    browser
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let body = browser.active_element().await.unwrap();
    body.send_keys(&Key::Tab.to_string()).await.unwrap();
    let button = browser.active_element().await.unwrap();
    assert_eq!(button.text().await.unwrap(), "Connect to Acme CRM");
    button.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_for_heading(&browser, "Connected").await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        "/oauth/callback"
    );
    assert_same_origin(&browser, &origin).await;
    screenshot(&browser, "connected.png").await;
    let order = tab_order(&browser).await;
    assert_eq!(order, ["a:Continue"]);
    let continue_to = browser
        .find(Locator::LinkText("Continue"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(continue_to.starts_with("https://app.example/done?connection_id="));
    assert!(continue_to.ends_with("&status=authorized"), "{continue_to}");
    browser.close().await.unwrap();

    // The same link in another browser profile: already used.
    let other = driver.browser(&profiles.path.join("other"), 1024).await;
    other.goto(&created.connect_url).await.unwrap();
    assert_eq!(heading(&other).await, "This link was already used");
    assert_same_origin(&other, &origin).await;
    screenshot(&other, "already-used.png").await;
    other.close().await.unwrap();

    driver.stop().await;
    profiles.remove();
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_pastes_a_wrong_secret_sees_the_providers_answer_then_connects_with_the_right_one()
 {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true")]).await;
    let mut config = provider_config(&provider, GrantType::ClientCredentials);
    config.name = "Acme Billing".to_owned();
    let secret = provider.config().client_secret.clone();
    let integration_id = create_integration(&server, config, &secret).await;
    let mut connections = server.connections().await;
    let created = connections
        .create_connect_session(CreateConnectSessionRequest {
            tenant: "acme".to_owned(),
            integration_ids: vec![integration_id],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let origin = format!("http://{}", server.http_addr);
    let driver = Driver::start().await;
    let profiles = latchkey_store::testing::TempDir::create();
    let browser = driver.browser(&profiles.path.join("customer"), 1024).await;
    open_link(&browser, &created.connect_url).await;
    let order = tab_order(&browser).await;
    assert_eq!(
        order,
        [
            "input#client-id-1:",
            "input#client-secret-1:",
            "button:Connect to Acme Billing"
        ],
        "client ID, secret, submit"
    );
    screenshot(&browser, "credentials.png").await;

    // A wrong secret: the provider's answer, nothing stored, the secret not shown back.
    let canary = "CANARY-wrong-secret-4711";
    let fill = |secret: &'static str| {
        let browser = browser.clone();
        let client_id = provider.config().client_id.clone();
        async move {
            let id = browser
                .find(Locator::Css("input[name=client_id]"))
                .await
                .unwrap();
            id.clear().await.unwrap();
            id.send_keys(&client_id).await.unwrap();
            let field = browser
                .find(Locator::Css("input[name=client_secret]"))
                .await
                .unwrap();
            field.send_keys(secret).await.unwrap();
            field.send_keys(&Key::Enter.to_string()).await.unwrap();
        }
    };
    fill(canary).await;
    let summary = async {
        loop {
            if let Ok(found) = browser.find(Locator::Css(".error-summary")).await {
                return found.text().await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let summary = tokio::time::timeout(Duration::from_secs(20), summary)
        .await
        .expect("the error summary");
    assert!(summary.contains("invalid_client"), "{summary}");
    assert!(
        !browser.source().await.unwrap().contains(canary),
        "the secret is not echoed"
    );
    // The reference the customer is given finds the failure in the session's history.
    assert!(
        summary.contains(&format!("Reference: {}", created.session_id)),
        "{summary}"
    );
    let mut audit =
        latchkey_proto::v1::audit_service_client::AuditServiceClient::new(server.channel().await);
    let mut history = audit
        .get_history(latchkey_proto::v1::GetHistoryRequest {
            stream: Some(
                latchkey_proto::v1::get_history_request::Stream::ConnectSessionId(
                    created.session_id.clone(),
                ),
            ),
            from_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let mut failed = Vec::new();
    while let Some(event) = history.message().await.unwrap() {
        if event.r#type == "connect_session_failed" {
            failed.push(event.payload_json);
        }
    }
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("invalid_client") && !failed[0].contains(canary));
    assert_eq!(
        browser
            .find(Locator::Css("input[name=client_id]"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap(),
        provider.config().client_id,
        "the client ID is kept"
    );
    assert_same_origin(&browser, &origin).await;
    screenshot(&browser, "credentials-refused.png").await;
    let listed = connections
        .list_connections(latchkey_proto::v1::ListConnectionsRequest {
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed.connections.is_empty(),
        "a refused pair stores nothing"
    );

    // The right secret: connected.
    fill("fake-client-secret").await;
    wait_for_heading(&browser, "Connected").await;
    let listed = connections
        .list_connections(latchkey_proto::v1::ListConnectionsRequest {
            tenant: "acme".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.connections.len(), 1);
    assert!(
        !browser
            .source()
            .await
            .unwrap()
            .contains("fake-client-secret")
    );
    browser.close().await.unwrap();
    driver.stop().await;
    profiles.remove();
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_opened_after_its_one_minute_session_expired_says_so() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true")]).await;
    let secret = provider.config().client_secret.clone();
    let integration_id = create_integration(
        &server,
        provider_config(&provider, GrantType::AuthorizationCode),
        &secret,
    )
    .await;
    let created = server
        .connections()
        .await
        .create_connect_session(CreateConnectSessionRequest {
            tenant: "acme".to_owned(),
            integration_ids: vec![integration_id],
            // The shortest a session may live.
            ttl: Some(prost_types::Duration {
                seconds: 60,
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    until_after(created.expires_at.as_ref().unwrap()).await;
    let driver = Driver::start().await;
    let profiles = latchkey_store::testing::TempDir::create();
    let browser = driver.browser(&profiles.path.join("late"), 1024).await;
    browser.goto(&created.connect_url).await.unwrap();
    assert_eq!(heading(&browser).await, "This link has expired");
    assert_same_origin(&browser, &format!("http://{}", server.http_addr)).await;
    screenshot(&browser, "expired.png").await;
    browser.close().await.unwrap();
    driver.stop().await;
    profiles.remove();
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_popup_the_outcome_reaches_the_platform_page_by_post_message() {
    // The platform's own page, on an origin of its own, with the few lines behind its button.
    let platform = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let platform_origin = format!("http://{}", platform.local_addr().unwrap());
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
            ("LATCHKEY_RETURN_URL_ORIGINS", &platform_origin),
        ],
    )
    .await;
    let secret = provider.config().client_secret.clone();
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.name = "Acme CRM".to_owned();
    let integration_id = create_integration(&server, config, &secret).await;
    let created = server
        .connections()
        .await
        .create_connect_session(CreateConnectSessionRequest {
            tenant: "acme".to_owned(),
            integration_ids: vec![integration_id],
            return_url: format!("{platform_origin}/done"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let latchkey_origin = format!("http://{}", server.http_addr);
    let page = format!(
        r#"<!doctype html><html lang="en"><head><title>Platform</title></head><body>
<button id="connect">Connect Acme CRM</button><pre id="result"></pre>
<script>
document.getElementById("connect").addEventListener("click", function () {{
  window.open({url:?}, "latchkey", "popup,width=480,height=640");
}});
window.addEventListener("message", function (event) {{
  if (event.origin !== {origin:?} || event.data.source !== "latchkey") return;
  document.getElementById("result").textContent = event.data.status + " " + event.data.connection_id;
}});
</script></body></html>"#,
        url = created.connect_url,
        origin = latchkey_origin,
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let page = page.clone();
            async move { axum::response::Html(page) }
        }),
    );
    let platform_task = tokio::spawn(async move { axum::serve(platform, app).await });

    let driver = Driver::start().await;
    let profiles = latchkey_store::testing::TempDir::create();
    let browser = driver.browser(&profiles.path.join("customer"), 1024).await;
    browser.goto(&format!("{platform_origin}/")).await.unwrap();
    let main = browser.window().await.unwrap();
    browser
        .find(Locator::Id("connect"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let popup = async {
        loop {
            let windows = browser.windows().await.unwrap();
            if let Some(other) = windows.into_iter().find(|w| *w != main) {
                return other;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let popup = tokio::time::timeout(Duration::from_secs(10), popup)
        .await
        .expect("the popup opens");
    browser.switch_to_window(popup).await.unwrap();
    wait_for_heading(&browser, "Connect your account").await;
    browser
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_heading(&browser, "Connect an account").await;
    let button = async {
        loop {
            if let Ok(button) = browser.find(Locator::Css("button")).await {
                return button;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let button = tokio::time::timeout(Duration::from_secs(10), button)
        .await
        .expect("the session's page in the popup");
    assert_eq!(button.text().await.unwrap(), "Connect to Acme CRM");
    button.click().await.unwrap();
    // The result page reports to the opener and closes itself.
    let closed = async {
        while browser.windows().await.unwrap().len() > 1 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), closed)
        .await
        .expect("the popup closes");
    browser.switch_to_window(main).await.unwrap();
    let result = browser
        .find(Locator::Id("result"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(result.starts_with("authorized "), "{result}");
    let connection_id = result.trim_start_matches("authorized ");
    assert!(uuid::Uuid::parse_str(connection_id).is_ok(), "{result}");
    browser.close().await.unwrap();
    driver.stop().await;
    profiles.remove();
    platform_task.abort();
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_types_their_shop_with_the_keyboard_and_a_wrong_one_is_named() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let server = Server::start_with(
        &Mode::embedded(),
        &[("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true")],
    )
    .await;
    let mut config = crate::reach::shop_config(&provider);
    config.name = "Acme Shops".to_owned();
    let secret = provider.config().client_secret.clone();
    let integration_id = create_integration(&server, config, &secret).await;
    let created = server
        .connections()
        .await
        .create_connect_session(CreateConnectSessionRequest {
            tenant: "acme".to_owned(),
            integration_ids: vec![integration_id],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let driver = Driver::start().await;
    let profiles = latchkey_store::testing::TempDir::create();
    let browser = driver.browser(&profiles.path.join("customer"), 320).await;
    open_link(&browser, &created.connect_url).await;
    assert_eq!(
        tab_order(&browser).await,
        ["input#param-1-shop:", "button:Connect to Acme Shops"]
    );
    // A shop with a dot: the page names the field, and the focus lands on the summary.
    let field = browser.find(Locator::Css("#param-1-shop")).await.unwrap();
    field.send_keys("acme.evil.example").await.unwrap();
    field.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_for_heading(&browser, "Connect an account").await;
    let summary = browser
        .find(Locator::Css("#error-summary"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(summary.contains("Shop name: must match"), "{summary}");
    screenshot(&browser, "shop-refused.png").await;
    let field = browser.find(Locator::Css("#param-1-shop")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys("acme").await.unwrap();
    field.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_for_heading(&browser, "Connected").await;
    assert!(
        provider
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.target == "/shops/acme/token")
    );
    browser.close().await.unwrap();
    driver.stop().await;
}

/// axe-core's serious and critical violations on the page (WCAG 2.1 A and AA rules), each as
/// `rule: elements`. axe comes from `LATCHKEY_TEST_AXE` (scripts/test installs it).
async fn serious_violations(browser: &Client) -> Vec<String> {
    let path = std::env::var("LATCHKEY_TEST_AXE").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/browser/node_modules/axe-core/axe.min.js"
        )
        .to_owned()
    });
    let axe = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("axe-core at {path}: {e} (scripts/test installs it: npm ci --prefix tests/browser)")
    });
    browser.execute(&axe, vec![]).await.unwrap();
    let found = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

/// A logo server: one SVG at /logo.svg.
async fn logo_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/logo.svg",
        axum::routing::get(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "image/svg+xml")],
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"96\" height=\"32\" \
                 viewBox=\"0 0 96 32\"><rect width=\"96\" height=\"32\" rx=\"6\" \
                 fill=\"#0f766e\"/><text x=\"48\" y=\"21\" text-anchor=\"middle\" \
                 font-size=\"14\" fill=\"#fff\">ACME</text></svg>",
            )
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The platform's face on the pages: its name, logo, colour and support link; German from the
/// session's locale, French from the browser's language in dark mode; every page free of serious
/// accessibility violations; a used link's page offers the way back to the platform.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_carry_the_platforms_brand_in_the_customers_language_light_and_dark() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let logo = logo_server().await;
    let logo_url = format!("http://{logo}/logo.svg");
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[
            ("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true"),
            ("LATCHKEY_RETURN_URL_ORIGINS", "https://app.acme.example"),
            ("LATCHKEY_CONNECT_PLATFORM_NAME", "Acme Workflows"),
            ("LATCHKEY_CONNECT_ACCENT_COLOR", "#0f766e"),
            ("LATCHKEY_CONNECT_SUPPORT_URL", "mailto:help@acme.example"),
            ("LATCHKEY_CONNECT_LOGO_URL", logo_url.as_str()),
        ],
    )
    .await;
    let mut config = provider_config(&provider, GrantType::AuthorizationCode);
    config.name = "Shopify".to_owned();
    let secret = provider.config().client_secret.clone();
    let shopify = create_integration(&server, config, &secret).await;
    let mut config = provider_config(&provider, GrantType::ClientCredentials);
    config.name = "Zendesk".to_owned();
    let zendesk = create_integration(&server, config, &secret).await;
    let session = |locale: &str| {
        let server = &server;
        let ids = vec![shopify.clone(), zendesk.clone()];
        let locale = locale.to_owned();
        async move {
            server
                .connections()
                .await
                .create_connect_session(CreateConnectSessionRequest {
                    tenant: "acme".to_owned(),
                    integration_ids: ids,
                    return_url: "https://app.acme.example/integrations".to_owned(),
                    appearance: (!locale.is_empty()).then(|| {
                        latchkey_proto::v1::ConnectAppearance {
                            locale,
                            ..Default::default()
                        }
                    }),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let driver = Driver::start().await;
    let profiles = latchkey_store::testing::TempDir::create();

    // German, from the session's locale; light.
    let german = session("de").await;
    let browser = driver.browser(&profiles.path.join("de"), 800).await;
    browser.goto(&german.connect_url).await.unwrap();
    assert_eq!(heading(&browser).await, "Konto verbinden");
    let lang = browser
        .execute("return document.documentElement.lang;", vec![])
        .await
        .unwrap();
    assert_eq!(lang, "de");
    let platform = browser
        .find(Locator::Id("platform-name"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        platform,
        "Acme Workflows verbindet über diese Seite Ihre Konten."
    );
    let logo_width = browser
        .execute(
            "const i = document.querySelector('img.logo'); return i && i.complete ? i.naturalWidth : 0;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(logo_width, 96, "the logo, served by Latchkey, shows");
    assert_eq!(serious_violations(&browser).await, Vec::<String>::new());
    browser
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_heading(&browser, "Ein Konto verbinden").await;
    let button = browser
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap();
    assert_eq!(button.text().await.unwrap(), "Mit Shopify verbinden");
    let colours = browser
        .execute(
            "const s = getComputedStyle(document.querySelector('button[type=submit]'));
             return [s.backgroundColor, getComputedStyle(document.body).backgroundColor];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(colours[0], "rgb(15, 118, 110)", "the platform's accent");
    assert_eq!(colours[1], "rgb(255, 255, 255)");
    let support = browser.find(Locator::Id("support")).await.unwrap();
    assert_eq!(
        support.attr("href").await.unwrap().as_deref(),
        Some("mailto:help@acme.example")
    );
    assert_eq!(serious_violations(&browser).await, Vec::<String>::new());
    screenshot(&browser, "branded-de-light.png").await;

    // French, from the browser's language; dark.
    let french = session("").await;
    let dark = driver
        .browser_with(
            &profiles.path.join("fr"),
            800,
            &[
                "--lang=fr-FR",
                "--accept-lang=fr-FR,fr",
                "--force-dark-mode",
            ],
        )
        .await;
    dark.goto(&french.connect_url).await.unwrap();
    assert_eq!(heading(&dark).await, "Connecter votre compte");
    let is_dark = dark
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(is_dark, true, "Chromium asks for dark pages");
    dark.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_heading(&dark, "Connecter un compte").await;
    let background = dark
        .execute(
            "return getComputedStyle(document.body).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(background, "rgb(17, 24, 39)", "the dark palette");
    assert_eq!(serious_violations(&dark).await, Vec::<String>::new());
    screenshot(&dark, "branded-fr-dark.png").await;

    // The German link again, in another browser: used, said in German, with the way back.
    let other = driver.browser(&profiles.path.join("other"), 800).await;
    other.goto(&german.connect_url).await.unwrap();
    wait_for_heading(&other, "Dieser Link wurde bereits verwendet").await;
    let back = other.find(Locator::Id("back")).await.unwrap();
    assert_eq!(back.text().await.unwrap(), "Zurück zu Acme Workflows");
    assert_eq!(
        back.attr("href").await.unwrap().as_deref(),
        Some("https://app.acme.example/integrations")
    );
    assert_eq!(serious_violations(&other).await, Vec::<String>::new());
    screenshot(&other, "branded-used-de.png").await;
    for browser in [browser, dark, other] {
        browser.close().await.unwrap();
    }
    driver.stop().await;
    server.stop().await;
    profiles.remove();
    mode.cleanup().await;
}
