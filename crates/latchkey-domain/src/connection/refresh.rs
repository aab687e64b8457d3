//! The rules of keeping a connection's tokens fresh, as pure functions over values: when to
//! refresh, whether a token is good for what a caller asks, how long to wait after a failure
//! (backoff, `Retry-After`), what a provider's refusal means, and when a failed refresh leaves an
//! expired token. The clock (`now`) and the randomness ([`Jitter`]) are arguments, so the service
//! draws them and these rules stay deterministic under test.

use chrono::{DateTime, Duration, Utc};

use super::decide::{apply, decide};
pub use super::refresh_token::CallOutcome;
use super::types::{Command, Event, State, Status};
use crate::{DomainError, EventMeta, IntegrationConfig, Sealed};

/// OAuth error codes that no retry can fix: the customer must authorize again.
pub const PERMANENT_ERRORS: &[&str] = &[
    "invalid_grant",
    "invalid_client",
    "unauthorized_client",
    "invalid_scope",
    "unsupported_grant_type",
    "access_denied",
    "invalid_request",
];

/// The reason recorded when refreshes kept failing past the integration's horizon.
pub const REFRESH_FAILING: &str = "refresh_failing";

/// The first wait after a failure; each further failure doubles it.
pub const BACKOFF_BASE: Duration = Duration::seconds(2);
/// The longest backoff, before jitter.
pub const BACKOFF_CAP: Duration = Duration::seconds(300);
/// The longest `Retry-After` honoured: a provider asking for more is asked again after this.
pub const MAX_RETRY_AFTER: Duration = Duration::seconds(24 * 3600);

/// A number drawn uniformly from `[0, 1]` by the caller; spreads waits and refreshes over a fleet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter(f64);

impl Jitter {
    /// No spread: the low end of every range.
    pub const NONE: Self = Self(0.0);
    /// The high end of every range.
    pub const FULL: Self = Self(1.0);

    /// `unit` clamped into `[0, 1]` (a NaN counts as 0).
    pub fn new(unit: f64) -> Self {
        Self(if unit.is_nan() {
            0.0
        } else {
            unit.clamp(0.0, 1.0)
        })
    }

    /// `min + (max - min) * self`.
    fn between(self, min: f64, max: f64) -> f64 {
        min + (max - min) * self.0
    }
}

/// What a caller needs from a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A token valid at least this long (`GetToken`).
    MinTtl(Duration),
    /// Whatever is due now (the refresher, and background refreshes).
    Due,
    /// A refresh now, whatever the token's age (`RefreshToken`).
    Force,
}

/// Whether the connection's token is active and lasts at least `min_ttl` from `now`.
pub fn good_for(state: &State, min_ttl: Duration, now: DateTime<Utc>) -> bool {
    state.status == Status::Active && state.expires_at.is_some_and(|at| at - now >= min_ttl)
}

/// How often a connection whose provider issues tokens shorter than a caller's `min_ttl` is asked
/// again for a token (its lifetime may have changed).
pub const LIFETIME_RECHECK: Duration = Duration::seconds(60);

/// The provider's token lifetime (from the current token's refresh to its expiry), when it is
/// shorter than `min_ttl` and that refresh was less than [`LIFETIME_RECHECK`] ago: no refresh now
/// can give a token that lasts `min_ttl`, so the caller is answered at once. A token from an
/// authorization is refreshed once first (the provider may issue longer-lived tokens on refresh),
/// so such callers cost at most one provider call a minute.
pub fn too_short_for(state: &State, min_ttl: Duration, now: DateTime<Utc>) -> Option<Duration> {
    let issued = state.refreshed_at?;
    let lifetime = state.expires_at? - issued;
    (lifetime < min_ttl && now - issued < LIFETIME_RECHECK).then_some(lifetime)
}

/// Whether the connection already gives what `need` asks for, so no refresh is needed.
pub fn satisfied(state: &State, need: Need, now: DateTime<Utc>) -> bool {
    match need {
        Need::MinTtl(min_ttl) => good_for(state, min_ttl, now),
        Need::Due => {
            let expired =
                state.status == Status::Active && state.expires_at.is_some_and(|at| at <= now);
            !expired && !is_due(state, now)
        }
        Need::Force => false,
    }
}

