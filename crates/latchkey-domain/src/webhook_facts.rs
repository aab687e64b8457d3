//! What a provider file says of the provider's webhooks (`[webhook]` in `providers/*.toml`):
//! how they are signed, read and routed, which URL to register and which secret to paste.
//! `docs/WEBHOOKS.md`'s provider section is generated from them ([`webhooks_markdown`]).

use serde::Deserialize;

use crate::delivery::{Handshake, WebhookRouting};
use crate::webhook::{WebhookKind, WebhookScheme};

/// One provider's webhook facts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFacts {
    /// The provider's page on verifying its webhooks.
    pub docs: String,
    /// Where the platform registers which Latchkey URL.
    pub register: String,
    /// Which secret to give as the integration's (or the connection's) webhook secret.
    pub secret: String,
    /// How deliveries find their connection, in words.
    pub routes: String,
    pub kind: WebhookKind,
    #[serde(default)]
    pub signature_header: String,
    #[serde(default)]
    pub prefix: String,
    #[serde(default = "hex")]
    pub encoding: String,
    #[serde(default)]
    pub timestamp_header: String,
    #[serde(default)]
    pub template: String,
    #[serde(default)]
    pub tolerance_secs: u32,
    #[serde(default)]
    pub algorithm: String,
    #[serde(default)]
    pub token_from: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub jwks_url: String,
    #[serde(default)]
    pub event_type_from: String,
    #[serde(default)]
    pub delivery_id_from: String,
    #[serde(default)]
    pub routing_key_from: String,
    #[serde(default)]
    pub match_on: String,
    #[serde(default)]
    pub handshake: Handshake,
    #[serde(default)]
    pub form_bodies_are_actions: bool,
    #[serde(default)]
    pub action_ack: String,
}

fn hex() -> String {
    "hex".to_owned()
}

impl WebhookFacts {
    pub fn scheme(&self) -> WebhookScheme {
        WebhookScheme {
            kind: self.kind.clone(),
            signature_header: self.signature_header.clone(),
            prefix: self.prefix.clone(),
            encoding: self.encoding.clone(),
            timestamp_header: self.timestamp_header.clone(),
            template: self.template.clone(),
            tolerance_secs: self.tolerance_secs,
            account_pointer: String::new(),
            algorithm: self.algorithm.clone(),
            token_from: self.token_from.clone(),
            audience: self.audience.clone(),
            jwks_url: self.jwks_url.clone(),
        }
    }

    pub fn routing(&self) -> WebhookRouting {
        WebhookRouting {
            event_type_from: self.event_type_from.clone(),
            delivery_id_from: self.delivery_id_from.clone(),
            routing_key_from: self.routing_key_from.clone(),
            match_on: self.match_on.clone(),
            handshake: self.handshake,
            form_bodies_are_actions: self.form_bodies_are_actions,
            action_ack: self.action_ack.clone(),
            rate_per_second: 0,
        }
    }

    fn how_signed(&self) -> String {
        let header = |name: &str| format!("`{name}`");
        match self.kind {
            WebhookKind::HmacBody => format!(
                "HMAC-{} of the body, {} in {}",
                if self.algorithm == "sha1" {
                    "SHA1"
                } else {
                    "SHA256"
                },
                self.encoding,
                header(&self.signature_header)
            ),
            WebhookKind::HmacTimestamped => format!(
                "HMAC-SHA256 of `{}` ({} s), {}",
                self.template,
                self.tolerance_secs,
                header(&self.signature_header)
            ),
            WebhookKind::Stripe => format!(
                "`t=…,v1=…` in {} over `{{t}}.{{body}}` ({} s)",
                header(&self.signature_header),
                self.tolerance_secs
            ),
            WebhookKind::StandardWebhooks => "Standard Webhooks (`whsec_` secret)".to_owned(),
            WebhookKind::HubspotV3 => format!(
                "v3: HMAC-SHA256 of method, URL, body and timestamp ({} s)",
                self.tolerance_secs
            ),
            WebhookKind::Twilio => "HMAC-SHA1 of URL and sorted form parameters".to_owned(),
            WebhookKind::SharedToken => format!("shared token at `{}`", self.token_from),
            WebhookKind::GoogleOidc => {
                "OIDC JWT (`Authorization: Bearer`), Google's keys".to_owned()
            }
            WebhookKind::Ed25519 => format!(
                "Ed25519 in {} over timestamp and body",
                header(&self.signature_header)
            ),
        }
    }
}

/// The provider section of `docs/WEBHOOKS.md`, as the files say it: each template's name,
/// display name and webhook facts.
pub fn webhooks_markdown(with: &[(&str, &str, &WebhookFacts)]) -> String {
    let mut out = format!(
        "{} templates carry their webhook settings (generated from `providers/*.toml`; a test \
         fails when this section is stale: `LATCHKEY_WRITE_WEBHOOKS_MD=1 cargo test -p \
         latchkey-domain webhooks_md`).\n\n",
        with.len()
    );
    for &(name, display_name, w) in with {
        let handshake = match w.handshake {
            Handshake::None => "none".to_owned(),
            other => format!("`{}`", other.as_str()),
        };
        let event_type = if w.event_type_from.is_empty() {
            "—".to_owned()
        } else {
            format!("`{}`", w.event_type_from)
        };
        let delivery_id = if w.delivery_id_from.is_empty() {
            "the body's SHA-256".to_owned()
        } else {
            format!("`{}`", w.delivery_id_from)
        };
        out.push_str(&format!(
            "### {} (`{}`)\n\n\
             - **Register**: {}\n\
             - **Secret**: {}\n\
             - **Verified by**: {}\n\
             - **Handshake**: {handshake}\n\
             - **Routes**: {}\n\
             - **Event type**: {event_type}; **delivery id**: {delivery_id}{}\n\
             - **Provider docs**: <{}>\n\n",
            display_name,
            name,
            w.register,
            w.secret,
            w.how_signed(),
            w.routes,
            if w.form_bodies_are_actions {
                "; form-encoded deliveries are `action_received`"
            } else {
                ""
            },
            w.docs,
        ));
    }
    out
}
