//! Hosted connect sessions: a platform asks for a one-time link for one customer (a tenant), the
//! customer opens it in a browser, picks an integration and connects. The link's secret and the
//! browser's cookie are held as digests only; the rules of when a session may be opened live
//! here, pure: the caller passes the time and the digests in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ConnectSessionId, ConnectionId, DomainError, EventMeta, IntegrationId, TenantId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// One event per session's creation, moved into the append at once: its size costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    ConnectSessionCreated {
        session_id: ConnectSessionId,
        tenant: TenantId,
        /// The integrations the customer may pick from, in the order shown.
        integration_ids: Vec<IntegrationId>,
        /// Where the browser goes at the end (already checked against the allow-list).
        return_url: Option<String>,
        /// A session that re-authorizes this connection ("Reconnect X").
        connection_id: Option<ConnectionId>,
        expires_at: DateTime<Utc>,
        /// SHA-256 (hex) of the link's one-time secret.
        link_digest: String,
        /// The profile of the connection the customer makes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profile: Option<crate::connection::Profile>,
        /// How many connections the session may make; it ends with the last.
        #[serde(default = "one")]
        max_connections: u32,
        /// The customer's language and the platform's face on this session's pages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        appearance: Option<Appearance>,
    },
    /// The link was opened: it is spent, and this browser (its cookie's digest) owns the session.
    ConnectSessionOpened { browser_digest: String },
    /// A connection was made (or re-authorized) through the session.
    ConnectSessionConnected { connection_id: ConnectionId },
    /// An attempt on the session's pages failed, as the customer was told (the session's id is
    /// the reference they were given): the provider's or Latchkey's error code.
    ConnectSessionFailed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        integration_id: Option<IntegrationId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        connection_id: Option<ConnectionId>,
        error: String,
    },
}

/// An error code as a session's failure records it: at most 64 of `[A-Za-z0-9_.-]`, else
/// `unrecognized` (a provider's `error` parameter is whatever the browser brought).
pub fn failure_code(code: &str) -> String {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        code.to_owned()
    } else {
        "unrecognized".to_owned()
    }
}

fn one() -> u32 {
    1
}

/// The most connections one session may be created for.
pub const MAX_CONNECTIONS: u32 = 100;

impl Event {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::ConnectSessionCreated { .. } => "connect_session_created",
            Self::ConnectSessionOpened { .. } => "connect_session_opened",
            Self::ConnectSessionConnected { .. } => "connect_session_connected",
            Self::ConnectSessionFailed { .. } => "connect_session_failed",
        }
    }

    pub fn schema_version(&self) -> u32 {
        1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub id: ConnectSessionId,
    pub tenant: TenantId,
    pub integration_ids: Vec<IntegrationId>,
    pub return_url: Option<String>,
    pub connection_id: Option<ConnectionId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub link_digest: String,
    pub browser_digest: Option<String>,
    pub profile: Option<crate::connection::Profile>,
    #[serde(default = "one")]
    pub max_connections: u32,
    /// The connections made through it, in order.
    #[serde(default)]
    pub connected: Vec<ConnectionId>,
    #[serde(default)]
    pub appearance: Option<Appearance>,
    /// The connections whose failure the session recorded (each once).
    #[serde(default)]
    pub failed: Vec<ConnectionId>,
    pub version: u64,
}

/// A session's language and its override of the platform's face on the connect pages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appearance {
    /// A language tag whose primary language the pages speak (`de`, `fr-CA`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_name: Option<String>,
    /// `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    /// `https:` or `mailto:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
}

/// The languages the connect pages speak.
pub const LOCALES: [&str; 5] = ["en", "de", "fr", "es", "ja"];

