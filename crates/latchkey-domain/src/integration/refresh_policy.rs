//! The refresh policy section of a configuration: when tokens are refreshed, what a refresh token
//! in doubt may do, how long failures may last before the customer is asked, when a dying refresh
//! token is announced. Stored flat in the configuration's JSON (`#[serde(flatten)]`).

use serde::{Deserialize, Serialize};

use super::config::{IntegrationConfig, RefreshTokenReuse};
use crate::{FieldViolation, ValidationErrors};

/// How a connection's tokens are refreshed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshPolicy {
    /// How long before expiry a token is refreshed.
    pub refresh_margin_secs: u32,
    /// Refresh tokens die after this long unused at some providers; Latchkey refreshes before.
    #[serde(default)]
    pub refresh_token_max_idle_secs: Option<u32>,
    /// What a refresh token whose last send got no answer may do (the provider may have rotated
    /// it meanwhile).
    #[serde(default)]
    pub refresh_token_reuse: RefreshTokenReuse,
    /// How long refreshes may keep failing (retryable or not) before the connection asks for the
    /// customer (`reauthorization_required`, `refresh_failing`).
    #[serde(default = "default_failure_horizon")]
    pub refresh_failure_horizon_secs: u32,
    /// A `refresh_token_expiring` event is recorded this long before a refresh token's own
    /// expiry (when the provider says it); default 7 days.
    #[serde(default = "default_expiry_warning")]
    pub refresh_token_expiry_warning_secs: u32,
}

fn default_expiry_warning() -> u32 {
    IntegrationConfig::DEFAULT_EXPIRY_WARNING_SECS
}

fn default_failure_horizon() -> u32 {
    IntegrationConfig::DEFAULT_FAILURE_HORIZON_SECS
}

/// The refresh policy as a caller sent it; `None` takes the default.
#[derive(Debug, Clone, Default)]
pub struct RefreshPolicyInput {
    pub refresh_margin_secs: Option<u32>,
    pub refresh_token_max_idle_secs: Option<u32>,
    /// `never` (or empty), `within` (with `refresh_token_reuse_grace_secs`) or `always`.
    pub refresh_token_reuse: String,
    pub refresh_token_reuse_grace_secs: Option<u32>,
    pub refresh_failure_horizon_secs: Option<u32>,
    pub refresh_token_expiry_warning_secs: Option<u32>,
}

impl RefreshPolicyInput {
    /// The checked policy; each violation goes to `e` (then the policy returned is not used).
    pub fn parse(self, e: &mut ValidationErrors) -> RefreshPolicy {
        let refresh_margin_secs = self
            .refresh_margin_secs
            .unwrap_or(IntegrationConfig::DEFAULT_REFRESH_MARGIN_SECS);
        if refresh_margin_secs > IntegrationConfig::MAX_REFRESH_MARGIN_SECS {
            e.push(FieldViolation::new(
                "refresh_margin_secs",
                format!(
                    "must be at most {} seconds",
                    IntegrationConfig::MAX_REFRESH_MARGIN_SECS
                ),
            ));
        }
        if let Some(idle) = self.refresh_token_max_idle_secs
            && !(3600..=IntegrationConfig::MAX_TOKEN_LIFETIME_SECS * 10).contains(&idle)
        {
            e.push(FieldViolation::new(
                "refresh_token_max_idle_secs",
                "must be between one hour and ten years",
            ));
        }
        let refresh_failure_horizon_secs = self
            .refresh_failure_horizon_secs
            .unwrap_or(IntegrationConfig::DEFAULT_FAILURE_HORIZON_SECS);
        if !(1..=IntegrationConfig::MAX_FAILURE_HORIZON_SECS)
            .contains(&refresh_failure_horizon_secs)
        {
            e.push(FieldViolation::new(
                "refresh_failure_horizon_secs",
                "must be 1 second to 366 days",
            ));
        }
        let refresh_token_expiry_warning_secs = self
            .refresh_token_expiry_warning_secs
            .unwrap_or(IntegrationConfig::DEFAULT_EXPIRY_WARNING_SECS);
        if refresh_token_expiry_warning_secs > IntegrationConfig::MAX_TOKEN_LIFETIME_SECS {
            e.push(FieldViolation::new(
                "refresh_token_expiry_warning_secs",
                "must be at most 366 days",
            ));
        }
        RefreshPolicy {
            refresh_margin_secs,
            refresh_token_max_idle_secs: self.refresh_token_max_idle_secs,
            refresh_token_reuse: reuse(
                &self.refresh_token_reuse,
                self.refresh_token_reuse_grace_secs,
                e,
            ),
            refresh_failure_horizon_secs,
            refresh_token_expiry_warning_secs,
        }
    }
}

fn reuse(name: &str, grace: Option<u32>, e: &mut ValidationErrors) -> RefreshTokenReuse {
    match (name, grace) {
        ("" | "never", None) => RefreshTokenReuse::Never,
        ("always", None) => RefreshTokenReuse::Always,
        ("within", Some(grace_secs))
            if (1..=IntegrationConfig::MAX_REUSE_GRACE_SECS).contains(&grace_secs) =>
        {
            RefreshTokenReuse::Within { grace_secs }
        }
        ("within", _) => {
            e.push(FieldViolation::new(
                "refresh_token_reuse_grace_secs",
                "must be 1 second to one day with refresh_token_reuse within",
            ));
            RefreshTokenReuse::Never
        }
        ("" | "never" | "always", Some(_)) => {
            e.push(FieldViolation::new(
                "refresh_token_reuse_grace_secs",
                "goes only with refresh_token_reuse within",
            ));
            RefreshTokenReuse::Never
        }
        (other, _) => {
            e.push(FieldViolation::new(
                "refresh_token_reuse",
                format!(
                    "{other:?} is not one of {}",
                    RefreshTokenReuse::NAMES.join(", ")
                ),
            ));
            RefreshTokenReuse::Never
        }
    }
}
