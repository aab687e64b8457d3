//! The endpoints section on the wire.

use latchkey_domain::ProviderUrl;
use latchkey_domain::integration::{Endpoints, EndpointsInput, RevocationShape};
use latchkey_proto::v1 as pb;

pub(super) fn input(c: &pb::IntegrationConfig) -> EndpointsInput {
    EndpointsInput {
        authorization_url: c.authorization_url.clone(),
        pushed_authorization_url: c.pushed_authorization_url.clone(),
        device_authorization_url: c.device_authorization_url.clone(),
        token_url: c.token_url.clone(),
        revocation_url: c.revocation_url.clone(),
        revocation: c.revocation.clone().map(|r| RevocationShape {
            method: r.method,
            body: r.body,
            body_format: r.body_format,
            auth: r.auth,
            token: r.token,
        }),
        base_uri: c.base_uri.clone(),
        redirect_uri: c.redirect_uri.clone(),
        issuer: c.issuer.clone(),
        require_iss: c.require_iss,
        allowed_hosts: c.allowed_hosts.clone(),
    }
}

fn text(url: &Option<ProviderUrl>) -> String {
    url.as_ref()
        .map(|u| u.as_str().to_owned())
        .unwrap_or_default()
}

pub(super) fn fill(p: &Endpoints, c: &mut pb::IntegrationConfig) {
    c.authorization_url = text(&p.authorization_url);
    c.pushed_authorization_url = text(&p.pushed_authorization_url);
    c.device_authorization_url = text(&p.device_authorization_url);
    c.token_url = p.token_url.as_str().to_owned();
    c.revocation_url = text(&p.revocation_url);
    c.revocation = p.revocation.as_ref().map(|r| pb::RevocationRequest {
        method: r.method.clone(),
        body: r.body.clone(),
        body_format: r.body_format.clone(),
        auth: r.auth.clone(),
        token: r.token.clone(),
    });
    c.base_uri = text(&p.base_uri);
    c.redirect_uri = text(&p.redirect_uri);
    c.issuer = text(&p.issuer);
    c.require_iss = p.require_iss;
    c.allowed_hosts = p.allowed_hosts.clone();
}
