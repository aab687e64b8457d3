//! The public HTTP listener's limits.

use clap::Args;

use super::non_empty;

#[derive(Debug, Clone, Default, Args)]
pub struct PublicSettings {
    /// Seconds a client of the public listener has to send a request's head before its
    /// connection is closed (slow clients, idle sockets). Default 10.
    #[arg(long, env = "LATCHKEY_HTTP_HEADER_TIMEOUT", value_name = "SECONDS")]
    pub http_header_timeout: Option<String>,
    /// Connections the public listener holds at once; more are closed as they come. Default 1024.
    #[arg(long, env = "LATCHKEY_HTTP_MAX_CONNECTIONS", value_name = "N")]
    pub http_max_connections: Option<String>,
}

/// The public listener's limits, checked.
#[derive(Debug, Clone, Copy)]
pub struct PublicConfig {
    pub header_timeout: std::time::Duration,
    pub max_connections: usize,
}

impl PublicSettings {
    /// `file`: the configuration file's values, below these.
    pub(super) fn resolve(
        self,
        file: (Option<u32>, Option<u32>),
        errors: &mut Vec<String>,
    ) -> PublicConfig {
        let mut number = |text: Option<String>,
                          from_file: Option<u32>,
                          default: u32,
                          name: &str,
                          range: std::ops::RangeInclusive<u32>| {
            let value = match non_empty(text) {
                Some(text) => text.trim().parse::<u32>().unwrap_or(u32::MAX),
                None => from_file.unwrap_or(default),
            };
            if range.contains(&value) {
                value
            } else {
                errors.push(format!(
                    "{name}: must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ));
                default
            }
        };
        PublicConfig {
            header_timeout: std::time::Duration::from_secs(u64::from(number(
                self.http_header_timeout,
                file.0,
                10,
                "LATCHKEY_HTTP_HEADER_TIMEOUT (--http-header-timeout)",
                1..=300,
            ))),
            max_connections: number(
                self.http_max_connections,
                file.1,
                1024,
                "LATCHKEY_HTTP_MAX_CONNECTIONS (--http-max-connections)",
                1..=100_000,
            ) as usize,
        }
    }
}
