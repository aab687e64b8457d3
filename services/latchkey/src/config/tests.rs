//! Settings: every invalid one named, the sources in their order, the embedded default.

use super::*;
use latchkey_crypto::MasterKey;
use secrecy::ExposeSecret;

#[test]
fn no_configuration_is_the_embedded_default() {
    let config = Settings::default().resolve(None).unwrap();
    assert_eq!(config.grpc_addr.to_string(), DEFAULT_GRPC_ADDR);
    assert_eq!(config.http_addr.to_string(), DEFAULT_HTTP_ADDR);
    assert!(
        matches!(config.storage, Storage::Sqlite { ref path } if path.ends_with("latchkey-data/latchkey.db"))
    );
    assert!(matches!(
        config.master_key,
        Some(MasterKeySource::Generated(_))
    ));
}

#[test]
fn every_invalid_setting_is_named() {
    let settings = Settings {
        grpc_addr: Some("nowhere".to_owned()),
        http_addr: Some("1.2.3.4".to_owned()),
        public_url: Some("ftp://x".to_owned()),
        database_url: Some("mysql://root:hunter2@db/x".to_owned()),
        nats: NatsSettings {
            nats_url: Some("http://nats".to_owned()),
            ..Default::default()
        },
        log: Some("[".to_owned()),
        ..Default::default()
    };
    let errors = settings.resolve(None).unwrap_err().0;
    let names: Vec<&str> = errors
        .iter()
        .map(|e| e.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "LATCHKEY_GRPC_ADDR",
            "LATCHKEY_HTTP_ADDR",
            "LATCHKEY_PUBLIC_URL",
            "LATCHKEY_DATABASE_URL",
            "LATCHKEY_NATS_URL",
            "LATCHKEY_MASTER_KEY",
            "LATCHKEY_LOG",
        ]
    );
    assert!(!errors.iter().any(|e| e.contains("hunter2")), "{errors:?}");
}

