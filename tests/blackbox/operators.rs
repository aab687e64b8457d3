//! Operator commands against a running server and against the log itself.

use latchkey_fake_provider::{FakeProvider, ProviderConfig};
use latchkey_proto::v1::{
    CreateIntegrationRequest, IntegrationConfig, RefreshTokenRequest, RevokeConnectionRequest,
    UpdateIntegrationRequest,
};

use crate::helpers::{
    Mode, Server, command, connect, integration, integration_config, password_integration,
};

async fn run(mode: &Mode, args: &[&str]) -> std::process::Output {
    let dir = latchkey_store::testing::TempDir::create();
    let output = command(args, &mode.env(), &dir.path)
        .output()
        .await
        .unwrap();
    dir.remove();
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_shows_each_event_with_its_actor_in_order_and_as_json() {
    let provider = FakeProvider::start(ProviderConfig::default())
        .await
        .unwrap();
    let mode = Mode::embedded();
    let server = Server::start_with(&mode, &[("LATCHKEY_ALLOW_LOOPBACK_PROVIDERS", "true")]).await;
    let integration_id = integration(&server, password_integration(&provider), &provider).await;
    let id = connect(&server, &integration_id, &provider).await;
    let mut connections = server.connections().await;
    connections
        .refresh_token(RefreshTokenRequest {
            connection_id: id.clone(),
        })
        .await
        .unwrap();
    connections
        .revoke_connection(RevokeConnectionRequest {
            connection_id: id.clone(),
            reason: "offboarded".to_owned(),
        })
        .await
        .unwrap();
    let server_url = format!("http://{}", server.grpc_addr);

    let table = run(&mode, &["history", &id, "--server", &server_url]).await;
    assert!(
        table.status.success(),
        "{}",
        String::from_utf8_lossy(&table.stderr)
    );
    let table = String::from_utf8(table.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].contains("TYPE") && lines[0].contains("ACTOR"));
    let kinds: Vec<&str> = ["connection_created", "authorized", "refreshed", "revoked"].to_vec();
    for (line, kind) in lines[1..].iter().zip(&kinds) {
        assert!(line.contains(kind), "{line} should be {kind}");
    }
    assert!(
        lines[3].contains("system:refresher") || lines[3].contains("anonymous"),
        "{}",
        lines[3]
    );
    assert!(lines[4].contains("reason: offboarded"));
    for token in provider.issued_tokens() {
        assert!(!table.contains(&token), "no token in the history");
    }

    let json = run(&mode, &["history", &id, "--json", "--server", &server_url]).await;
    let events: Vec<serde_json::Value> = String::from_utf8(json.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, kinds);
    assert!(events.iter().all(|e| e["actor"].is_string()));

    let at = events[1]["occurred_at"].as_str().unwrap().to_owned();
    let then = run(
        &mode,
        &[
            "connections",
            "show",
            &id,
            "--as-of",
            &at,
            "--json",
            "--server",
            &server_url,
        ],
    )
    .await;
    assert!(
        then.status.success(),
        "{}",
        String::from_utf8_lossy(&then.stderr)
    );
    let then: serde_json::Value = serde_json::from_slice(&then.stdout).unwrap();
    assert_eq!(then["status"], "ACTIVE", "as it was before the revocation");
    let list = run(&mode, &["connections", "list", "--server", &server_url]).await;
    assert!(String::from_utf8_lossy(&list.stdout).contains("REVOKED"));
    let events = run(
        &mode,
        &[
            "events",
            "--from",
            "0",
            "--type",
            "revoked",
            "--server",
            &server_url,
        ],
    )
    .await;
    let events = String::from_utf8_lossy(&events.stdout).to_string();
    assert!(events.starts_with("POSITION"), "{events}");
    assert_eq!(events.lines().count(), 2, "a header and the one revocation");
    server.stop().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_an_edited_event_and_rebuild_repairs_a_damaged_projection() {
    let mode = Mode::postgres().await;
    let server = Server::start(&mode).await;
    let mut integrations = server.integrations().await;
    let created = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(integration_config("Audited")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    for i in 0..5 {
        integrations
            .update_integration(UpdateIntegrationRequest {
                integration_id: created.integration_id.clone(),
                config: Some(IntegrationConfig {
                    description: format!("revision {i}"),
                    ..created.config.clone().unwrap()
                }),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    server.stop().await;

    let intact = run(&mode, &["verify"]).await;
    assert_eq!(
        intact.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(String::from_utf8_lossy(&intact.stdout).contains("intact: 6 events"));
    let same = run(&mode, &["rebuild-projections"]).await;
    assert!(String::from_utf8_lossy(&same.stdout).contains("identical"));
    assert_eq!(same.status.code(), Some(0));

    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let position: i64 =
        sqlx::query_scalar("SELECT position FROM events ORDER BY position OFFSET 3 LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    // Behind the trigger's back, as a superuser could.
    for sql in [
        "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete".to_owned(),
        format!(
            "UPDATE events SET payload = replace(payload, 'revision', 'REVISION') WHERE position = {position}"
        ),
        "ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete".to_owned(),
        "UPDATE integrations SET state = replace(state, 'revision 4', 'tampered')".to_owned(),
    ] {
        sqlx::query(&sql).execute(&pool).await.unwrap();
    }
    let broken = run(&mode, &["verify"]).await;
    assert_eq!(broken.status.code(), Some(1), "a check that failed exits 1");
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(
        out.contains(&format!("broken at position {position}")),
        "{out}"
    );

    let differs = run(&mode, &["rebuild-projections"]).await;
    assert!(
        String::from_utf8_lossy(&differs.stdout).contains("1 differences"),
        "{}",
        String::from_utf8_lossy(&differs.stdout)
    );
    assert_eq!(differs.status.code(), Some(1), "differences exit 1");
    let swapped = run(&mode, &["rebuild-projections", "--swap"]).await;
    assert!(String::from_utf8_lossy(&swapped.stdout).contains("swapped in"));
    assert_eq!(swapped.status.code(), Some(0));
    let again = run(&mode, &["rebuild-projections"]).await;
    assert!(String::from_utf8_lossy(&again.stdout).contains("identical"));
    pool.close().await;
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_with_expected_heads_reports_a_cut_tail_and_a_missing_stream() {
    let mode = Mode::postgres().await;
    let server = Server::start(&mode).await;
    let mut integrations = server.integrations().await;
    let mut ids = Vec::new();
    for name in ["Kept", "Cut", "Gone"] {
        let created = integrations
            .create_integration(CreateIntegrationRequest {
                config: Some(integration_config(name)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        integrations
            .update_integration(UpdateIntegrationRequest {
                integration_id: created.integration_id.clone(),
                config: Some(IntegrationConfig {
                    description: "revised".to_owned(),
                    ..created.config.clone().unwrap()
                }),
                ..Default::default()
            })
            .await
            .unwrap();
        ids.push(created.integration_id);
    }
    server.stop().await;
    let dir = latchkey_store::testing::TempDir::create();
    let heads = dir.path.join("heads.txt");
    let heads_arg = heads.display().to_string();
    let recorded = run(&mode, &["verify", "--heads", &heads_arg]).await;
    assert_eq!(recorded.status.code(), Some(0));
    let digest_line = String::from_utf8_lossy(&recorded.stdout).to_string();
    assert!(digest_line.contains("heads digest"), "{digest_line}");
    let unchanged = run(&mode, &["verify", "--expect-heads", &heads_arg]).await;
    assert_eq!(unchanged.status.code(), Some(0));

    // Behind the trigger's back: the last event of one stream, every event of another.
    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for sql in [
        "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete".to_owned(),
        format!(
            "DELETE FROM events WHERE stream_id = 'integration-{}' AND version = 2",
            ids[1]
        ),
        format!(
            "DELETE FROM events WHERE stream_id = 'integration-{}'",
            ids[2]
        ),
        "ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete".to_owned(),
    ] {
        sqlx::query(&sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    // A connection whose rows are moved to another tenant: its hashed connection_created says
    // otherwise.
    let store: std::sync::Arc<dyn latchkey_store::EventStore> =
        std::sync::Arc::new(latchkey_store::PgStore::connect(&db.url, 2).await.unwrap());
    let moved = crate::relay::write_connection(store.clone(), 3).await;
    store.close().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for sql in [
        "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete".to_owned(),
        format!(
            "UPDATE events SET tenant = 'mallory' WHERE stream_id = 'connection-{moved}' AND version = 2"
        ),
        "ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete".to_owned(),
    ] {
        sqlx::query(&sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let moved_check = run(&mode, &["verify"]).await;
    assert_eq!(moved_check.status.code(), Some(1));
    let out = String::from_utf8_lossy(&moved_check.stdout);
    assert!(
        out.contains(&format!("connection-{moved} version 2"))
            && out.contains("tenant column says mallory"),
        "{out}"
    );
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for sql in [
        "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete".to_owned(),
        format!("DELETE FROM events WHERE stream_id = 'connection-{moved}'"),
        "ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete".to_owned(),
    ] {
        sqlx::query(&sql).execute(&pool).await.unwrap();
    }
    pool.close().await;

    // Every chain that is left still holds: only the recorded heads tell.
    let alone = run(&mode, &["verify"]).await;
    assert_eq!(alone.status.code(), Some(0));
    let checked = run(&mode, &["verify", "--expect-heads", &heads_arg]).await;
    assert_eq!(
        checked.status.code(),
        Some(1),
        "a check that failed exits 1"
    );
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(
        out.contains(&format!(
            "integration-{} ends at version 1; versions 2 to 2 are gone",
            ids[1]
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("integration-{} is missing", ids[2])),
        "{out}"
    );
    assert!(
        !out.contains(&ids[0]),
        "the intact stream is not named: {out}"
    );
    dir.remove();
    mode.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_with_a_read_only_role_and_no_master_key_verifies_and_no_migration_runs() {
    let mode = Mode::postgres().await;
    let server = Server::start(&mode).await;
    server
        .integrations()
        .await
        .create_integration(CreateIntegrationRequest {
            config: Some(integration_config("Audited")),
            ..Default::default()
        })
        .await
        .unwrap();
    server.stop().await;
    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let role = format!("auditor_{}", uuid::Uuid::new_v4().simple());
    for sql in [
        format!("CREATE ROLE {role} LOGIN PASSWORD 'auditor'"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"),
    ] {
        sqlx::query(&sql).execute(&pool).await.unwrap();
    }
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_username(&role).unwrap();
    url.set_password(Some("auditor")).unwrap();
    let auditor = vec![("LATCHKEY_DATABASE_URL".to_owned(), url.to_string())];
    let dir = latchkey_store::testing::TempDir::create();

    let verify = command(&["verify"], &auditor, &dir.path)
        .output()
        .await
        .unwrap();
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains("intact: 1 events"));
    // The role may not write: a command that would is refused by the database, not by us.
    let create = command(&["apikeys", "create", "--name", "x"], &auditor, &dir.path)
        .output()
        .await
        .unwrap();
    assert_eq!(create.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&create.stderr).contains("permission denied"),
        "{}",
        String::from_utf8_lossy(&create.stderr)
    );

    // A schema behind the build, with migrations off: refused, naming the fix; nothing created.
    let fresh = latchkey_store::testing::PgTestDatabase::create().await;
    let mut env = mode.env();
    env.retain(|(k, _)| k != "LATCHKEY_DATABASE_URL");
    env.push(("LATCHKEY_DATABASE_URL".to_owned(), fresh.url.clone()));
    env.push(("LATCHKEY_MIGRATE".to_owned(), "false".to_owned()));
    let serve = command(&["serve"], &env, &dir.path).output().await.unwrap();
    assert_eq!(serve.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert!(stderr.contains("latchkey migrate"), "{stderr}");
    let fresh_pool = sqlx::PgPool::connect(&fresh.url).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&fresh_pool)
    .await
    .unwrap();
    assert_eq!(tables, 0, "no migration ran");
    fresh_pool.close().await;
    fresh.drop_database().await;

    sqlx::query(&format!("DROP OWNED BY {role}"))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(&format!("DROP ROLE {role}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    dir.remove();
    mode.cleanup().await;
}

#[tokio::test]
async fn operator_commands_exit_3_when_they_cannot_reach_the_database_or_the_server() {
    let dir = latchkey_store::testing::TempDir::create();
    let key = {
        use secrecy::ExposeSecret;
        latchkey_crypto::MasterKey::generate()
            .to_base64()
            .expose_secret()
            .to_owned()
    };
    // Nothing listens on port 1.
    let env = vec![
        (
            "LATCHKEY_DATABASE_URL".to_owned(),
            "postgres://postgres@127.0.0.1:1/latchkey".to_owned(),
        ),
        ("LATCHKEY_MASTER_KEY".to_owned(), key),
    ];
    for args in [&["verify"][..]] {
        let output = command(args, &env, &dir.path).output().await.unwrap();
        assert_eq!(
            output.status.code(),
            Some(3),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let history = command(
        &[
            "history",
            "00000000-0000-7000-8000-000000000000",
            "--server",
            "http://127.0.0.1:1",
        ],
        &[],
        &dir.path,
    )
    .output()
    .await
    .unwrap();
    assert_eq!(
        history.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&history.stderr)
    );
    dir.remove();
}

/// `latchkey archive` moves the log's oldest partition to a file while the server serves; the
/// file holds its events in order (no secret among them), `verify` still passes with the same
/// heads digest and says which heads it continued from, the streams go on, a partition still
/// written is refused, and so is a rebuild that would need the archived events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archiving_the_oldest_partition_keeps_verify_meaningful() {
    let mode = Mode::postgres().await;
    let server = Server::start_with(&mode, &[("LATCHKEY_EVENTS_PARTITION_SIZE", "100")]).await;
    let mut integrations = server.integrations().await;
    let created = integrations
        .create_integration(CreateIntegrationRequest {
            config: Some(integration_config("Archived")),
            client_secret: crate::helpers::CANARY_SECRET.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let update = |i: usize| UpdateIntegrationRequest {
        integration_id: created.integration_id.clone(),
        config: Some(IntegrationConfig {
            description: format!("revision {i}"),
            ..created.config.clone().unwrap()
        }),
        ..Default::default()
    };
    for i in 0..110 {
        integrations.update_integration(update(i)).await.unwrap();
    }
    let dir = latchkey_store::testing::TempDir::create();
    let heads = dir.path.join("heads.txt").display().to_string();
    let before = run(&mode, &["verify", "--heads", &heads]).await;
    assert_eq!(before.status.code(), Some(0));
    let before = String::from_utf8_lossy(&before.stdout).to_string();
    let digest = |out: &str| {
        out.split("heads digest ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
    };
    assert!(digest(&before).is_some(), "{before}");

    let file = dir.path.join("events-1.jsonl");
    let archived = run(&mode, &["archive", "--out", &file.display().to_string()]).await;
    let stdout = String::from_utf8_lossy(&archived.stdout).to_string();
    assert_eq!(
        archived.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&archived.stderr)
    );
    assert!(
        stdout.contains("archived events_from_1: positions 1 to 100, 100 events"),
        "{stdout}"
    );
    // Who had access to what, and when: for the operator alone.
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let positions: Vec<i64> = lines
        .iter()
        .map(|l| l["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, (1..=100).collect::<Vec<_>>());
    assert_eq!(lines[0]["event_type"], "integration_created");
    assert!(
        lines
            .iter()
            .all(|l| l["hash"].as_str().is_some_and(|h| h.len() == 64))
    );
    assert!(!text.contains(crate::helpers::CANARY_SECRET));

    let after = run(&mode, &["verify", "--expect-heads", &heads]).await;
    let after_out = String::from_utf8_lossy(&after.stdout).to_string();
    assert_eq!(after.status.code(), Some(0), "{after_out}");
    assert_eq!(digest(&after_out), digest(&before), "the same heads");
    assert!(
        after_out.contains(
            "archived: positions 1 to 100 (1 parts, 100 events); chains checked \
                            from the 1 stream heads they kept"
        ),
        "{after_out}"
    );

    // The stream goes on after its archived part, and verify follows it.
    integrations.update_integration(update(999)).await.unwrap();
    let later = run(&mode, &["verify"]).await;
    assert_eq!(
        later.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&later.stdout)
    );
    let again = run(
        &mode,
        &[
            "archive",
            "--out",
            &dir.path.join("events-2.jsonl").display().to_string(),
        ],
    )
    .await;
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("positions 101 to 200) is still being written"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        !dir.path.join("events-2.jsonl").exists(),
        "no file left behind"
    );
    let rebuild = run(&mode, &["rebuild-projections"]).await;
    assert_eq!(rebuild.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&rebuild.stderr).contains("is archived"));
    server.stop().await;
    dir.remove();
    mode.cleanup().await;
}