impl Appearance {
    /// Checks each field (naming it under `appearance.`); `None` when nothing is set.
    pub fn checked(self) -> Result<Option<Self>, crate::FieldViolation> {
        let blank = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let appearance = Self {
            locale: blank(self.locale),
            platform_name: blank(self.platform_name),
            accent_color: blank(self.accent_color),
            support_url: blank(self.support_url),
        };
        let invalid = |field: &str, why: &str| {
            Err(crate::FieldViolation::new(
                format!("appearance.{field}"),
                why.to_owned(),
            ))
        };
        if let Some(locale) = &appearance.locale {
            let primary = locale
                .split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if !LOCALES.contains(&primary.as_str()) {
                return invalid("locale", &format!("the pages speak {}", LOCALES.join(", ")));
            }
        }
        if let Some(name) = &appearance.platform_name
            && (name.chars().count() > 80 || name.chars().any(char::is_control))
        {
            return invalid(
                "platform_name",
                "at most 80 characters, no control characters",
            );
        }
        if let Some(colour) = &appearance.accent_color
            && !(colour.len() == 7
                && colour.starts_with('#')
                && colour[1..].bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return invalid("accent_color", "a colour as #rrggbb");
        }
        if let Some(url) = &appearance.support_url {
            let ok = url::Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "https" | "mailto") && url.len() <= 2000);
            if !ok {
                return invalid("support_url", "an https: or mailto: URL");
            }
        }
        Ok((appearance != Self::default()).then_some(appearance))
    }
}

/// Folds one event; no rules, no failure.
pub fn apply(state: Option<State>, event: &Event, meta: &EventMeta) -> Option<State> {
    match (state, event) {
        (
            None,
            Event::ConnectSessionCreated {
                session_id,
                tenant,
                integration_ids,
                return_url,
                connection_id,
                expires_at,
                link_digest,
                profile,
                max_connections,
                appearance,
            },
        ) => Some(State {
            id: *session_id,
            tenant: tenant.clone(),
            integration_ids: integration_ids.clone(),
            return_url: return_url.clone(),
            connection_id: *connection_id,
            created_at: meta.occurred_at,
            expires_at: *expires_at,
            link_digest: link_digest.clone(),
            browser_digest: None,
            profile: profile.clone(),
            max_connections: *max_connections,
            connected: Vec::new(),
            appearance: appearance.clone(),
            failed: Vec::new(),
            version: meta.version,
        }),
        (Some(mut s), Event::ConnectSessionOpened { browser_digest }) => {
            s.browser_digest = Some(browser_digest.clone());
            s.version = meta.version;
            Some(s)
        }
        (Some(mut s), Event::ConnectSessionConnected { connection_id }) => {
            s.connected.push(*connection_id);
            s.version = meta.version;
            Some(s)
        }
        (Some(mut s), Event::ConnectSessionFailed { connection_id, .. }) => {
            s.failed.extend(*connection_id);
            s.version = meta.version;
            Some(s)
        }
        (state, _) => state,
    }
}

/// Whether the session may make another connection: it ends with its `max_connections`th.
pub fn may_connect(state: &State) -> Result<(), Refusal> {
    if state.connected.len() >= state.max_connections as usize {
        Err(Refusal::Finished)
    } else {
        Ok(())
    }
}

/// The number of connections a session is created for: 1 unless asked, at most
/// [`MAX_CONNECTIONS`].
pub fn max_connections(asked: Option<u32>) -> Result<u32, DomainError> {
    match asked.unwrap_or(1) {
        n @ 1..=MAX_CONNECTIONS => Ok(n),
        _ => Err(DomainError::Invalid(
            crate::FieldViolation::new(
                "max_connections",
                format!("must be between 1 and {MAX_CONNECTIONS}"),
            )
            .into(),
        )),
    }
}

/// Why a link cannot be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Opened before (in this browser or another): links are one-time.
    AlreadyUsed,
    Expired,
    /// No such session, or the secret does not match: told apart from nothing.
    Unknown,
    /// It made the connections it was created for.
    Finished,
}

/// Opening the link: allowed once, before it expires, with the link's secret.
pub fn open(
    state: Option<&State>,
    link_digest: &str,
    browser_digest: String,
    now: DateTime<Utc>,
) -> Result<Event, Refusal> {
    let state = state.ok_or(Refusal::Unknown)?;
    if !constant_time_eq(state.link_digest.as_bytes(), link_digest.as_bytes()) {
        return Err(Refusal::Unknown);
    }
    if state.browser_digest.is_some() {
        return Err(Refusal::AlreadyUsed);
    }
    if now >= state.expires_at {
        return Err(Refusal::Expired);
    }
    Ok(Event::ConnectSessionOpened { browser_digest })
}