/// Whether a planned refresh (or a retry after a failure) is due at `now`.
pub fn is_due(state: &State, now: DateTime<Utc>) -> bool {
    state.refresh_at.is_some_and(|at| at <= now)
}

/// When an inline caller must not try again: after a retryable failure, until its retry time.
/// Proactive and forced refreshes are not held back.
pub fn retry_not_before(state: &State, need: Need, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let Need::MinTtl(_) = need else { return None };
    let error = state.last_error.as_ref()?;
    let at = state.refresh_at?;
    (error.retryable && at > now).then_some(at)
}

/// Whether tokens a refresh got are superseded: the connection no longer holds the refresh token
/// the refresh started from (`started_with`), because another refresh or a new consent committed
/// meanwhile. Such tokens are not committed over the newer ones: a refresh whose commit was held
/// up (a slow database) while another replica refreshed twice would put back a refresh token the
/// provider has rotated since (the refresh protocol's model found this, `tests/model.rs`).
pub fn superseded(started_with: Option<&Sealed>, latest: &State) -> bool {
    latest.refresh_token.as_ref() != started_with
}

/// Exponential backoff: 2 s, 4 s, 8 s… capped at 5 minutes, then spread ±25 % by `jitter`.
pub fn backoff(attempt: u32, jitter: Jitter) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    let base = (BACKOFF_BASE * 2i32.pow(doublings)).min(BACKOFF_CAP);
    let scaled = base.num_milliseconds() as f64 * jitter.between(0.75, 1.25);
    Duration::milliseconds(scaled.round() as i64)
}

/// A provider's `Retry-After`, clamped to [`MAX_RETRY_AFTER`] (and never negative), so no date
/// arithmetic on it can overflow.
pub fn retry_after(asked: Duration) -> Duration {
    asked.clamp(Duration::zero(), MAX_RETRY_AFTER)
}

/// How long to wait before the `attempt`th retry: the backoff, or the provider's (clamped)
/// `Retry-After` when it asks for longer.
pub fn retry_wait(attempt: u32, asked: Option<Duration>, jitter: Jitter) -> Duration {
    let wait = backoff(attempt, jitter);
    asked.map_or(wait, |asked| wait.max(retry_after(asked)))
}

/// When a refresh token that must be used every `max_idle_secs` should be used at the latest:
/// at nine tenths of its idle lifetime, so a late tick still finds it alive.
pub fn idle_deadline(now: DateTime<Utc>, max_idle_secs: u32) -> DateTime<Utc> {
    now + Duration::seconds(i64::from(max_idle_secs) * 9 / 10)
}

/// When to refresh tokens that expire at `expires_at`: before expiry by the integration's margin
/// (at most half the lifetime, for short-lived tokens), less up to a tenth of that lead by
/// `jitter` so a fleet spreads out, and before the refresh token would die unused.
pub fn refresh_at(
    config: &IntegrationConfig,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    has_refresh_token: bool,
    jitter: Jitter,
) -> DateTime<Utc> {
    let lifetime = (expires_at - now).max(Duration::zero());
    let lead = Duration::seconds(i64::from(config.refresh.refresh_margin_secs)).min(lifetime / 2);
    let spread = (lead.num_milliseconds() / 10) as f64;
    let at = expires_at - lead - Duration::milliseconds(jitter.between(0.0, spread) as i64);
    match (
        has_refresh_token,
        config.refresh.refresh_token_max_idle_secs,
    ) {
        (true, Some(idle)) => at.min(idle_deadline(now, idle)),
        _ => at,
    }
}

/// When a refresh token that dies at `dies_at` is to be announced (`refresh_token_expiring`):
/// the integration's warning before it.
pub fn expiry_warning_at(config: &IntegrationConfig, dies_at: DateTime<Utc>) -> DateTime<Utc> {
    dies_at - Duration::seconds(i64::from(config.refresh.refresh_token_expiry_warning_secs))
}

