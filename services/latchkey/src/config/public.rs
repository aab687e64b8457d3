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
    /// Origins (comma-separated) that may show the hosted connect pages in a frame. Default
    /// none: the pages refuse to be framed (they take secrets; open them in a popup instead).
    #[arg(long, env = "LATCHKEY_CONNECT_FRAME_ANCESTORS", value_name = "ORIGINS")]
    pub connect_frame_ancestors: Option<String>,
}

/// The public listener's limits, checked.
#[derive(Debug, Clone)]
pub struct PublicConfig {
    pub header_timeout: std::time::Duration,
    pub max_connections: usize,
    /// Origins that may frame the connect pages; empty: none.
    pub frame_ancestors: Vec<String>,
}

impl PublicSettings {
    /// `file`: the configuration file's values, below these.
    pub(super) fn resolve(
        self,
        file: (Option<u32>, Option<u32>),
        errors: &mut Vec<String>,
    ) -> PublicConfig {
        let frame_ancestors = non_empty(self.connect_frame_ancestors)
            .unwrap_or_default()
            .split(',')
            .filter(|o| !o.trim().is_empty())
            .filter_map(|o| {
                latchkey_domain::parse_origin(
                    o,
                    "LATCHKEY_CONNECT_FRAME_ANCESTORS (--connect-frame-ancestors)",
                )
                .map_err(|v| errors.push(format!("{}: {o:?} {}", v.field, v.reason)))
                .ok()
            })
            .collect();
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
            frame_ancestors,
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