/// Whether the browser that presents `browser_digest` owns the session, and it is still live.
pub fn owned_by(state: &State, browser_digest: &str, now: DateTime<Utc>) -> Result<(), Refusal> {
    match &state.browser_digest {
        Some(owner) if constant_time_eq(owner.as_bytes(), browser_digest.as_bytes()) => {
            if now >= state.expires_at {
                Err(Refusal::Expired)
            } else {
                Ok(())
            }
        }
        _ => Err(Refusal::Unknown),
    }
}

/// A session's lifetime: the asked one within bounds.
pub fn lifetime(asked_secs: Option<u64>) -> Result<chrono::Duration, DomainError> {
    const DEFAULT: u64 = 30 * 60;
    const MAX: u64 = 24 * 3600;
    let secs = asked_secs.unwrap_or(DEFAULT);
    if !(60..=MAX).contains(&secs) {
        return Err(DomainError::Invalid(
            crate::FieldViolation::new("ttl", "must be between 60 seconds and 24 hours").into(),
        ));
    }
    Ok(chrono::Duration::seconds(secs as i64))
}

/// Whether two digests are the same, in constant time.
pub fn same_digest(a: &str, b: &str) -> bool {
    !a.is_empty() && constant_time_eq(a.as_bytes(), b.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(expires_in: i64) -> State {
        let meta = EventMeta::at_version(1);
        let event = Event::ConnectSessionCreated {
            session_id: ConnectSessionId::new_v7(),
            tenant: TenantId::parse("acme").unwrap(),
            integration_ids: vec![IntegrationId::new_v7()],
            return_url: None,
            connection_id: None,
            expires_at: meta.occurred_at + chrono::Duration::seconds(expires_in),
            link_digest: "aa".repeat(32),
            profile: None,
            max_connections: 1,
            appearance: None,
        };
        apply(None, &event, &meta).unwrap()
    }

    #[test]
    fn a_link_opens_once_before_it_expires_and_only_with_its_secret() {
        let state = created(600);
        let now = state.created_at;
        let opened = open(Some(&state), &"aa".repeat(32), "b1".into(), now).unwrap();
        let state = apply(Some(state), &opened, &EventMeta::at_version(2)).unwrap();
        assert_eq!(
            open(Some(&state), &"aa".repeat(32), "b2".into(), now),
            Err(Refusal::AlreadyUsed)
        );
        assert_eq!(owned_by(&state, "b1", now), Ok(()));
        assert_eq!(owned_by(&state, "b2", now), Err(Refusal::Unknown));

        let fresh = created(600);
        assert_eq!(
            open(Some(&fresh), &"bb".repeat(32), "b".into(), now),
            Err(Refusal::Unknown)
        );
        assert_eq!(open(None, "x", "b".into(), now), Err(Refusal::Unknown));
        let later = fresh.expires_at;
        assert_eq!(
            open(Some(&fresh), &"aa".repeat(32), "b".into(), later),
            Err(Refusal::Expired)
        );
    }

    #[test]
    fn a_session_ends_with_its_last_connection() {
        let state = created(600);
        assert_eq!(may_connect(&state), Ok(()));
        let connected = Event::ConnectSessionConnected {
            connection_id: ConnectionId::new_v7(),
        };
        let state = apply(Some(state), &connected, &EventMeta::at_version(2)).unwrap();
        assert_eq!(may_connect(&state), Err(Refusal::Finished));
        let several = State {
            max_connections: 3,
            appearance: None,
            ..state
        };
        assert_eq!(may_connect(&several), Ok(()));
        assert_eq!(max_connections(None).unwrap(), 1);
        assert!(max_connections(Some(0)).is_err());
        assert!(max_connections(Some(MAX_CONNECTIONS + 1)).is_err());
    }

    #[test]
    fn a_sessions_lifetime_is_bounded() {
        assert_eq!(lifetime(None).unwrap(), chrono::Duration::minutes(30));
        assert!(lifetime(Some(59)).is_err());
        assert!(lifetime(Some(86_401)).is_err());
        assert_eq!(lifetime(Some(3600)).unwrap(), chrono::Duration::hours(1));
    }
}
