//! The connect fields section on the wire.

use latchkey_domain::integration::{ConnectFields, ConnectFieldsInput, ConnectionParam};
use latchkey_proto::v1 as pb;

pub(super) fn input(c: &pb::IntegrationConfig) -> ConnectFieldsInput {
    ConnectFieldsInput {
        return_url_origins: c.return_url_origins.clone(),
        allowed_scopes: c.allowed_scopes.clone(),
        connection_params: c
            .connection_params
            .iter()
            .map(|p| ConnectionParam {
                name: p.name.clone(),
                pattern: p.pattern.clone(),
                label: p.label.clone(),
                description: p.description.clone(),
            })
            .collect(),
        callback_params: c.callback_params.clone(),
    }
}

pub(super) fn fill(p: &ConnectFields, c: &mut pb::IntegrationConfig) {
    c.return_url_origins = p.return_url_origins.clone();
    c.allowed_scopes = p
        .allowed_scopes
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    c.connection_params = p
        .connection_params
        .iter()
        .map(|p| pb::ConnectionParam {
            name: p.name.clone(),
            pattern: p.pattern.clone(),
            label: p.label.clone(),
            description: p.description.clone(),
        })
        .collect();
    c.callback_params = p.callback_params.clone();
}
