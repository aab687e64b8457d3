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