/// When to wake for tokens planned to refresh at `refresh_at` whose refresh token dies at
/// `dies_at`: no later than the warning, so the announcement is not late (the refresh then run
/// renews the refresh token at providers that roll it, and nothing needs announcing).
pub fn wake_at(
    config: &IntegrationConfig,
    refresh_at: Option<DateTime<Utc>>,
    dies_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match dies_at.map(|at| expiry_warning_at(config, at)) {
        Some(warn) if warn > now => Some(refresh_at.map_or(warn, |at| at.min(warn))),
        _ => refresh_at,
    }
}

/// What a commit of `tokens` on `state` must also say: the refresh token's death is within the
/// warning and was not announced yet.
pub fn expiry_warning(
    config: &IntegrationConfig,
    state: Option<&State>,
    tokens: &super::TokenSet,
    now: DateTime<Utc>,
) -> Option<super::Command> {
    let dies_at = match (&tokens.refresh_token, tokens.refresh_token_expires_at) {
        (_, Some(at)) => at,
        (None, None) => state?.refresh_token_expires_at?,
        (Some(_), None) => return None,
    };
    (now >= expiry_warning_at(config, dies_at)).then_some(super::Command::WarnRefreshTokenExpiry {
        expires_at: dies_at,
    })
}

/// When tokens from an answer with `expires_in` (or none: the integration's default lifetime)
/// expire, counted from `now`; a lifetime past the longest accepted is cut to it.
pub fn expires_at(
    config: &IntegrationConfig,
    now: DateTime<Utc>,
    expires_in: Option<u64>,
) -> DateTime<Utc> {
    let max = u64::from(IntegrationConfig::MAX_TOKEN_LIFETIME_SECS);
    let lifetime = expires_in
        .unwrap_or(u64::from(config.tokens.default_token_lifetime_secs))
        .min(max);
    now + Duration::seconds(i64::try_from(lifetime).unwrap_or(i64::from(u32::MAX)))
}

/// When a token from an answer ends: its lifetime counted from when the request was `sent` (an
/// answer read late does not lengthen it), or the end the token states itself (a JWT `exp`, an
/// `expires_at` field) when that is earlier. A stated end before the request was sent is a
/// clock apart from ours, not a dead token, and is ignored.
pub fn token_expires_at(
    config: &IntegrationConfig,
    sent: DateTime<Utc>,
    expires_in: Option<u64>,
    stated_end: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let counted = expires_at(config, sent, expires_in);
    match stated_end {
        Some(end) if end > sent && end < counted => end,
        _ => counted,
    }
}

/// What a refresh attempt got instead of tokens, as far as these rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedAttempt<'a> {
    /// An HTTP error answer, with the OAuth `error` code when the provider sent one.
    Answer {
        status: u16,
        error: Option<&'a str>,
        retry_after: Option<Duration>,
    },
    /// An answer that is not a usable token response.
    Unusable { status: u16 },
    /// No answer in time; `sent`: the request may have reached the provider.
    Timeout { sent: bool },
    /// The connection failed; `sent`: the request may have reached the provider.
    Network { sent: bool },
    /// Refused before sending by the outbound policy (scheme, private address).
    Refused,
    /// An ID token that does not hold up.
    InvalidIdToken,
}

impl FailedAttempt<'_> {
    /// What the attempt did to the refresh token it sent. An answer settles it, except a
    /// gateway's 502 or 504 (the provider behind it may have rotated the token) and a success
    /// status whose body could not be read (it may hold the new tokens); no answer after the
    /// request may have left leaves it in doubt.
    pub fn outcome(&self) -> CallOutcome {
        match *self {
            Self::Answer {
                status: 502 | 504, ..
            } => CallOutcome::NoAnswer,
            Self::Unusable { status } if (200..300).contains(&status) => CallOutcome::NoAnswer,
            Self::Answer { .. } | Self::Unusable { .. } | Self::Refused | Self::InvalidIdToken => {
                CallOutcome::Rejected
            }
            Self::Timeout { sent } | Self::Network { sent } => {
                if sent {
                    CallOutcome::NoAnswer
                } else {
                    CallOutcome::Rejected
                }
            }
        }
    }
}

