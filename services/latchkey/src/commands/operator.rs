//! The operator's local commands on the service's own credentials: master keys (rotate, drop)
//! and API keys (create, list, revoke). They work on the database directly, not through a
//! server, and record what they do in the `system-keys` stream, as the operator named by `USER`.

use anyhow::Context as _;
use clap::Subcommand;
use latchkey_store::{EventContext, Migrations};

use super::client::usage;
use crate::app::open_store;
use crate::config::Config;

/// The actor of the events an operator command records: `operator:<login>`.
fn operator() -> EventContext {
    let login = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|l| !l.is_empty() && l.len() <= 64 && l.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| "unknown".to_owned());
    EventContext::now(format!("operator:{login}"))
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// List master keys, the active one first, with how many data keys each wraps.
    List,
    /// Make a new master key active and re-wrap every data key with it (no event is rewritten).
    Rotate,
    /// Remove a retired master key once it wraps no data key.
    Drop { id: String },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyAction {
    /// Create a key and print it once; only its hash is stored.
    Create {
        /// What the key is for.
        #[arg(long)]
        name: String,
        /// The one tenant the key may see; without it the key sees every tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// reader (GetToken and reads), manager (also connect, refresh, revoke, delete, import)
        /// or admin (everything its scope allows). Default: admin without --tenant, manager with.
        #[arg(long)]
        role: Option<String>,
        /// Days until the key stops working. Default: it does not expire.
        #[arg(long, value_name = "DAYS")]
        expires_in: Option<u32>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id; it stops working within a second.
    Revoke { id: String },
}

pub async fn master_keys(config: &Config, action: KeysAction) -> anyhow::Result<()> {
    use crate::keys::{file_keys, key_file, write_key_file};
    use latchkey_crypto::{Keyring, MasterKey, Sealer};
    use latchkey_store::WrappedKey;
    let source = config
        .master_key
        .as_ref()
        .ok_or_else(|| usage("LATCHKEY_MASTER_KEY_FILE: key rotation needs it".to_owned()))?;
    let path = key_file(source)?.to_path_buf();
    let opened = open_store(config, Migrations::Check).await?;
    let store = opened.store;
    let result = async {
        let keys = file_keys(&path)?;
        match action {
            KeysAction::List => {
                for (i, key) in keys.iter().enumerate() {
                    let wraps = store.data_keys_wrapped_by(key.id(), 1000).await?.len();
                    let role = if i == 0 { "active" } else { "retired" };
                    println!("{}\t{role}\t{wraps}{} data keys", key.id(), if wraps == 1000 { "+" } else { "" });
                }
                Ok(())
            }
            KeysAction::Rotate => {
                let new = MasterKey::generate();
                let new_id = new.id().to_owned();
                let old: Vec<String> = keys.iter().map(|k| k.id().to_owned()).collect();
                let mut all = vec![new];
                all.extend(keys);
                write_key_file(&path, &all)?;
                eprintln!("master key {new_id} is active; running servers pick it up within seconds");
                let sealer = Sealer::new(Keyring::from_keys(all).context("empty keyring")?);
                let mut rewrapped = 0usize;
                for old_id in &old {
                    loop {
                        let batch = store.data_keys_wrapped_by(old_id, 500).await?;
                        if batch.is_empty() {
                            break;
                        }
                        for (owner, wrapped) in batch {
                            let stream: latchkey_domain::StreamId =
                                owner.parse().map_err(|e: String| anyhow::anyhow!(e))?;
                            let sealed = latchkey_domain::Sealed::from_bytes(wrapped.wrapped.clone());
                            let key = sealer
                                .unwrap_data_key(&stream, &sealed)
                                .map_err(|e| anyhow::anyhow!("data key of {owner}: {e}"))?;
                            let new_wrapped = WrappedKey {
                                wrapped: sealer
                                    .wrap_data_key(&stream, &key)
                                    .map_err(|e| anyhow::anyhow!("{e}"))?
                                    .as_bytes()
                                    .to_vec(),
                                master_key_id: new_id.clone(),
                            };
                            // Lost races (a shredded key, a concurrent rotation) are fine.
                            if store.rewrap_data_key(&owner, &wrapped, &new_wrapped).await? {
                                rewrapped += 1;
                            }
                        }
                    }
                }
                let event = latchkey_domain::system::Event::MasterKeyRotated {
                    active: new_id.clone(),
                    retired: old.clone(),
                    rewrapped: rewrapped as u64,
                };
                store.record_system_event(event, &operator()).await?;
                println!(
                    "rotated to {new_id}; re-wrapped {rewrapped} data keys; retired: {}",
                    old.join(", ")
                );
                Ok(())
            }
            KeysAction::Drop { id } => {
                let Some(position) = keys.iter().position(|k| k.id() == id) else {
                    return Err(usage(format!("no master key {id} in {}", path.display())));
                };
                if position == 0 {
                    return Err(usage(format!("{id} is the active key; rotate first")));
                }
                // Servers read the key file every 5 s: until all have, one may still wrap a new
                // data key with the old key.
                let age = std::fs::metadata(&path)?.modified()?.elapsed().unwrap_or_default();
                if age < std::time::Duration::from_secs(10) {
                    anyhow::bail!(
                        "the key file changed {}s ago; wait until every server has loaded it (10 s)",
                        age.as_secs()
                    );
                }
                let left = store.data_keys_wrapped_by(&id, 1).await?.len();
                if left > 0 {
                    return Err(usage(format!(
                        "{id} still wraps data keys; run `latchkey keys rotate` again"
                    ))
                    );
                }
                let remaining: Vec<MasterKey> = keys.into_iter().filter(|k| k.id() != id).collect();
                write_key_file(&path, &remaining)?;
                let event = latchkey_domain::system::Event::MasterKeyDropped { key_id: id.clone() };
                store.record_system_event(event, &operator()).await?;
                println!("dropped master key {id}");
                Ok(())
            }
        }
    }
    .await;
    store.close().await;
    result
}

pub async fn api_keys(config: &Config, action: ApikeyAction) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    let opened = open_store(config, Migrations::Check).await?;
    let store = opened.store;
    let result = match action {
        ApikeyAction::Create {
            name,
            tenant,
            role,
            expires_in,
        } => {
            let tenant = tenant
                .map(|t| latchkey_domain::TenantId::parse_field(&t, "--tenant"))
                .transpose()
                .map_err(|e| usage(e.to_string()))?;
            let role = match role.as_deref() {
                None if tenant.is_some() => crate::Role::Manager,
                None => crate::Role::Admin,
                Some(text) => crate::Role::parse(text).ok_or_else(|| {
                    usage(format!(
                        "--role: {text:?} is not one of {}",
                        crate::Role::NAMES.join(", ")
                    ))
                })?,
            };
            let expires_at =
                expires_in.map(|days| chrono::Utc::now() + chrono::Duration::days(i64::from(days)));
            let (key, record) = crate::generate_api_key(&name, tenant, role, expires_at);
            store.create_api_key(&record, &operator()).await?;
            let scope = record
                .tenant
                .as_ref()
                .map(|t| format!("tenant {t}"))
                .unwrap_or_else(|| "admin".to_owned());
            eprintln!(
                "created key {} ({scope}, {}{}); it is shown once:",
                record.id,
                record.role,
                record
                    .expires_at
                    .map(|at| format!(", until {}", at.to_rfc3339()))
                    .unwrap_or_default()
            );
            println!("{}", key.expose_secret());
            Ok(())
        }
        ApikeyAction::List => {
            for key in store.list_api_keys().await? {
                let state = match (key.revoked_at, key.expires_at) {
                    (Some(at), _) => format!("revoked {}", at.to_rfc3339()),
                    (None, Some(at)) if at <= chrono::Utc::now() => {
                        format!("expired {}", at.to_rfc3339())
                    }
                    (None, Some(at)) => format!("active until {}", at.to_rfc3339()),
                    (None, None) => "active".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{state}",
                    key.id,
                    key.name,
                    key.tenant
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "every tenant".to_owned()),
                    key.role,
                    key.created_at.to_rfc3339(),
                );
            }
            Ok(())
        }
        ApikeyAction::Revoke { id } => {
            if store.revoke_api_key(&id, &operator()).await?.is_some() {
                println!("revoked key {id}");
                Ok(())
            } else {
                Err(usage(format!("no active key {id}")))
            }
        }
    };
    store.close().await;
    result
}
