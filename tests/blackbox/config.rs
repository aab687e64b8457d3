use std::time::Duration;

use crate::helpers::{Mode, command};

#[tokio::test]
async fn invalid_configuration_names_every_bad_setting_and_starts_nothing() {
    let dir = latchkey_store::testing::TempDir::create();
    let data = dir.path.join("data");
    let env = vec![
        ("LATCHKEY_DATA_DIR".to_owned(), data.display().to_string()),
        ("LATCHKEY_GRPC_ADDR".to_owned(), "nowhere".to_owned()),
        ("LATCHKEY_PUBLIC_URL".to_owned(), "ftp://x".to_owned()),
        (
            "LATCHKEY_DATABASE_URL".to_owned(),
            "mysql://root:hunter2@db/x".to_owned(),
        ),
        ("LATCHKEY_NATS_URL".to_owned(), "http://nats".to_owned()),
    ];
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        command(
            &["serve", "--http-addr", "127.0.0.1:99999"],
            &env,
            &dir.path,
        )
        .output(),
    )
    .await
    .expect("exits at once")
    .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for setting in [
        "LATCHKEY_GRPC_ADDR",
        "LATCHKEY_HTTP_ADDR (--http-addr)",
        "LATCHKEY_PUBLIC_URL",
        "LATCHKEY_DATABASE_URL",
        "LATCHKEY_NATS_URL",
        "LATCHKEY_MASTER_KEY",
    ] {
        assert!(
            stderr.contains(setting),
            "{setting} not named in:\n{stderr}"
        );
    }
    assert!(!stderr.contains("hunter2"), "a password leaked:\n{stderr}");
    assert!(!data.exists(), "nothing was created");
    dir.remove();
}

#[tokio::test]
async fn migrate_applies_the_postgres_schema_and_exits() {
    let mode = Mode::postgres().await;
    let dir = latchkey_store::testing::TempDir::create();
    let output = command(&["migrate"], &mode.env(), &dir.path)
        .output()
        .await
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("postgres migrations applied"));
    let Mode::Postgres { db, .. } = &mode else {
        unreachable!()
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for table in ["connections", "events", "integrations"] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
    pool.close().await;
    dir.remove();
    mode.cleanup().await;
}

#[tokio::test]
async fn a_lost_key_file_is_never_silently_replaced() {
    use crate::helpers::Server;
    let mode = Mode::embedded();
    let server = Server::start(&mode).await;
    server.stop().await;
    let data = mode.data_dir().unwrap();
    std::fs::remove_file(data.join("master.key")).unwrap();
    let mut env = mode.env();
    env.push(("LATCHKEY_GRPC_ADDR".to_owned(), "127.0.0.1:0".to_owned()));
    env.push(("LATCHKEY_HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned()));
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        command(&["serve"], &env, &data).output(),
    )
    .await
    .expect("exits at once")
    .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("master key file"), "{stderr}");
    assert!(stderr.contains("LATCHKEY_MASTER_KEY"), "{stderr}");
    assert!(
        !data.join("master.key").exists(),
        "no new key was generated"
    );
    mode.cleanup().await;
}

#[tokio::test]
async fn a_master_key_that_is_not_32_bytes_stops_start_up_before_anything_is_created() {
    let dir = latchkey_store::testing::TempDir::create();
    let data = dir.path.join("data");
    let env = vec![
        ("LATCHKEY_DATA_DIR".to_owned(), data.display().to_string()),
        ("LATCHKEY_MASTER_KEY".to_owned(), "c2hvcnQ=".to_owned()),
    ];
    let output = command(&["serve"], &env, &dir.path)
        .output()
        .await
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("LATCHKEY_MASTER_KEY: master key is invalid: must be 32 bytes"),
        "{stderr}"
    );
    assert!(!stderr.contains("c2hvcnQ="), "the key value is not echoed");
    assert!(!data.exists());
    dir.remove();
}

#[tokio::test]
async fn migrate_speaks_tls_to_postgres_and_names_the_setting_when_the_certificate_is_refused() {
    let mode = Mode::postgres().await;
    let Mode::Postgres { db, master_key } = &mode else {
        unreachable!()
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let ssl: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(
        ssl, "on",
        "scripts/test provides a Postgres that speaks TLS"
    );
    let dir = latchkey_store::testing::TempDir::create();
    let migrate = |params: String| {
        let separator = if db.url.contains('?') { '&' } else { '?' };
        let env = vec![
            (
                "LATCHKEY_DATABASE_URL".to_owned(),
                format!("{}{separator}{params}", db.url),
            ),
            ("LATCHKEY_MASTER_KEY".to_owned(), master_key.clone()),
        ];
        command(&["migrate"], &env, &dir.path).output()
    };
    let required = migrate("sslmode=require".to_owned()).await.expect("runs");
    assert!(
        required.status.success(),
        "{}",
        String::from_utf8_lossy(&required.stderr)
    );
    assert!(String::from_utf8_lossy(&required.stdout).contains("postgres migrations applied"));

    // A CA that signed nothing of the server's.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = params.self_signed(&key).unwrap();
    let wrong_ca = dir.path.join("wrong-ca.pem");
    std::fs::write(&wrong_ca, ca.pem()).unwrap();
    let refused = migrate(format!(
        "sslmode=verify-full&sslrootcert={}",
        wrong_ca.display()
    ))
    .await
    .expect("runs");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("LATCHKEY_DATABASE_URL") && stderr.contains("sslrootcert"),
        "{stderr}"
    );
    dir.remove();
    mode.cleanup().await;
}
