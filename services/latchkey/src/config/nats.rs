//! NATS settings: where events are published, how the stream is kept, how the relay logs in.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::sources::secret_or_file;

#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
pub struct NatsSettings {
    /// NATS URL for event publication (JetStream). Unset: no publication.
    #[arg(
        long,
        env = "LATCHKEY_NATS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub nats_url: Option<String>,
    /// File holding the NATS URL (a mounted secret), instead of LATCHKEY_NATS_URL.
    #[arg(long, env = "LATCHKEY_NATS_URL_FILE", value_name = "FILE")]
    pub nats_url_file: Option<PathBuf>,
    /// JetStream stream name.
    #[arg(long, env = "LATCHKEY_NATS_STREAM", value_name = "NAME")]
    pub nats_stream: Option<String>,
    /// Subject prefix.
    #[arg(long, env = "LATCHKEY_NATS_SUBJECT_PREFIX", value_name = "PREFIX")]
    pub nats_subject_prefix: Option<String>,
    /// Replicas of the stream (1 to 5). A new stream gets it (default 1); an existing stream is
    /// raised to it, never lowered.
    #[arg(long, env = "LATCHKEY_NATS_STREAM_REPLICAS", value_name = "N")]
    pub nats_stream_replicas: Option<String>,
    /// Seconds the stream keeps an event, 0 for ever. A new stream: default 7 days; an existing
    /// stream keeps its own unless this is set.
    #[arg(long, env = "LATCHKEY_NATS_STREAM_MAX_AGE", value_name = "SECONDS")]
    pub nats_stream_max_age: Option<String>,
    /// Bytes the stream keeps at most (oldest events go first), 0 for no limit. A new stream:
    /// no limit; an existing stream keeps its own unless this is set.
    #[arg(long, env = "LATCHKEY_NATS_STREAM_MAX_BYTES", value_name = "BYTES")]
    pub nats_stream_max_bytes: Option<String>,
    /// A NATS credentials file (JWT and NKey seed, `.creds`).
    #[arg(long, env = "LATCHKEY_NATS_CREDS_FILE", value_name = "FILE")]
    pub nats_creds_file: Option<PathBuf>,
    /// An NKey seed (`SU…`) to log in with.
    #[arg(
        long,
        env = "LATCHKEY_NATS_NKEY_SEED",
        value_name = "SEED",
        hide_env_values = true
    )]
    pub nats_nkey_seed: Option<String>,
    /// File holding the NKey seed, instead of LATCHKEY_NATS_NKEY_SEED.
    #[arg(long, env = "LATCHKEY_NATS_NKEY_SEED_FILE", value_name = "FILE")]
    pub nats_nkey_seed_file: Option<PathBuf>,
    /// A PEM CA certificate to trust for NATS over TLS (TLS is then required).
    #[arg(long, env = "LATCHKEY_NATS_TLS_CA", value_name = "FILE")]
    pub nats_tls_ca: Option<PathBuf>,
    /// A PEM client certificate for NATS (with LATCHKEY_NATS_TLS_KEY).
    #[arg(long, env = "LATCHKEY_NATS_TLS_CERT", value_name = "FILE")]
    pub nats_tls_cert: Option<PathBuf>,
    /// The PEM private key of LATCHKEY_NATS_TLS_CERT.
    #[arg(long, env = "LATCHKEY_NATS_TLS_KEY", value_name = "FILE")]
    pub nats_tls_key: Option<PathBuf>,
}

/// How the relay publishes, when NATS is configured.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// May hold a user and password: never printed.
    pub url: SecretString,
    pub stream: String,
    pub subject_prefix: String,
    pub stream_limits: StreamLimits,
    pub login: NatsLogin,
    pub tls_ca: Option<PathBuf>,
    /// Client certificate and key.
    pub tls_client: Option<(PathBuf, PathBuf)>,
}

/// What the operator asked of the stream; `None` keeps an existing stream's own value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamLimits {
    pub replicas: Option<usize>,
    /// `Some(ZERO)`: for ever.
    pub max_age: Option<Duration>,
    /// `Some(-1)`: no limit.
    pub max_bytes: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub enum NatsLogin {
    /// The URL's own user and password or token, if any.
    #[default]
    Url,
    CredsFile(PathBuf),
    NkeySeed(SecretString),
}

impl NatsSettings {
    /// Validates for a command that needs NATS on its own (`webhooks replay`): every problem in
    /// one message, naming the settings.
    pub fn resolve_alone(self) -> Result<NatsConfig, String> {
        let mut errors = Vec::new();
        let config = self.resolve(&mut errors);
        match config {
            Some(config) if errors.is_empty() => Ok(config),
            None if errors.is_empty() => Err(
                "LATCHKEY_NATS_URL (--nats-url): required, the NATS the relay publishes to"
                    .to_owned(),
            ),
            _ => Err(errors.join("; ")),
        }
    }

