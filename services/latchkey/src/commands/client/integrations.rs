//! `latchkey integrations create|list|show|update|delete|templates`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use latchkey_proto::v1 as pb;

use super::{Clients, Table, pairs, print_fields, read_secret, refused, time};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Grant {
    AuthorizationCode,
    ClientCredentials,
    Password,
    /// Service accounts (RFC 7523), connected with ConnectServiceAccount.
    JwtBearer,
    /// Device authorization (RFC 8628), started with `connect device`.
    DeviceCode,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ClientAuth {
    /// HTTP Basic header (RFC 6749 §2.3.1).
    Basic,
    /// client_id and client_secret in the form body.
    Body,
    /// A JWT signed with the client's private key (RFC 7523 §2.2); --client-secret-file is the
    /// PEM key.
    PrivateKeyJwt,
    /// Mutual TLS with a CA-issued certificate (RFC 8705); --client-secret-file is the PEM
    /// certificate and key.
    #[value(name = "tls-client-auth")]
    Tls,
    /// Mutual TLS with a self-signed certificate registered at the provider.
    #[value(name = "self-signed-tls-client-auth")]
    SelfSignedTls,
}

/// What an integration is; on update, only what is given changes.
#[derive(Debug, Clone, Default, Args)]
pub struct IntegrationFlags {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// The grant connections use. Default on create: the template's, else authorization-code.
    #[arg(long, value_enum)]
    pub grant_type: Option<Grant>,
    #[arg(long)]
    pub client_id: Option<String>,
    /// A file holding the client secret, `-` for standard input (never on the command line).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// A scope; repeat for several (replaces the list on update).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    #[arg(long)]
    pub authorization_url: Option<String>,
    #[arg(long)]
    pub token_url: Option<String>,
    #[arg(long)]
    pub revocation_url: Option<String>,
    #[arg(long)]
    pub base_uri: Option<String>,
    /// The provider's issuer (RFC 8414), for discovery and `iss` checks.
    #[arg(long)]
    pub issuer: Option<String>,
    #[arg(long, value_enum)]
    pub client_auth: Option<ClientAuth>,
    /// With --client-auth private-key-jwt: RS256 (default), PS256 or ES256.
    #[arg(long, value_name = "ALG")]
    pub client_assertion_algorithm: Option<String>,
    /// With --client-auth private-key-jwt: the assertions' aud, `issuer` or `token_url`.
    #[arg(long, value_name = "AUDIENCE")]
    pub client_assertion_audience: Option<String>,
    /// Push every authorization request here first (RFC 9126 PAR).
    #[arg(long, value_name = "URL")]
    pub pushed_authorization_url: Option<String>,
    /// The device authorization endpoint (RFC 8628), for --grant-type device-code.
    #[arg(long, value_name = "URL")]
    pub device_authorization_url: Option<String>,
    /// An extra token request parameter, key=value (e.g. audience=…); repeat for several.
    #[arg(long = "token-param", value_name = "KEY=VALUE")]
    pub token_params: Vec<String>,
    /// An extra authorization request parameter, key=value; repeat for several.
    #[arg(long = "authorization-param", value_name = "KEY=VALUE")]
    pub authorization_params: Vec<String>,
    /// An origin browsers may return to after an authorization (https://app.example.com);
    /// repeat for several (replaces the list on update).
    #[arg(long = "return-url-origin", value_name = "ORIGIN")]
    pub return_url_origins: Vec<String>,
    /// A host a URL whose host a connection parameter chooses may reach (gitlab.acme.com, or
    /// *.acme.com); repeat for several (replaces the list on update). Required with the
    /// integration's own client secret.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum IntegrationsAction {
    /// Create an integration, from a provider template, the issuer's metadata, or flags alone.
    Create {
        /// A provider template (see `latchkey integrations templates`).
        #[arg(long)]
        template: Option<String>,
        /// Fill the endpoints from the issuer's RFC 8414 / OpenID metadata (needs --issuer).
        #[arg(long)]
        discover: bool,
        /// The tenant whose own OAuth app this is (only its keys see it). Default: shared.
        #[arg(long)]
        owner_tenant: Option<String>,
        #[command(flatten)]
        flags: IntegrationFlags,
        #[arg(long)]
        json: bool,
        /// Print only the integration id.
        #[arg(long, short, conflicts_with = "json")]
        quiet: bool,
    },
    /// Every integration.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One integration (its secret only as a fingerprint).
    Show {
        integration: String,
        #[arg(long)]
        json: bool,
    },
    /// Change what the flags give; the rest stays.
    Update {
        integration: String,
        #[command(flatten)]
        flags: IntegrationFlags,
        /// Remove the client secret.
        #[arg(long, conflicts_with = "client_secret_file")]
        clear_client_secret: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete an integration; with live connections only with --force, which revokes them first.
    Delete {
        integration: String,
        #[arg(long)]
        force: bool,
        /// The outcome as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The provider templates this server knows.
    Templates {
        #[arg(long)]
        json: bool,
    },
}

impl IntegrationFlags {
    /// Applies the flags to `config`; the client secret is returned apart.
    fn apply(self, config: &mut pb::IntegrationConfig) -> anyhow::Result<Option<String>> {
        let set = |target: &mut String, value: Option<String>| {
            if let Some(value) = value {
                *target = value;
            }
        };
        set(&mut config.name, self.name);
        set(&mut config.description, self.description);
        set(&mut config.client_id, self.client_id);
        set(&mut config.authorization_url, self.authorization_url);
        set(&mut config.token_url, self.token_url);
        set(&mut config.revocation_url, self.revocation_url);
        set(&mut config.base_uri, self.base_uri);
        set(&mut config.issuer, self.issuer);
        set(
            &mut config.client_assertion_algorithm,
            self.client_assertion_algorithm,
        );
        set(
            &mut config.client_assertion_audience,
            self.client_assertion_audience,
        );
        set(
            &mut config.pushed_authorization_url,
            self.pushed_authorization_url,
        );
        set(
            &mut config.device_authorization_url,
            self.device_authorization_url,
        );
        if let Some(grant) = self.grant_type {
            config.grant_type = match grant {
                Grant::AuthorizationCode => pb::GrantType::AuthorizationCode,
                Grant::ClientCredentials => pb::GrantType::ClientCredentials,
                Grant::Password => pb::GrantType::Password,
                Grant::JwtBearer => pb::GrantType::JwtBearer,
                Grant::DeviceCode => pb::GrantType::DeviceCode,
            } as i32;
            config.allow_password_grant = matches!(grant, Grant::Password);
        }
        if let Some(auth) = self.client_auth {
            config.client_auth = match auth {
                ClientAuth::Basic => pb::ClientAuthMethod::BasicHeader,
                ClientAuth::Body => pb::ClientAuthMethod::RequestBody,
                ClientAuth::PrivateKeyJwt => pb::ClientAuthMethod::PrivateKeyJwt,
                ClientAuth::Tls => pb::ClientAuthMethod::TlsClientAuth,
                ClientAuth::SelfSignedTls => pb::ClientAuthMethod::SelfSignedTlsClientAuth,
            } as i32;
        }
        if !self.scopes.is_empty() {
            config.scopes = self.scopes;
        }
        if !self.return_url_origins.is_empty() {
            config.return_url_origins = self.return_url_origins;
        }
        if !self.allowed_hosts.is_empty() {
            config.allowed_hosts = self.allowed_hosts;
        }
        if !self.token_params.is_empty() {
            config.token_params = pairs(&self.token_params, "--token-param")?;
        }
        if !self.authorization_params.is_empty() {
            config.authorization_params =
                pairs(&self.authorization_params, "--authorization-param")?;
        }
        self.client_secret_file
            .map(|path| read_secret(&path, "--client-secret-file"))
            .transpose()
    }
}

/// A refusal of the integration's fields said with the flags the user typed: the server names
/// `config.grant_type`, the user wrote `--grant-type`.
fn refused_naming_flags(status: tonic::Status) -> anyhow::Error {
    if status.code() != tonic::Code::InvalidArgument {
        return refused(status);
    }
    let message = flag_names(status.message());
    refused(tonic::Status::new(status.code(), message))
}

/// `config.<field>` (and `client_secret`) in a server's message as the flag that sets it.
fn flag_names(message: &str) -> String {
    const FLAGS: [(&str, &str); 6] = [
        ("config.scopes", "--scope"),
        ("config.return_url_origins", "--return-url-origin"),
        ("config.allowed_hosts", "--allowed-host"),
        ("config.token_params", "--token-param"),
        ("config.authorization_params", "--authorization-param"),
        ("client_secret", "--client-secret-file"),
    ];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while !rest.is_empty() {
        if let Some((field, flag)) = FLAGS.iter().find(|(field, _)| rest.starts_with(field)) {
            out.push_str(flag);
            rest = &rest[field.len()..];
        } else if let Some(after) = rest.strip_prefix("config.") {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            out.push_str("--");
            out.push_str(&after[..end].replace('_', "-"));
            rest = &after[end..];
        } else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
    }
    out
}

fn integration_json(i: &pb::Integration) -> serde_json::Value {
    let c = i.config.clone().unwrap_or_default();
    serde_json::json!({
        "integration_id": i.integration_id,
        "name": c.name,
        "description": c.description,
        "grant_type": c.grant_type().as_str_name().trim_start_matches("GRANT_TYPE_"),
        "client_id": c.client_id,
        "has_client_secret": i.has_client_secret,
        "client_secret_fingerprint": i.client_secret_fingerprint,
        "scopes": c.scopes,
        "authorization_url": c.authorization_url,
        "token_url": c.token_url,
        "revocation_url": c.revocation_url,
        "base_uri": c.base_uri,
        "issuer": c.issuer,
        "client_auth": c.client_auth().as_str_name().trim_start_matches("CLIENT_AUTH_METHOD_"),
        "token_params": c.token_params,
        "return_url_origins": c.return_url_origins,
        "allowed_hosts": c.allowed_hosts,
        "authorization_params": c.authorization_params,
        "redirect_uri": i.effective_redirect_uri,
        "owner_tenant": i.owner_tenant,
        "version": i.version,
        "created_at": time(&i.created_at),
        "updated_at": time(&i.updated_at),
    })
}

fn print_one(i: &pb::Integration, json: bool) {
    let value = integration_json(i);
    if json {
        println!("{value}");
    } else {
        print_fields(&value);
    }
}

pub async fn run(clients: &Clients, action: IntegrationsAction) -> anyhow::Result<()> {
    let mut client = clients.integrations();
    match action {
        IntegrationsAction::Create {
            template,
            discover,
            owner_tenant,
            flags,
            json,
            quiet,
        } => {
            let mut config = pb::IntegrationConfig::default();
            let client_secret = flags.apply(&mut config)?.unwrap_or_default();
            // Without a template, the grant most integrations use, as --help says.
            if template.is_none() && config.grant_type == pb::GrantType::Unspecified as i32 {
                config.grant_type = pb::GrantType::AuthorizationCode as i32;
            }
            let created = client
                .create_integration(pb::CreateIntegrationRequest {
                    config: Some(config),
                    client_secret,
                    template: template.unwrap_or_default(),
                    discover,
                    webhook_secret: String::new(),
                    owner_tenant: owner_tenant.unwrap_or_default(),
                })
                .await
                .map_err(refused_naming_flags)?
                .into_inner();
            if quiet {
                println!("{}", created.integration_id);
            } else {
                print_one(&created, json);
            }
        }
        IntegrationsAction::List { json } => list(clients, json).await?,
        IntegrationsAction::Show { integration, json } => {
            let found = client
                .get_integration(pb::GetIntegrationRequest {
                    integration_id: integration,
                })
                .await
                .map_err(refused)?
                .into_inner();
            print_one(&found, json);
        }
        IntegrationsAction::Update {
            integration,
            flags,
            clear_client_secret,
            json,
        } => {
            let current = client
                .get_integration(pb::GetIntegrationRequest {
                    integration_id: integration.clone(),
                })
                .await
                .map_err(refused)?
                .into_inner();
            let mut config = current.config.unwrap_or_default();
            let client_secret = flags.apply(&mut config)?;
            let updated = client
                .update_integration(pb::UpdateIntegrationRequest {
                    integration_id: integration,
                    config: Some(config),
                    client_secret,
                    clear_client_secret,
                    // Refused if someone else changed it since it was read.
                    expected_version: Some(current.version),
                    ..Default::default()
                })
                .await
                .map_err(refused_naming_flags)?
                .into_inner();
            print_one(&updated, json);
        }
        IntegrationsAction::Delete {
            integration,
            force,
            json,
        } => {
            client
                .delete_integration(pb::DeleteIntegrationRequest {
                    integration_id: integration.clone(),
                    expected_version: None,
                    force,
                })
                .await
                .map_err(refused)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"integration_id": integration, "deleted": true})
                );
            } else {
                println!("deleted integration {integration}");
            }
        }
        IntegrationsAction::Templates { json } => templates(clients, json).await?,
    }
    Ok(())
}

