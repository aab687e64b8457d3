//! The refresh policy section on the wire (the proto keeps its fields flat).

use latchkey_domain::RefreshTokenReuse;
use latchkey_domain::integration::{RefreshPolicy, RefreshPolicyInput};
use latchkey_proto::v1 as pb;

pub(super) fn input(c: &pb::IntegrationConfig) -> RefreshPolicyInput {
    RefreshPolicyInput {
        refresh_margin_secs: c.refresh_margin_secs,
        refresh_token_max_idle_secs: c.refresh_token_max_idle_secs,
        refresh_token_reuse: c.refresh_token_reuse.clone(),
        refresh_token_reuse_grace_secs: c.refresh_token_reuse_grace_secs,
        refresh_failure_horizon_secs: c.refresh_failure_horizon_secs,
        refresh_token_expiry_warning_secs: c.refresh_token_expiry_warning_secs,
    }
}

pub(super) fn fill(p: &RefreshPolicy, c: &mut pb::IntegrationConfig) {
    c.refresh_margin_secs = Some(p.refresh_margin_secs);
    c.refresh_token_max_idle_secs = p.refresh_token_max_idle_secs;
    c.refresh_token_reuse = p.refresh_token_reuse.as_str().to_owned();
    c.refresh_token_reuse_grace_secs = match p.refresh_token_reuse {
        RefreshTokenReuse::Within { grace_secs } => Some(grace_secs),
        _ => None,
    };
    c.refresh_failure_horizon_secs = Some(p.refresh_failure_horizon_secs);
    c.refresh_token_expiry_warning_secs = Some(p.refresh_token_expiry_warning_secs);
}