/// What a failed refresh means for the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No retry can fix it: the customer must authorize again.
    Permanent { error: String },
    /// Worth trying again later (after at least `retry_after`, when the provider said so).
    Retryable {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Not a verdict on the grant, but retrying by itself will not help either.
    Stuck { error: String },
}

impl Failure {
    /// The code recorded on the connection.
    pub fn error(&self) -> &str {
        match self {
            Self::Permanent { error } | Self::Retryable { error, .. } | Self::Stuck { error } => {
                error
            }
        }
    }
}

/// Classifies a failed refresh the way providers mean their answers: the permanent OAuth errors
/// end the grant; 5xx, 429, timeouts, network errors and unusable answers are retried; any other
/// HTTP error is recorded and left alone.
pub fn classify(attempt: &FailedAttempt<'_>) -> Failure {
    let http = |status: u16, error: Option<&str>| {
        error.map_or_else(|| format!("http_{status}"), str::to_owned)
    };
    match *attempt {
        FailedAttempt::Answer {
            error: Some(code), ..
        } if PERMANENT_ERRORS.contains(&code) => Failure::Permanent {
            error: code.to_owned(),
        },
        FailedAttempt::Answer {
            status,
            error,
            retry_after,
        } if status >= 500 || status == 429 => Failure::Retryable {
            error: http(status, error),
            retry_after,
        },
        FailedAttempt::Answer { status, error, .. } => Failure::Stuck {
            error: http(status, error),
        },
        FailedAttempt::Timeout { .. } => Failure::Retryable {
            error: "timeout".to_owned(),
            retry_after: None,
        },
        FailedAttempt::Network { .. } => Failure::Retryable {
            error: "network".to_owned(),
            retry_after: None,
        },
        FailedAttempt::Unusable { .. } => Failure::Retryable {
            error: "invalid_response".to_owned(),
            retry_after: None,
        },
        FailedAttempt::Refused => Failure::Stuck {
            error: "refused".to_owned(),
        },
        FailedAttempt::InvalidIdToken => Failure::Stuck {
            error: "invalid_id_token".to_owned(),
        },
    }
}

/// The events a failed refresh records: `reauthorization_required` for a permanent failure, or
/// once refreshes have failed for `horizon` (`refresh_failing`); `refresh_failed` (retryable,
/// with its retry time, or not) otherwise; and `expired` after either when the token passed its
/// expiry with no replacement.
pub fn decide_failure(
    state: &State,
    failure: Failure,
    description: String,
    horizon: Duration,
    now: DateTime<Utc>,
    jitter: Jitter,
) -> Result<Vec<Event>, DomainError> {
    let failing_since = state.failing_since.unwrap_or(now);
    let command = match failure {
        Failure::Permanent { error } => Command::RequireReauthorization {
            error,
            description: Some(description),
        },
        Failure::Retryable { .. } | Failure::Stuck { .. } if now - failing_since >= horizon => {
            Command::RequireReauthorization {
                error: REFRESH_FAILING.to_owned(),
                description: Some(format!(
                    "refreshes have failed since {} (the integration gives up after {}s); the \
                     last: {description}",
                    failing_since.to_rfc3339(),
                    horizon.num_seconds()
                )),
            }
        }
        Failure::Retryable { error, retry_after } => {
            let attempt = state.consecutive_failures.saturating_add(1);
            Command::RecordRefreshFailure {
                error,
                description: Some(description),
                retryable: true,
                retry_at: Some(now + retry_wait(attempt, retry_after, jitter)),
            }
        }
        Failure::Stuck { error } => Command::RecordRefreshFailure {
            error,
            description: Some(description),
            retryable: false,
            retry_at: None,
        },
    };
    let mut events = decide(Some(state), command)?;
    if state.status == Status::Active && state.expires_at.is_some_and(|at| at <= now) {
        let meta = EventMeta {
            version: state.version + 1,
            occurred_at: now,
        };
        let after = events
            .iter()
            .try_fold(state.clone(), |s, e| apply(Some(s), e, &meta));
        if after.as_ref().is_some_and(|s| s.status == Status::Active) {
            events.extend(decide(after.as_ref(), Command::Expire { now })?);
        }
    }
    Ok(events)
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod tests;
