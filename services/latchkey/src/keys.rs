//! Loading (or, in the embedded default, generating) the master keys, and rotating them.
//!
//! A key file holds one base64 key per line; the first seals, the others only open what they
//! sealed before. `LATCHKEY_MASTER_KEY` holds the same, comma-separated.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use latchkey_crypto::{Keyring, MasterKey};
use secrecy::{ExposeSecret, SecretString};

use crate::config::MasterKeySource;

/// Loads the keyring at start-up, generating the embedded default's key file on first start.
pub fn load_keyring(source: &MasterKeySource, database_exists: bool) -> anyhow::Result<Keyring> {
    if let MasterKeySource::Generated(path) = source
        && !path.exists()
    {
        if database_exists {
            bail!(
                "the master key file {} is missing but the database exists: its secrets could \
                 not be opened with a new key; restore the file or set LATCHKEY_MASTER_KEY",
                path.display()
            );
        }
        generate_key_file(path)
            .with_context(|| format!("generating master key file {}", path.display()))?;
    }
    read_keyring(source)
}

/// Reads the keyring from its source.
pub fn read_keyring(source: &MasterKeySource) -> anyhow::Result<Keyring> {
    Keyring::from_keys(read_keys(source)?).context("the keyring holds no key")
}

fn parse_keys<'a>(parts: impl Iterator<Item = &'a str>) -> anyhow::Result<Vec<MasterKey>> {
    parts
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            MasterKey::from_base64(&SecretString::from(p.to_owned()))
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect()
}

fn read_key_file(path: &Path) -> anyhow::Result<Vec<MasterKey>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "is readable by group or others (mode {:o}); run chmod 600 on it",
                mode & 0o777
            );
        }
    }
    let text = SecretString::from(std::fs::read_to_string(path)?);
    parse_keys(text.expose_secret().lines())
}

/// Writes `keys` (first active) to `path` atomically, mode 0600.
pub fn write_key_file(path: &Path, keys: &[MasterKey]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temp: PathBuf = dir.join(format!(".master.key.{}", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temp)?;
    for key in keys {
        file.write_all(key.to_base64().expose_secret().as_bytes())?;
        file.write_all(b"\n")?;
    }
    file.sync_all()?;
    std::fs::rename(&temp, path)?;
    Ok(())
}

fn generate_key_file(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let key = MasterKey::generate();
    write_key_file(path, std::slice::from_ref(&key))?;
    tracing::info!(path = %path.display(), key_id = key.id(), "generated master key");
    Ok(())
}

/// The key file behind a source, which rotation rewrites; `None` for keys in the environment.
pub fn key_file(source: &MasterKeySource) -> Option<&Path> {
    match source {
        MasterKeySource::File(path) | MasterKeySource::Generated(path) => Some(path),
        MasterKeySource::Env(_) => None,
    }
}

/// The source's keys (first active), from the environment or the key file.
pub fn read_keys(source: &MasterKeySource) -> anyhow::Result<Vec<MasterKey>> {
    match source {
        MasterKeySource::Env(text) => {
            parse_keys(text.expose_secret().split(',')).context("LATCHKEY_MASTER_KEY")
        }
        MasterKeySource::File(path) => read_key_file(path)
            .with_context(|| format!("LATCHKEY_MASTER_KEY_FILE: {}", path.display())),
        MasterKeySource::Generated(path) => {
            read_key_file(path).with_context(|| format!("master key file {}", path.display()))
        }
    }
}
