//! The operator's local commands on the service's own credentials: master keys (rotate, drop)
//! and API keys (create, list, revoke). They work on the database directly, not through a
//! server, and record what they do in the `system-keys` stream, as the operator named by `USER`.

use anyhow::Context as _;
use clap::Subcommand;
use latchkey_store::{EventContext, Migrations};

use latchkey_crypto::MasterKey;
use latchkey_store::WrappedKey;

use super::client::{Table, usage};
use crate::app::open_store;
use crate::config::{Config, MasterKeySource};

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
    List {
        /// One JSON object per key (docs/CLI.md).
        #[arg(long)]
        json: bool,
    },
    /// Re-wrap every data key with the active master key (no event is rewritten). With a key
    /// file, a new active key is added to it first; with LATCHKEY_MASTER_KEY, put a new key
    /// first there (`latchkey keys generate`) and restart the servers before.
    Rotate {
        /// The outcome as one JSON object (docs/CLI.md).
        #[arg(long)]
        json: bool,
    },
    /// Remove a retired master key once it wraps no data key (from the key file; with
    /// LATCHKEY_MASTER_KEY, checks it may go and says so).
    Drop {
        id: String,
        /// The outcome as one JSON object (docs/CLI.md).
        #[arg(long)]
        json: bool,
    },
    /// Print a new random master key (base64 of 32 bytes) for LATCHKEY_MASTER_KEY or a key file.
    Generate,
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
        /// The key and its record as one JSON object (docs/CLI.md).
        #[arg(long)]
        json: bool,
    },
    /// List keys (never their secrets).
    List {
        /// One JSON object per key (docs/CLI.md).
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id; it stops working within a second.
    Revoke {
        id: String,
        /// The outcome as one JSON object (docs/CLI.md).
        #[arg(long)]
        json: bool,
    },
}

pub async fn master_keys(config: &Config, action: KeysAction) -> anyhow::Result<()> {
    if let KeysAction::Generate = action {
        use secrecy::ExposeSecret as _;
        println!("{}", MasterKey::generate().to_base64().expose_secret());
        return Ok(());
    }
    let source = config.master_key.as_ref().ok_or_else(|| {
        usage("LATCHKEY_MASTER_KEY or LATCHKEY_MASTER_KEY_FILE (--master-key-file): set one")
    })?;
    let keys = crate::keys::read_keys(source)?;
    let opened = open_store(config, Migrations::Check).await?;
    let store = opened.store;
    let result = match action {
        KeysAction::List { json } => list_keys(&*store, &keys, json).await,
        KeysAction::Rotate { json } => rotate(&*store, source, keys, json).await,
        KeysAction::Drop { id, json } => drop_key(&*store, source, keys, id, json).await,
        KeysAction::Generate => Ok(()),
    };
    store.close().await;
    result
}

/// `keys list`: each key, the active one first, with the data keys it wraps.
async fn list_keys(
    store: &dyn latchkey_store::EventStore,
    keys: &[MasterKey],
    json: bool,
) -> anyhow::Result<()> {
    let mut table = Table::new(vec!["ID", "ROLE", "DATA KEYS"]);
    for (i, key) in keys.iter().enumerate() {
        let wraps = store.data_keys_wrapped_by(key.id(), 1000).await?.len();
        let role = if i == 0 { "active" } else { "retired" };
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "id": key.id(), "role": role, "data_keys": wraps, "at_least": wraps == 1000
                })
            );
        } else {
            let more = if wraps == 1000 { "+" } else { "" };
            table.row(vec![
                key.id().to_owned(),
                role.to_owned(),
                format!("{wraps}{more}"),
            ]);
        }
    }
    if !json {
        table.print();
    }
    Ok(())
}

/// `keys rotate`: with a key file, a new active key first; then every data key wrapped by a
/// retired key is wrapped again with the active one.
async fn rotate(
    store: &dyn latchkey_store::EventStore,
    source: &MasterKeySource,
    keys: Vec<MasterKey>,
    json: bool,
) -> anyhow::Result<()> {
    let (keys, added) = match crate::keys::key_file(source) {
        Some(path) => {
            let mut all = vec![MasterKey::generate()];
            all.extend(keys);
            crate::keys::write_key_file(path, &all)?;
            eprintln!(
                "master key {} is active; running servers pick it up within seconds",
                all[0].id()
            );
            (all, true)
        }
        None if keys.len() < 2 => {
            return Err(usage(
                "LATCHKEY_MASTER_KEY holds one key: put a new one first (`latchkey keys \
                 generate`, comma-separated), restart the servers with it, then run `latchkey \
                 keys rotate` to re-wrap the data keys onto it",
            ));
        }
        None => (keys, false),
    };
    let new_id = keys[0].id().to_owned();
    let old: Vec<String> = keys[1..].iter().map(|k| k.id().to_owned()).collect();
    let rewrapped = rewrap(store, keys, &old).await?;
    let event = latchkey_domain::system::Event::MasterKeyRotated {
        active: new_id.clone(),
        retired: old.clone(),
        rewrapped: rewrapped as u64,
    };
    store.record_system_event(event, &operator()).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "active": new_id, "added": added, "rewrapped": rewrapped, "retired": old
            })
        );
    } else {
        println!(
            "rotated to {new_id}; re-wrapped {rewrapped} data keys; retired: {}",
            old.join(", ")
        );
    }
    Ok(())
}

