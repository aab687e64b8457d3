//! Scale behaviour seen from outside: replicas share the refresher's work without doing any of
//! it twice.

use std::time::{Duration, Instant};

use latchkey_fake_provider::{ExpiresIn, FakeProvider, ProviderConfig, Quirks};

use crate::helpers::{LOOPBACK, connect_many, integration, password_integration};
use crate::helpers::{Mode, Server};

/// `latchkey_refreshes_total{outcome="refreshed"}` of one replica.
async fn refreshed_by(server: &Server) -> u64 {
    let (_, metrics) = server.admin_get("/metrics").await.unwrap();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("latchkey_refreshes_total{outcome=\"refreshed\"} "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_claim_disjoint_due_connections_and_none_is_refreshed_again_within_two_seconds()
 {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    // First tokens are due 10 s after they are issued; refreshed ones last an hour.
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(20),
        refreshed_expires_in: Some(ExpiresIn::Number(3600)),
        ..Default::default()
    });
    let mode = Mode::postgres().await;
    let settings = [
        LOOPBACK,
        ("LATCHKEY_REFRESH_CONCURRENCY", "4"),
        ("LATCHKEY_REFRESH_RATE", "1000"),
    ];
    let a = Server::start_with(&mode, &settings).await;
    let b = Server::start_with(&mode, &settings).await;
    let mut config = password_integration(&provider);
    config.refresh_margin_secs = Some(10);
    let integration_id = integration(&a, config, &provider).await;
    let ids = connect_many(&a, &integration_id, &provider, 400).await;
    assert_eq!(ids.len(), 400);
    // Each refresh takes 20 ms at the provider: one replica alone would keep its four places
    // busy, so the other has work to claim.
    provider.set_quirks(Quirks {
        expires_in: ExpiresIn::Number(20),
        refreshed_expires_in: Some(ExpiresIn::Number(3600)),
        token_delay: Duration::from_millis(20),
        ..Default::default()
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    while provider.token_calls_of("refresh_token") < 400 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Long enough for a second refresh of any connection to show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        provider.token_calls_of("refresh_token"),
        400,
        "every due connection refreshed once across the two replicas"
    );
    assert_eq!(provider.reuse_detected(), 0, "no refresh token sent twice");
    let (by_a, by_b) = (refreshed_by(&a).await, refreshed_by(&b).await);
    assert_eq!(by_a + by_b, 400, "A refreshed {by_a}, B {by_b}");
    assert!(
        by_a > 0 && by_b > 0,
        "both replicas took a share: A {by_a}, B {by_b}"
    );
    a.stop().await;
    b.stop().await;
    mode.cleanup().await;
}