/// `integrations templates`: the catalogue's names and descriptions.
async fn templates(clients: &Clients, json: bool) -> anyhow::Result<()> {
    let templates = clients
        .integrations()
        .list_templates(pb::ListTemplatesRequest {})
        .await
        .map_err(refused)?
        .into_inner()
        .templates;
    let mut table = Table::new(vec!["TEMPLATE", "DESCRIPTION"]);
    for t in &templates {
        if json {
            println!(
                "{}",
                serde_json::json!({"name": t.name, "description": t.description})
            );
        } else {
            table.row(vec![t.name.clone(), t.description.clone()]);
        }
    }
    if !json {
        table.print();
    }
    Ok(())
}

/// `integrations list`: every page, as a table or one JSON object a line.
async fn list(clients: &Clients, json: bool) -> anyhow::Result<()> {
    let mut client = clients.integrations();
    let mut table = Table::new(vec![
        "INTEGRATION",
        "NAME",
        "GRANT",
        "CLIENT ID",
        "SECRET",
        "VERSION",
        "UPDATED",
    ]);
    let mut page_token = String::new();
    loop {
        let page = client
            .list_integrations(pb::ListIntegrationsRequest {
                page_size: 1000,
                page_token: page_token.clone(),
            })
            .await
            .map_err(refused)?
            .into_inner();
        for i in &page.integrations {
            if json {
                println!("{}", integration_json(i));
                continue;
            }
            let c = i.config.clone().unwrap_or_default();
            table.row(vec![
                i.integration_id.clone(),
                c.name.clone(),
                c.grant_type()
                    .as_str_name()
                    .trim_start_matches("GRANT_TYPE_")
                    .to_owned(),
                c.client_id.clone(),
                if i.has_client_secret { "yes" } else { "no" }.to_owned(),
                i.version.to_string(),
                time(&i.updated_at),
            ]);
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    if !json {
        table.print();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_servers_field_names_are_said_as_the_flags_that_set_them() {
        assert_eq!(
            super::flag_names("config.grant_type: required; config.scopes[0] is empty"),
            "--grant-type: required; --scope[0] is empty"
        );
        assert_eq!(
            super::flag_names("client_secret: not a PEM key (config.client_auth)"),
            "--client-secret-file: not a PEM key (--client-auth)"
        );
        assert_eq!(super::flag_names("no field here"), "no field here");
    }
}