/// Re-wraps every data key wrapped by one of `old` with the first of `keys`; how many.
async fn rewrap(
    store: &dyn latchkey_store::EventStore,
    keys: Vec<MasterKey>,
    old: &[String],
) -> anyhow::Result<usize> {
    use latchkey_crypto::{Keyring, Sealer};
    let new_id = keys.first().map(|k| k.id().to_owned()).unwrap_or_default();
    let sealer = Sealer::new(Keyring::from_keys(keys).context("empty keyring")?);
    let mut rewrapped = 0usize;
    for old_id in old {
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
                if store
                    .rewrap_data_key(&owner, &wrapped, &new_wrapped)
                    .await?
                {
                    rewrapped += 1;
                }
            }
        }
    }
    Ok(rewrapped)
}

/// `keys drop`: from the key file once no data key is wrapped by it; with the keys in the
/// environment, only the check and what to do.
async fn drop_key(
    store: &dyn latchkey_store::EventStore,
    source: &MasterKeySource,
    keys: Vec<MasterKey>,
    id: String,
    json: bool,
) -> anyhow::Result<()> {
    let path = crate::keys::key_file(source);
    let Some(position) = keys.iter().position(|k| k.id() == id) else {
        let place = path.map_or("LATCHKEY_MASTER_KEY".to_owned(), |p| {
            p.display().to_string()
        });
        return Err(usage(format!("no master key {id} in {place}")));
    };
    if position == 0 {
        return Err(usage(format!("{id} is the active key; rotate first")));
    }
    if let Some(path) = path {
        // Servers read the key file every 5 s: until all have, one may still wrap a new data key
        // with the old key.
        let age = std::fs::metadata(path)?
            .modified()?
            .elapsed()
            .unwrap_or_default();
        if age < std::time::Duration::from_secs(10) {
            anyhow::bail!(
                "the key file changed {}s ago; wait until every server has loaded it (10 s)",
                age.as_secs()
            );
        }
    }
    if !store.data_keys_wrapped_by(&id, 1).await?.is_empty() {
        return Err(usage(format!(
            "{id} still wraps data keys; run `latchkey keys rotate` again"
        )));
    }
    let Some(path) = path else {
        if json {
            println!(
                "{}",
                serde_json::json!({"id": id, "dropped": false, "may_drop": true})
            );
        } else {
            println!("{id} wraps no data key: remove it from LATCHKEY_MASTER_KEY and restart");
        }
        return Ok(());
    };
    let remaining: Vec<MasterKey> = keys.into_iter().filter(|k| k.id() != id).collect();
    crate::keys::write_key_file(path, &remaining)?;
    let event = latchkey_domain::system::Event::MasterKeyDropped { key_id: id.clone() };
    store.record_system_event(event, &operator()).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({"id": id, "dropped": true, "may_drop": true})
        );
    } else {
        println!("dropped master key {id}");
    }
    Ok(())
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
            json,
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
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "key": key.expose_secret(),
                        "record": api_key_json(&record),
                    })
                );
                store.close().await;
                return Ok(());
            }
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
        ApikeyAction::List { json } => {
            let mut table = Table::new(vec!["ID", "NAME", "TENANT", "ROLE", "CREATED", "STATE"]);
            for key in store.list_api_keys().await? {
                if json {
                    println!("{}", api_key_json(&key));
                    continue;
                }
                table.row(vec![
                    key.id.clone(),
                    key.name.clone(),
                    key.tenant
                        .as_ref()
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "every tenant".to_owned()),
                    key.role.clone(),
                    key.created_at.to_rfc3339(),
                    api_key_state(&key).1,
                ]);
            }
            if !json {
                table.print();
            }
            Ok(())
        }
        ApikeyAction::Revoke { id, json } => {
            if store.revoke_api_key(&id, &operator()).await?.is_some() {
                if json {
                    println!("{}", serde_json::json!({"id": id, "revoked": true}));
                } else {
                    println!("revoked key {id}");
                }
                Ok(())
            } else {
                Err(usage(format!("no active key {id}")))
            }
        }
    };
    store.close().await;
    result
}

/// An API key's state: `active`, `expired` or `revoked`, and said with its time.
fn api_key_state(key: &latchkey_store::ApiKeyRecord) -> (&'static str, String) {
    match (key.revoked_at, key.expires_at) {
        (Some(at), _) => ("revoked", format!("revoked {}", at.to_rfc3339())),
        (None, Some(at)) if at <= chrono::Utc::now() => {
            ("expired", format!("expired {}", at.to_rfc3339()))
        }
        (None, Some(at)) => ("active", format!("active until {}", at.to_rfc3339())),
        (None, None) => ("active", "active".to_owned()),
    }
}

/// `apikeys list --json`'s object for a key (never its secret).
fn api_key_json(key: &latchkey_store::ApiKeyRecord) -> serde_json::Value {
    serde_json::json!({
        "id": key.id,
        "name": key.name,
        "tenant": key.tenant.as_ref().map(|t| t.to_string()),
        "role": key.role,
        "created_at": key.created_at.to_rfc3339(),
        "expires_at": key.expires_at.map(|at| at.to_rfc3339()),
        "revoked_at": key.revoked_at.map(|at| at.to_rfc3339()),
        "state": api_key_state(key).0,
    })
}
