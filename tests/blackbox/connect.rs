//! The hosted connect pages, through the real binary and a hand-driven HTTP "browser": the
//! one-time link, the session's page, "Connect to X" through the fake provider and back.

use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1::{
    CreateConnectSessionRequest, GetHistoryRequest, GrantType, get_history_request,
};
use tonic::Code;

use crate::grants::{create_integration, provider_config};
use crate::helpers::{Mode, Server, browser};

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// A connect link as a browser opens it: its page (which spends nothing), then Continue (a POST,
/// which does). The answer to the POST.
pub(crate) async fn open_link(browser: &reqwest::Client, url: &str) -> reqwest::Response {
    let landing = browser.get(url).send().await.unwrap();
    assert_eq!(landing.status(), 200);
    assert!(
        header(&landing, "set-cookie").is_empty(),
        "nothing spent yet"
    );
    let page = landing.text().await.unwrap();
    assert!(page.contains(">Continue</button>"), "{page}");
    browser.post(url).send().await.unwrap()
}

/// Every page: nothing from another origin, no referrer, no caching, no framing.
fn assert_guarded(response: &reqwest::Response) {
    let csp = header(response, "content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(response, "referrer-policy"), "no-referrer");
    assert_eq!(header(response, "cache-control"), "no-store");
}

async fn history(server: &Server, stream: get_history_request::Stream) -> Vec<(String, String)> {
    let mut events = server
        .audit()
        .await
        .get_history(GetHistoryRequest {
            stream: Some(stream),
            from_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    while let Some(event) = events.message().await.unwrap() {
        seen.push((event.r#type, event.correlation_id));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_link_opens_once_and_connects_through_the_provider_back_to_the_platform() {
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
    let config = provider_config(&provider, GrantType::AuthorizationCode);
    let name = config.name.clone();
    let secret = provider.config().client_secret.clone();
    let integration_id = create_integration(&server, config, &secret).await;
    let mut connections = server.connections().await;
    let created = connections
        .create_connect_session(CreateConnectSessionRequest {
            tenant: "acme".to_owned(),
            integration_ids: vec![integration_id.clone()],
            return_url: "https://app.example/done".to_owned(),
            profile: Some(latchkey_proto::v1::ConnectionProfile {
                name: "Sales pipeline".to_owned(),
                description: String::new(),
                labels: [("team".to_owned(), "sales".to_owned())].into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let base = format!("http://{}", server.http_addr);
    assert!(created.connect_url.starts_with(&format!("{base}/connect/")));
    let session_page = format!("{base}/connect/s/{}", created.session_id);

    // The link, opened: a cookie for this browser, and the session's page.
    let browser = browser();
    let opened = open_link(&browser, &created.connect_url).await;
    assert_eq!(opened.status(), 303);
    assert_guarded(&opened);
    assert_eq!(
        header(&opened, "location"),
        format!("/connect/s/{}", created.session_id)
    );
    let set_cookie = header(&opened, "set-cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    // Opened again (a forwarded link, a second browser): refused, clearly.
    let again = browser.get(&created.connect_url).send().await.unwrap();
    assert_eq!(again.status(), 410);
    assert_guarded(&again);
    assert!(again.text().await.unwrap().contains("already used"));
    // The page without the cookie is nobody's.
    let stranger = browser.get(&session_page).send().await.unwrap();
    assert_eq!(stranger.status(), 404);

    let page = browser
        .get(&session_page)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_guarded(&page);
    let csp = header(&page, "content-security-policy");
    let provider_origin = provider.url("/").trim_end_matches('/').to_owned();
    assert!(
        csp.contains(&format!("form-action 'self' {provider_origin}")),
        "{csp}"
    );
    let body = page.text().await.unwrap();
    assert!(body.contains(&format!("Connect to {name}")), "{body}");
    assert!(
        body.contains("<label") || body.contains("<button"),
        "{body}"
    );
    assert!(
        !body.contains("://"),
        "the page names no other origin: {body}"
    );
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let stylesheet = browser
        .get(format!("{base}/connect/assets/connect.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(stylesheet.status(), 200);
    assert!(!stylesheet.text().await.unwrap().contains("://"));

    // A form not made for this browser is refused.
    let start = format!("{session_page}/start");
    let forged = browser
        .post(&start)
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={}&integration_id={integration_id}",
            "0".repeat(64)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    // "Connect to X": to the provider, back through the callback, back to the platform.
    let to_provider = browser
        .post(&start)
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&integration_id={integration_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(to_provider.status(), 303);
    let authorization_url = header(&to_provider, "location");
    assert!(authorization_url.starts_with(&provider.url("/authorize")));
    let at_provider = browser.get(&authorization_url).send().await.unwrap();
    assert_eq!(
        at_provider.status(),
        303,
        "the provider consents and sends the browser back"
    );
    let callback = header(&at_provider, "location");

    // The way back, forwarded to another browser (no cookie of the session): it cannot finish.
    let elsewhere = browser.get(&callback).send().await.unwrap();
    assert_eq!(elsewhere.status(), 403);
    assert!(elsewhere.text().await.unwrap().contains("another browser"));

    // In the browser that opened the link: the result page, and "Continue" to the platform.
    let result = browser
        .get(&callback)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), 200);
    assert_guarded(&result);
    let body = result.text().await.unwrap();
    assert!(body.contains("<h1>Connected</h1>"), "{body}");
    let continue_url = body
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("https://app.example/done"))
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let back = url::Url::parse(&continue_url).unwrap();
    let outcome: std::collections::HashMap<String, String> =
        back.query_pairs().into_owned().collect();
    assert_eq!(outcome["status"], "authorized");

    // The session's events, and the connection's, carry the session as correlation id.
    let session = history(
        &server,
        get_history_request::Stream::ConnectSessionId(created.session_id.clone()),
    )
    .await;
    assert_eq!(
        session,
        [
            (
                "connect_session_created".to_owned(),
                created.session_id.clone()
            ),
            (
                "connect_session_opened".to_owned(),
                created.session_id.clone()
            ),
            (
                "connect_session_connected".to_owned(),
                created.session_id.clone()
            ),
        ]
    );
    let connection = history(
        &server,
        get_history_request::Stream::ConnectionId(outcome["connection_id"].clone()),
    )
    .await;
    let made = connections
        .get_connection(latchkey_proto::v1::GetConnectionRequest {
            connection_id: outcome["connection_id"].clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(made.name, "Sales pipeline", "the session's profile");
    assert_eq!(made.labels["team"], "sales");
    let types: Vec<&str> = connection.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types.first(), Some(&"connection_created"));
    assert!(types.contains(&"authorization_started"), "{types:?}");
    assert_eq!(types.last(), Some(&"authorized"));
    assert!(
        connection.iter().all(|(_, c)| *c == created.session_id),
        "{connection:?}"
    );
    // Neither the link's secret nor the cookie's reaches a log line.
    let (_, log) = server.stop().await;
    let link_secret = created.connect_url.rsplit('.').next().unwrap();
    let cookie_secret = cookie.rsplit('.').next().unwrap();
    assert!(!log.contains(link_secret) && !log.contains(cookie_secret));
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_refused_naming_the_field_and_a_password_integration_gets_its_form() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true")]).await;
    let secret = provider.config().client_secret.clone();
    let code = create_integration(
        &server,
        provider_config(&provider, GrantType::AuthorizationCode),
        &secret,
    )
    .await;
    let password = create_integration(
        &server,
        provider_config(&provider, GrantType::Password),
        &secret,
    )
    .await;
    let mut connections = server.connections().await;
    let ask = |ids: Vec<String>, return_url: &str| CreateConnectSessionRequest {
        tenant: "acme".to_owned(),
        integration_ids: ids,
        return_url: return_url.to_owned(),
        ..Default::default()
    };
    for (request, field) in [
        (
            ask(vec![code.clone()], "https://evil.example/x"),
            "return_url",
        ),
        (ask(vec![], ""), "integration_ids"),
        (ask(vec!["nope".to_owned()], ""), "integration_ids[0]"),
    ] {
        let refused = connections
            .create_connect_session(request)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert!(refused.message().contains(field), "{refused:?}");
    }
    let ttl = CreateConnectSessionRequest {
        ttl: Some(prost_types::Duration {
            seconds: 10,
            nanos: 0,
        }),
        ..ask(vec![code], "")
    };
    let refused = connections.create_connect_session(ttl).await.unwrap_err();
    assert!(refused.message().contains("ttl"), "{refused:?}");

    // A password integration (where allowed) gets a username and password form.
    let created = connections
        .create_connect_session(ask(vec![password], ""))
        .await
        .unwrap()
        .into_inner();
    let browser = browser();
    let opened = open_link(&browser, &created.connect_url).await;
    let cookie = header(&opened, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page_url = format!(
        "http://{}/connect/s/{}",
        server.http_addr, created.session_id
    );
    let page = browser
        .get(&page_url)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("autocomplete=\"current-password\""), "{page}");
    assert!(page.contains("deprecated"), "{page}");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let integration_id = page
        .split("name=\"integration_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let post = |password: &str| {
        browser
            .post(format!("{page_url}/credentials"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("csrf", &csrf)
                    .append_pair("integration_id", &integration_id)
                    .append_pair("client_id", &provider.config().username)
                    .append_pair("client_secret", password)
                    .finish(),
            )
            .send()
    };
    let wrong = post("CANARY-not-the-password").await.unwrap();
    assert_eq!(wrong.status(), 400);
    let body = wrong.text().await.unwrap();
    assert!(
        body.contains("error-summary") && !body.contains("CANARY"),
        "{body}"
    );
    let right = post(&provider.config().password).await.unwrap();
    assert_eq!(right.status(), 200);
    assert!(right.text().await.unwrap().contains("<h1>Connected</h1>"));
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_may_be_framed_only_by_the_origins_configured() {
    let mode = Mode::embedded();
    let server = Server::start_with(
        &mode,
        &[("LATCHKEY_CONNECT_FRAME_ANCESTORS", "https://app.example")],
    )
    .await;
    let page = browser()
        .get(format!(
            "http://{}/connect/{}.{}",
            server.http_addr,
            uuid::Uuid::now_v7(),
            "a".repeat(43)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let csp = header(&page, "content-security-policy");
    assert!(csp.contains("frame-ancestors https://app.example"), "{csp}");
    assert!(header(&page, "x-frame-options").is_empty());
    server.stop().await;

    // A value that is not an origin stops the start, naming the setting.
    let output = crate::helpers::command(
        &["serve"],
        &[
            mode.env(),
            vec![(
                "LATCHKEY_CONNECT_FRAME_ANCESTORS".to_owned(),
                "app.example/path".to_owned(),
            )],
        ]
        .concat(),
        std::path::Path::new("/tmp"),
    )
    .output()
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("LATCHKEY_CONNECT_FRAME_ANCESTORS"),
        "{stderr}"
    );
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_a_sessions_link_and_its_history() {
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
    let env = vec![(
        "LATCHKEY_SERVER".to_owned(),
        format!("http://{}", server.grpc_addr),
    )];
    let dir = latchkey_store::testing::TempDir::create();
    let run = |args: Vec<String>| {
        let env = env.clone();
        let cwd = dir.path.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::helpers::command(&args, &env, &cwd)
                .output()
                .await
                .unwrap()
        }
    };
    let created = run([
        "connect",
        "session",
        "--integration",
        &integration_id,
        "--tenant",
        "acme",
        "--json",
    ]
    .map(str::to_owned)
    .to_vec())
    .await;
    assert!(created.status.success(), "{created:?}");
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let url = created["connect_url"].as_str().unwrap();
    let opened = open_link(&browser(), url).await;
    assert_eq!(opened.status(), 303);
    let session = created["session_id"].as_str().unwrap();
    let history = run(vec![
        "history".to_owned(),
        format!("connect_session-{session}"),
    ])
    .await;
    assert!(history.status.success(), "{history:?}");
    let table = String::from_utf8_lossy(&history.stdout);
    assert!(
        table.contains("connect_session_created") && table.contains("connect_session_opened"),
        "{table}"
    );
    // A bad ttl is refused naming it (exit 2).
    let refused = run([
        "connect",
        "session",
        "--integration",
        &integration_id,
        "--tenant",
        "acme",
        "--ttl",
        "5",
    ]
    .map(str::to_owned)
    .to_vec())
    .await;
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("ttl"));
    dir.remove();
    server.stop().await;
    mode.cleanup().await;
}

/// The csrf token of a page.
pub(crate) fn csrf_of(body: &str) -> String {
    body.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_connection_field_is_asked_for_checked_on_the_page_and_builds_the_provider_url() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let server = Server::start_with(
        &Mode::embedded(),
        &[("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true")],
    )
    .await;
    let secret = provider.config().client_secret.clone();
    let integration_id =
        create_integration(&server, crate::reach::shop_config(&provider), &secret).await;
    let created = server
        .connections()
        .await
        .create_connect_session(CreateConnectSessionRequest {
            tenant: "acme".to_owned(),
            integration_ids: vec![integration_id.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let browser = browser();
    let opened = open_link(&browser, &created.connect_url).await;
    let cookie = header(&opened, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let base = format!("http://{}", server.http_addr);
    let session_page = format!("{base}/connect/s/{}", created.session_id);
    let page = browser
        .get(&session_page)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    // The shop's URL is not known yet: the form may lead to the provider's origin (here a path
    // holds the shop; a host label would be a *.wildcard), nowhere else.
    let csp = header(&page, "content-security-policy");
    let provider_origin = provider.url("").trim_end_matches('/').to_owned();
    assert!(
        csp.contains(&format!("form-action 'self' {provider_origin};"))
            || csp.ends_with(&format!("form-action 'self' {provider_origin}")),
        "{csp}"
    );
    let body = page.text().await.unwrap();
    assert!(body.contains(">Shop name</label>"), "{body}");
    assert!(body.contains("name=\"param.shop\""), "{body}");
    assert!(
        body.contains("The part before .myshopify.com"),
        "the field's help text is shown: {body}"
    );
    let csrf = csrf_of(&body);
    let start = |shop: &str| {
        browser
            .post(format!("{session_page}/start"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "csrf={csrf}&integration_id={integration_id}&param.shop={}",
                urlencoding(shop)
            ))
            .send()
    };

    // Empty, or a value that would move the URL: the page says what is wrong with which field,
    // keeps what was typed, and nothing reaches the provider.
    for (shop, says) in [
        ("", "Shop name: must be set."),
        ("acme.evil.example", "Shop name: must match the pattern"),
    ] {
        let refused = start(shop).await.unwrap();
        assert_eq!(refused.status(), 400, "{shop:?}");
        let body = refused.text().await.unwrap();
        assert!(body.contains("error-summary"), "{body}");
        assert!(body.contains(says), "{shop:?}: {body}");
        assert!(
            body.contains(&format!("value=\"{shop}\"")),
            "what was typed is kept: {body}"
        );
    }
    assert!(provider.requests().is_empty());

    let to_provider = start(" acme ").await.unwrap();
    assert_eq!(to_provider.status(), 303);
    let authorization_url = header(&to_provider, "location");
    assert!(
        authorization_url.starts_with(&provider.url("/shops/acme/authorize?")),
        "{authorization_url}"
    );
    let at_provider = browser.get(&authorization_url).send().await.unwrap();
    let callback = header(&at_provider, "location");
    let result = browser
        .get(&callback)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), 200);
    assert!(result.text().await.unwrap().contains("Connected"));
    let tokens: Vec<_> = provider
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.target)
        .collect();
    assert_eq!(tokens, ["/shops/acme/token"]);
}

fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