#[test]
fn the_file_is_below_flags_and_environment() {
    let dir = std::env::temp_dir().join(format!("latchkey-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("latchkey.toml");
    std::fs::write(
        &file,
        "grpc_addr = \"127.0.0.1:6000\"\nhttp_addr = \"127.0.0.1:6001\"\n",
    )
    .unwrap();
    let config = Settings {
        config: Some(file.clone()),
        http_addr: Some("127.0.0.1:7001".to_owned()),
        ..Default::default()
    }
    .resolve(None)
    .unwrap();
    assert_eq!(config.grpc_addr.to_string(), "127.0.0.1:6000");
    assert_eq!(config.http_addr.to_string(), "127.0.0.1:7001");
    std::fs::write(&file, "grpc_adr = \"x\"\n").unwrap();
    let errors = Settings {
        config: Some(file),
        ..Default::default()
    }
    .resolve(None)
    .unwrap_err();
    assert!(errors.0[0].starts_with("LATCHKEY_CONFIG"), "{errors}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn postgres_needs_a_master_key() {
    let settings = || Settings {
        database_url: Some("postgres://localhost/latchkey".to_owned()),
        ..Default::default()
    };
    let errors = settings().resolve(None).unwrap_err();
    assert!(errors.0[0].starts_with("LATCHKEY_MASTER_KEY"));
    let bad = settings()
        .resolve(Some(SecretString::from("c2hvcnQ=")))
        .unwrap_err();
    assert!(
        bad.0[0].starts_with("LATCHKEY_MASTER_KEY: master key is invalid: must be 32 bytes, got 5"),
        "{bad}"
    );
    let key = MasterKey::generate().to_base64();
    let config = settings().resolve(Some(key)).unwrap();
    assert!(matches!(config.master_key, Some(MasterKeySource::Env(_))));
}

#[test]
fn the_database_url_can_come_from_a_file_and_the_pool_size_is_a_setting() {
    let dir = std::env::temp_dir().join(format!("latchkey-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret_file = dir.join("database-url");
    std::fs::write(&secret_file, "postgres://latchkey:hunter2@db/latchkey\n").unwrap();
    let from_file = Settings {
        database_url_file: Some(secret_file.clone()),
        database_pool_size: Some("40".to_owned()),
        ..Default::default()
    }
    .resolve(Some(MasterKey::generate().to_base64()))
    .unwrap();
    let Storage::Postgres { url } = &from_file.storage else {
        panic!("postgres from the file")
    };
    assert_eq!(
        url.expose_secret(),
        "postgres://latchkey:hunter2@db/latchkey"
    );
    assert_eq!(from_file.database_pool_size, 40);
    assert_eq!(
        Settings::default()
            .resolve(None)
            .unwrap()
            .database_pool_size,
        super::default_database_pool_size()
    );
    assert!(super::default_database_pool_size() >= 4);

    let both = Settings {
        database_url: Some("postgres://db/latchkey".to_owned()),
        database_url_file: Some(secret_file),
        database_pool_size: Some("0".to_owned()),
        ..Default::default()
    }
    .resolve(Some(MasterKey::generate().to_base64()))
    .unwrap_err()
    .0;
    assert!(
        both[0].starts_with("LATCHKEY_DATABASE_URL_FILE"),
        "{both:?}"
    );
    assert!(
        both.iter()
            .any(|e| e.starts_with("LATCHKEY_DATABASE_POOL_SIZE")),
        "{both:?}"
    );
    let missing = Settings {
        database_url_file: Some(dir.join("nowhere")),
        ..Default::default()
    }
    .resolve(None)
    .unwrap_err()
    .0;
    assert!(
        missing[0].starts_with("LATCHKEY_DATABASE_URL_FILE"),
        "{missing:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_nats_url_that_is_refused_is_not_repeated_in_the_error() {
    let errors = Settings {
        nats: NatsSettings {
            nats_url: Some("http://latchkey:s3cret@nats:4222".to_owned()),
            ..Default::default()
        },
        ..Default::default()
    }
    .resolve(None)
    .unwrap_err()
    .0;
    assert!(errors[0].starts_with("LATCHKEY_NATS_URL"), "{errors:?}");
    assert!(!errors.iter().any(|e| e.contains("s3cret")), "{errors:?}");
}

#[test]
fn nats_settings_are_checked_and_name_the_setting_never_the_secret() {
    let dir = std::env::temp_dir().join(format!("latchkey-nats-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed_file = dir.join("seed");
    std::fs::write(&seed_file, "SUACANARYSEEDVALUE\n").unwrap();
    let settings = Settings {
        nats: NatsSettings {
            nats_url: Some("nats://user:pw-canary@nats:4222".to_owned()),
            nats_stream_replicas: Some("7".to_owned()),
            nats_stream_max_age: Some("a week".to_owned()),
            nats_creds_file: Some(dir.join("missing.creds")),
            nats_nkey_seed_file: Some(seed_file.clone()),
            nats_tls_cert: Some(seed_file.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let errors = settings.resolve(None).unwrap_err().0;
    let names: Vec<&str> = errors
        .iter()
        .map(|e| e.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "LATCHKEY_NATS_STREAM_REPLICAS",
            "LATCHKEY_NATS_STREAM_MAX_AGE",
            "LATCHKEY_NATS_CREDS_FILE",
            "LATCHKEY_NATS_TLS_CERT",
        ],
        "{errors:?}"
    );
    assert!(
        !errors
            .iter()
            .any(|e| e.contains("canary") || e.contains("CANARY")),
        "{errors:?}"
    );

    // The seed from its file, the stream limits as asked; unset limits keep an existing stream's.
    let config = Settings {
        nats: NatsSettings {
            nats_url: Some("nats://nats:4222".to_owned()),
            nats_stream_replicas: Some("3".to_owned()),
            nats_stream_max_bytes: Some("0".to_owned()),
            nats_nkey_seed_file: Some(seed_file),
            ..Default::default()
        },
        ..Default::default()
    }
    .resolve(None)
    .unwrap();
    let nats = config.nats.unwrap();
    assert!(
        matches!(&nats.login, NatsLogin::NkeySeed(seed) if seed.expose_secret() == "SUACANARYSEEDVALUE")
    );
    assert_eq!(
        nats.stream_limits,
        StreamLimits {
            replicas: Some(3),
            max_age: None,
            max_bytes: Some(-1),
        }
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn commands_that_open_no_secret_need_no_master_key_and_the_server_does() {
    let postgres = || Settings {
        database_url: Some("postgres://auditor@db/latchkey".to_owned()),
        migrate: Some("false".to_owned()),
        ..Default::default()
    };
    let config = postgres().resolve_for(None, NeedsMasterKey::No).unwrap();
    assert!(config.master_key.is_none());
    assert!(!config.migrate);
    let errors = postgres().resolve(None).unwrap_err().0;
    assert!(errors[0].starts_with("LATCHKEY_MASTER_KEY"), "{errors:?}");
    // The embedded default generates no key file for such a command either.
    let embedded = Settings::default()
        .resolve_for(None, NeedsMasterKey::No)
        .unwrap();
    assert!(embedded.master_key.is_none());
    assert!(embedded.migrate);
    let errors = Settings {
        migrate: Some("sometimes".to_owned()),
        ..Default::default()
    }
    .resolve(None)
    .unwrap_err()
    .0;
    assert!(errors[0].starts_with("LATCHKEY_MIGRATE"), "{errors:?}");
}

#[test]
fn the_public_listeners_limits_and_trusted_proxies_are_checked_and_named() {
    let settings = |per_address: &str, proxies: &str| Settings {
        public: super::public::PublicSettings {
            http_max_connections: Some("100".to_owned()),
            http_max_connections_per_address: Some(per_address.to_owned()),
            trusted_proxies: Some(proxies.to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    let config = settings("", "10.0.0.0/8, 192.0.2.7").resolve(None).unwrap();
    assert_eq!(config.public.max_connections_per_address, 25, "a quarter");
    assert_eq!(config.public.request_timeout.as_secs(), 60);
    assert_eq!(config.public.trusted_proxies.len(), 2);
    let errors = settings("101", "10.0.0.0/33, proxy.internal")
        .resolve(None)
        .unwrap_err()
        .0;
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors[0].starts_with("LATCHKEY_TRUSTED_PROXIES"),
        "{errors:?}"
    );
    assert!(
        errors[2].starts_with("LATCHKEY_HTTP_MAX_CONNECTIONS_PER_ADDRESS"),
        "{errors:?}"
    );
}

#[test]
fn the_file_names_every_setting_as_the_flags_do_numbers_lists_and_switches_included() {
    let dir = std::env::temp_dir().join(format!("latchkey-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("latchkey.toml");
    std::fs::write(
        &file,
        "refresh_rate = 7\nmetrics_connections = true\n\
         return_url_origins = [\"https://app.example.com\", \"https://admin.example.com\"]\n\
         http_request_timeout = 30\nnats_stream = \"FROM_FILE\"\n\
         nats_url = \"nats://127.0.0.1:4222\"\n",
    )
    .unwrap();
    let config = Settings {
        config: Some(file.clone()),
        ..Default::default()
    }
    .resolve(None)
    .unwrap();
    assert_eq!(config.refresh_rate.get(), 7);
    assert!(config.metrics_connections);
    assert_eq!(config.return_url_origins.len(), 2);
    assert_eq!(config.public.request_timeout.as_secs(), 30);
    assert_eq!(config.nats.as_ref().unwrap().stream, "FROM_FILE");
    // A value the file gives is checked as the environment's would be, naming the setting.
    std::fs::write(&file, "refresh_rate = 0\n").unwrap();
    let errors = Settings {
        config: Some(file.clone()),
        ..Default::default()
    }
    .resolve(None)
    .unwrap_err();
    assert!(errors.0[0].starts_with("LATCHKEY_REFRESH_RATE"), "{errors}");
    std::fs::write(&file, "refresh_rates = 7\n").unwrap();
    let errors = Settings {
        config: Some(file),
        ..Default::default()
    }
    .resolve(None)
    .unwrap_err();
    assert!(
        errors.0[0].contains("unknown setting `refresh_rates`"),
        "{errors}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
