//! The token handling section on the wire.

use latchkey_domain::integration::{TokenHandling, TokenHandlingInput};
use latchkey_domain::{TokenPlacement, TokenResponseMapping};
use latchkey_proto::v1 as pb;

pub(super) fn input(c: &pb::IntegrationConfig) -> TokenHandlingInput {
    let token_placement = match c.token_placement.clone().and_then(|p| p.placement) {
        None => None,
        Some(pb::token_placement::Placement::Header(h)) => Some(TokenPlacement::Header {
            name: h.name,
            prefix: h.prefix,
        }),
        Some(pb::token_placement::Placement::Query(q)) => {
            Some(TokenPlacement::Query { param: q.param })
        }
    };
    TokenHandlingInput {
        token_placement,
        default_token_lifetime_secs: c.default_token_lifetime_secs,
        metadata_fields: c.metadata_fields.clone(),
        token_response: super::sorted(c.token_response.clone()),
        dpop: c.dpop,
    }
}

pub(super) fn fill(p: &TokenHandling, c: &mut pb::IntegrationConfig) {
    let placement = match &p.token_placement {
        TokenPlacement::Header { name, prefix } => {
            pb::token_placement::Placement::Header(pb::HeaderPlacement {
                name: name.clone(),
                prefix: prefix.clone(),
            })
        }
        TokenPlacement::Query { param } => {
            pb::token_placement::Placement::Query(pb::QueryPlacement {
                param: param.clone(),
            })
        }
    };
    c.token_placement = Some(pb::TokenPlacement {
        placement: Some(placement),
    });
    c.default_token_lifetime_secs = Some(p.default_token_lifetime_secs);
    c.metadata_fields = p.metadata_fields.clone();
    c.dpop = p.dpop;
    c.token_response = TokenResponseMapping::NAMES
        .iter()
        .filter_map(|name| {
            p.token_response
                .get(name)
                .map(|pointer| ((*name).to_owned(), pointer.to_owned()))
        })
        .collect();
}
