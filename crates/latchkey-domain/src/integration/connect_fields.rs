//! The connect fields section of a configuration: what a connection brings and what its customer
//! may ask for: connection parameters, values captured from the provider's redirect, the origins
//! a browser may return to, the scopes a connection may ask for. Stored flat in the
//! configuration's JSON (`#[serde(flatten)]`).

use serde::{Deserialize, Serialize};

use super::config::IntegrationConfig;
use super::params::{ConnectionParam, check_param_name, parse_connection_params};
use crate::{FieldViolation, Scope, ValidationErrors};

/// What a connection brings and may ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectFields {
    /// Origins a customer's browser may be sent back to after an authorization (`return_url`),
    /// besides `LATCHKEY_RETURN_URL_ORIGINS`.
    #[serde(default)]
    pub return_url_origins: Vec<String>,
    /// When set, every scope a connection asks for must be one of these (and so must the
    /// integration's own `scopes`).
    #[serde(default)]
    pub allowed_scopes: Vec<Scope>,
    /// Values each connection brings, used as `{name}` in the URLs (Shopify's `shop`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connection_params: Vec<ConnectionParam>,
    /// Parameters of the provider's redirect kept as the connection's metadata and usable as
    /// `{name}` in the URLs called after it (QuickBooks' `realmId`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub callback_params: Vec<String>,
}

/// The connect fields as a caller sent them.
#[derive(Debug, Clone, Default)]
pub struct ConnectFieldsInput {
    pub return_url_origins: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub connection_params: Vec<ConnectionParam>,
    pub callback_params: Vec<String>,
}

impl ConnectFieldsInput {
    /// The checked section; each violation goes to `e`.
    pub fn parse(self, e: &mut ValidationErrors) -> ConnectFields {
        let allowed_scopes = match Scope::parse_list(
            &self.allowed_scopes,
            "allowed_scopes",
            IntegrationConfig::MAX_SCOPES,
        ) {
            Ok(allowed) => allowed,
            Err(errors) => {
                e.0.extend(errors.0);
                Vec::new()
            }
        };
        if self.return_url_origins.len() > 32 {
            e.push(FieldViolation::new(
                "return_url_origins",
                "at most 32 origins",
            ));
        }
        let return_url_origins: Vec<String> = self
            .return_url_origins
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                e.check(crate::parse_origin(o, &format!("return_url_origins[{i}]")))
            })
            .collect();
        let connection_params =
            parse_connection_params(self.connection_params, "connection_params", e);
        check_callback_params(&self.callback_params, &connection_params, e);
        ConnectFields {
            return_url_origins,
            allowed_scopes,
            connection_params,
            callback_params: self.callback_params,
        }
    }
}

fn check_callback_params(names: &[String], params: &[ConnectionParam], e: &mut ValidationErrors) {
    if names.len() > ConnectionParam::MAX_PARAMS {
        e.push(FieldViolation::new(
            "callback_params",
            format!("at most {} parameters", ConnectionParam::MAX_PARAMS),
        ));
    }
    for (i, name) in names.iter().enumerate() {
        let field = format!("callback_params[{i}]");
        e.check(check_param_name(name, &field));
        if params.iter().any(|p| &p.name == name) {
            e.push(FieldViolation::new(field, "is also a connection parameter"));
        } else if ["code", "state", "error", "error_description", "iss"].contains(&name.as_str()) {
            e.push(FieldViolation::new(
                field,
                "is read by the authorization itself",
            ));
        }
    }
}
