//! The public HTTP listener's limits.

use clap::Args;
use serde::{Deserialize, Serialize};

use super::non_empty;

#[derive(Debug, Clone, Default, Args, Serialize, Deserialize)]
pub struct PublicSettings {
    /// Seconds a client of the public listener has to send a request's head, from the
    /// connection's opening or the previous answer on it, before its connection is closed (slow
    /// clients, idle sockets, idle keep-alive). Default 10.
    #[arg(long, env = "LATCHKEY_HTTP_HEADER_TIMEOUT", value_name = "SECONDS")]
    pub http_header_timeout: Option<String>,
    /// Connections the public listener holds at once; more are closed as they come. Default 1024.
    #[arg(long, env = "LATCHKEY_HTTP_MAX_CONNECTIONS", value_name = "N")]
    pub http_max_connections: Option<String>,
    /// Seconds a request (its body and its handling) may take on the public listener before it
    /// is answered 408 and its connection closed (slow bodies). Default 60: a callback's answer
    /// waits for the provider (LATCHKEY_PROVIDER_TIMEOUT, twice at most); the work goes on if it
    /// is cut.
    #[arg(long, env = "LATCHKEY_HTTP_REQUEST_TIMEOUT", value_name = "SECONDS")]
    pub http_request_timeout: Option<String>,
    /// Connections one client address may hold on the public listener at once (trusted proxies
    /// excepted). Default a quarter of LATCHKEY_HTTP_MAX_CONNECTIONS, at most 64.
    #[arg(
        long,
        env = "LATCHKEY_HTTP_MAX_CONNECTIONS_PER_ADDRESS",
        value_name = "N"
    )]
    pub http_max_connections_per_address: Option<String>,
    /// Proxies and load balancers (comma-separated addresses or CIDRs) whose `Forwarded` or
    /// `X-Forwarded-For` header names the client, for per-address limits and logs. Unset: those
    /// headers are ignored and the connection's address is the client.
    #[arg(long, env = "LATCHKEY_TRUSTED_PROXIES", value_name = "CIDRS")]
    pub trusted_proxies: Option<String>,
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
    pub request_timeout: std::time::Duration,
    pub max_connections_per_address: usize,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins that may frame the connect pages; empty: none.
    pub frame_ancestors: Vec<String>,
}

impl PublicSettings {
    pub(super) fn resolve(self, errors: &mut Vec<String>) -> PublicConfig {
        let per_address = self.http_max_connections_per_address.clone();
        let mut config = self.resolve_limits(errors);
        let default = (config.max_connections / 4).clamp(1, 64) as u32;
        let per_address = match non_empty(per_address) {
            None => default,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(n) if n >= 1 && n as usize <= config.max_connections => n,
                _ => {
                    errors.push(format!(
                        "LATCHKEY_HTTP_MAX_CONNECTIONS_PER_ADDRESS \
                         (--http-max-connections-per-address): must be a whole number from 1 \
                         to LATCHKEY_HTTP_MAX_CONNECTIONS ({})",
                        config.max_connections
                    ));
                    default
                }
            },
        };
        config.max_connections_per_address = per_address as usize;
        config
    }

    fn resolve_limits(self, errors: &mut Vec<String>) -> PublicConfig {
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
        let trusted_proxies = non_empty(self.trusted_proxies)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .filter_map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        errors.push(format!(
                            "LATCHKEY_TRUSTED_PROXIES (--trusted-proxies): {p:?} is not an \
                             address or a CIDR (10.0.0.0/8)"
                        ))
                    })
                    .ok()
            })
            .collect();
        let mut number = |text: Option<String>,
                          default: u32,
                          name: &str,
                          range: std::ops::RangeInclusive<u32>| {
            let value = match non_empty(text) {
                Some(text) => text.trim().parse::<u32>().unwrap_or(u32::MAX),
                None => default,
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
        let request_timeout = number(
            self.http_request_timeout,
            60,
            "LATCHKEY_HTTP_REQUEST_TIMEOUT (--http-request-timeout)",
            1..=600,
        );
        PublicConfig {
            frame_ancestors,
            trusted_proxies,
            request_timeout: std::time::Duration::from_secs(u64::from(request_timeout)),
            header_timeout: std::time::Duration::from_secs(u64::from(number(
                self.http_header_timeout,
                10,
                "LATCHKEY_HTTP_HEADER_TIMEOUT (--http-header-timeout)",
                1..=300,
            ))),
            max_connections: number(
                self.http_max_connections,
                1024,
                "LATCHKEY_HTTP_MAX_CONNECTIONS (--http-max-connections)",
                1..=100_000,
            ) as usize,
            max_connections_per_address: 0,
        }
    }
}