    /// Validates; every problem goes to `errors`, naming the setting (never a secret value).
    pub(super) fn resolve(self, errors: &mut Vec<String>) -> Option<NatsConfig> {
        let url = secret_or_file(
            self.nats_url,
            self.nats_url_file,
            ("LATCHKEY_NATS_URL", "--nats-url"),
            ("LATCHKEY_NATS_URL_FILE", "--nats-url-file"),
            errors,
        )
        .and_then(|text| match Url::parse(&text) {
            Ok(url) if matches!(url.scheme(), "nats" | "tls" | "ws" | "wss") => {
                Some(SecretString::from(text))
            }
            _ => {
                // The value may hold credentials: name the setting, not the value.
                errors.push(
                    "LATCHKEY_NATS_URL (--nats-url): must be a nats://, tls://, ws:// or wss:// URL"
                        .to_owned(),
                );
                None
            }
        });

        let stream = self
            .nats_stream
            .unwrap_or_else(|| "LATCHKEY_EVENTS".to_owned());
        if stream.len() > 64
            || !stream
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            errors.push(format!(
                "LATCHKEY_NATS_STREAM (--nats-stream): {stream:?} is not a stream name (letters, \
                 digits, '_' and '-')"
            ));
        }
        let subject_prefix = self
            .nats_subject_prefix
            .unwrap_or_else(|| "latchkey.v1".to_owned());
        if !subject_prefix.split('.').all(|token| {
            !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }) {
            errors.push(format!(
                "LATCHKEY_NATS_SUBJECT_PREFIX (--nats-subject-prefix): {subject_prefix:?} is not \
                 dot-separated subject tokens"
            ));
        }

        let stream_limits = stream_limits(
            (
                self.nats_stream_replicas,
                self.nats_stream_max_age,
                self.nats_stream_max_bytes,
            ),
            errors,
        );

        let seed = secret_or_file(
            self.nats_nkey_seed,
            self.nats_nkey_seed_file,
            ("LATCHKEY_NATS_NKEY_SEED", "--nats-nkey-seed"),
            ("LATCHKEY_NATS_NKEY_SEED_FILE", "--nats-nkey-seed-file"),
            errors,
        );
        let login = login(self.nats_creds_file, seed, errors);

        let mut readable = |path: &Option<PathBuf>, name: &str| {
            if let Some(path) = path
                && let Err(e) = std::fs::metadata(path)
            {
                errors.push(format!("{name}: cannot read {}: {e}", path.display()));
            }
        };
        readable(&self.nats_tls_ca, "LATCHKEY_NATS_TLS_CA (--nats-tls-ca)");
        readable(
            &self.nats_tls_cert,
            "LATCHKEY_NATS_TLS_CERT (--nats-tls-cert)",
        );
        readable(&self.nats_tls_key, "LATCHKEY_NATS_TLS_KEY (--nats-tls-key)");
        let tls_client = match (self.nats_tls_cert, self.nats_tls_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                errors.push(
                    "LATCHKEY_NATS_TLS_CERT and LATCHKEY_NATS_TLS_KEY: set both or neither"
                        .to_owned(),
                );
                None
            }
        };

        url.map(|url| NatsConfig {
            url,
            stream,
            subject_prefix,
            stream_limits,
            login,
            tls_ca: self.nats_tls_ca,
            tls_client,
        })
    }
}

/// Who Latchkey logs in as: a credentials file, an NKey seed, or what the URL says.
fn login(creds_file: Option<PathBuf>, seed: Option<String>, errors: &mut Vec<String>) -> NatsLogin {
    match (creds_file, seed) {
        (Some(_), Some(_)) => {
            errors.push(
                "LATCHKEY_NATS_CREDS_FILE (--nats-creds-file): set either it or an NKey seed \
                 (LATCHKEY_NATS_NKEY_SEED), not both"
                    .to_owned(),
            );
            NatsLogin::Url
        }
        (Some(path), None) => {
            if let Err(e) = std::fs::metadata(&path) {
                errors.push(format!(
                    "LATCHKEY_NATS_CREDS_FILE (--nats-creds-file): cannot read {}: {e}",
                    path.display()
                ));
            }
            NatsLogin::CredsFile(path)
        }
        (None, Some(seed)) => {
            if !seed.starts_with("SU") {
                errors.push(
                    "LATCHKEY_NATS_NKEY_SEED (--nats-nkey-seed): is not a user NKey seed \
                     (it starts with SU)"
                        .to_owned(),
                );
            }
            NatsLogin::NkeySeed(SecretString::from(seed))
        }
        (None, None) => NatsLogin::Url,
    }
}

/// The stream's replicas, age and size, each checked.
fn stream_limits(
    (replicas, max_age, max_bytes): (Option<String>, Option<String>, Option<String>),
    errors: &mut Vec<String>,
) -> StreamLimits {
    let mut number = |text: Option<String>, name: &str, range: std::ops::RangeInclusive<u64>| {
        let text = text?;
        match text.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                errors.push(format!(
                    "{name}: {text:?} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ));
                None
            }
        }
    };
    StreamLimits {
        replicas: number(
            replicas,
            "LATCHKEY_NATS_STREAM_REPLICAS (--nats-stream-replicas)",
            1..=5,
        )
        .and_then(|n| usize::try_from(n).ok()),
        max_age: number(
            max_age,
            "LATCHKEY_NATS_STREAM_MAX_AGE (--nats-stream-max-age)",
            0..=100 * 365 * 24 * 3600,
        )
        .map(Duration::from_secs),
        max_bytes: number(
            max_bytes,
            "LATCHKEY_NATS_STREAM_MAX_BYTES (--nats-stream-max-bytes)",
            0..=i64::MAX as u64,
        )
        .map(|n| if n == 0 { -1 } else { n as i64 }),
    }
}
