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

/// What the compose file gets wrong, if anything: a healthcheck whose tool its image does not
/// ship (per `compose_images.toml` and the Dockerfile), an image not in the list, OTEL settings on
/// a service outside the tracing profile.
fn compose_problems(
    compose: &serde_norway::Value,
    images: &toml::Value,
    dockerfile: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut built: Vec<String> = images["build"]["tools"]
        .as_array()
        .expect("[build] tools")
        .iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    // The last stage's `apt-get install` packages, each a tool of the same name.
    let last_stage = dockerfile.rsplit("\nFROM ").next().unwrap_or(dockerfile);
    for line in last_stage.split("&&") {
        if let Some(rest) = line.trim().strip_prefix("apt-get install") {
            built.extend(
                rest.split_whitespace()
                    .filter(|w| !w.starts_with('-') && *w != "\\")
                    .map(str::to_owned),
            );
        }
    }
    let services = compose["services"].as_mapping().expect("services");
    for (name, service) in services {
        let name = name.as_str().unwrap_or("?");
        let tools: Vec<String> = match (service["image"].as_str(), service.get("build")) {
            (Some(image), _) => match images["images"].get(image) {
                Some(entry) => entry["tools"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                None => {
                    problems.push(format!(
                        "{name}: image {image} is not in compose_images.toml"
                    ));
                    continue;
                }
            },
            (None, Some(_)) => built.clone(),
            (None, None) => {
                problems.push(format!("{name}: neither image nor build"));
                continue;
            }
        };
        if let Some(test) = service["healthcheck"]["test"].as_sequence() {
            let words: Vec<&str> = test.iter().filter_map(|w| w.as_str()).collect();
            let needed: Vec<&str> = match words.as_slice() {
                ["CMD", tool, ..] => vec![tool],
                ["CMD-SHELL", command, ..] => {
                    vec!["sh", command.split_whitespace().next().unwrap_or("")]
                }
                ["NONE", ..] => vec![],
                other => {
                    problems.push(format!(
                        "{name}: healthcheck {other:?} is not CMD or CMD-SHELL"
                    ));
                    vec![]
                }
            };
            for tool in needed {
                if !tools.iter().any(|t| t == tool) {
                    problems.push(format!(
                        "{name}: healthcheck runs {tool}, which its image lacks"
                    ));
                }
            }
        }
        let traced = service["environment"].as_mapping().is_some_and(|env| {
            env.keys()
                .any(|k| k.as_str().is_some_and(|k| k.starts_with("OTEL_")))
        });
        let in_tracing = service["profiles"]
            .as_sequence()
            .is_some_and(|p| p.iter().any(|p| p.as_str() == Some("tracing")));
        if traced && !in_tracing {
            problems.push(format!("{name}: OTEL settings outside the tracing profile"));
        }
    }
    problems
}

/// No Docker engine runs here: check each healthcheck against what its pinned image ships, that
/// tracing is only in its profile, and that every `LATCHKEY_*` variable is a real setting, which
/// the binary accepts.
#[tokio::test]
async fn the_compose_stack_would_start_its_healthchecks_exist_and_tracing_is_a_profile() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("docker-compose.yml")).unwrap();
    let compose: serde_norway::Value =
        serde_norway::from_str(&text).expect("docker-compose.yml parses");
    let images: toml::Value = toml::from_str(
        &std::fs::read_to_string(root.join("tests/blackbox/compose_images.toml")).unwrap(),
    )
    .unwrap();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    assert_eq!(
        compose_problems(&compose, &images, &dockerfile),
        Vec::<String>::new()
    );
    let services = compose["services"].as_mapping().expect("services");
    for name in [
        "postgres",
        "nats",
        "latchkey",
        "latchkey-traced",
        "jaeger",
        "postgres-dev",
        "nats-dev",
    ] {
        assert!(services.contains_key(name), "service {name}");
    }
    for (name, profile) in [
        ("postgres-dev", "dev"),
        ("nats-dev", "dev"),
        ("jaeger", "tracing"),
    ] {
        assert_eq!(
            compose["services"][name]["profiles"][0].as_str(),
            Some(profile)
        );
    }

    // The checks fail where the old file was wrong: wget in the scratch-based nats image, the
    // OTLP endpoint on the always-on service.
    let mut broken = compose.clone();
    broken["services"]["nats"]["image"] = "nats:2.11".into();
    let mut images_with_scratch_nats = images.clone();
    images_with_scratch_nats["images"]
        .as_table_mut()
        .unwrap()
        .insert(
            "nats:2.11".to_owned(),
            toml::Value::Table(toml::toml! { tools = ["nats-server"] }),
        );
    assert_eq!(
        compose_problems(&broken, &images_with_scratch_nats, &dockerfile),
        ["nats: healthcheck runs wget, which its image lacks"]
    );
    let mut broken = compose.clone();
    broken["services"]["latchkey"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] =
        "http://jaeger:4317".into();
    assert_eq!(
        compose_problems(&broken, &images, &dockerfile),
        ["latchkey: OTEL settings outside the tracing profile"]
    );
    let without_curl = dockerfile.replace(" curl", "");
    assert_eq!(
        compose_problems(&compose, &images, &without_curl),
        [
            "latchkey: healthcheck runs curl, which its image lacks",
            "latchkey-traced: healthcheck runs curl, which its image lacks"
        ]
    );

    let help = command(&["serve", "--help"], &[], &std::env::temp_dir())
        .output()
        .await
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    for service in ["latchkey", "latchkey-traced"] {
        let environment = compose["services"][service]["environment"]
            .as_mapping()
            .expect("latchkey's environment");
        let mut checked = 0;
        for (key, _) in environment {
            let key = key.as_str().unwrap();
            if !key.starts_with("LATCHKEY_") {
                continue;
            }
            // LATCHKEY_MASTER_KEY is read from the environment only (so it never shows in `ps`).
            assert!(
                help.contains(key) || key == "LATCHKEY_MASTER_KEY",
                "{key} is not a setting of `latchkey serve`"
            );
            checked += 1;
        }
        assert!(checked >= 8, "checked {checked} settings");
        // And the values parse: the binary accepts them, then fails only on what compose provides
        // (a Postgres host of its own).
        let mut env: Vec<(String, String)> = environment
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
            .filter(|(k, _)| k.starts_with("LATCHKEY_") && k != "LATCHKEY_MASTER_KEY")
            .collect();
        use secrecy::ExposeSecret;
        env.push((
            "LATCHKEY_MASTER_KEY".to_owned(),
            latchkey_crypto::MasterKey::generate()
                .to_base64()
                .expose_secret()
                .to_owned(),
        ));
        env.push(("LATCHKEY_GRPC_ADDR".to_owned(), "127.0.0.1:0".to_owned()));
        let output = tokio::time::timeout(
            Duration::from_secs(60),
            command(&["migrate"], &env, &std::env::temp_dir()).output(),
        )
        .await
        .unwrap()
        .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("invalid configuration"), "{stderr}");
    }
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
