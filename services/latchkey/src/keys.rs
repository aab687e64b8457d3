//! Loading (or, in the embedded default, generating) the master key.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use latchkey_crypto::{Keyring, MasterKey};
use secrecy::{ExposeSecret, SecretString};

use crate::config::MasterKeySource;

pub fn load_keyring(source: &MasterKeySource, database_exists: bool) -> anyhow::Result<Keyring> {
    let key = match source {
        MasterKeySource::Env(text) => {
            MasterKey::from_base64(text).map_err(|e| anyhow::anyhow!("LATCHKEY_MASTER_KEY: {e}"))?
        }
        MasterKeySource::File(path) => read_key_file(path)
            .with_context(|| format!("LATCHKEY_MASTER_KEY_FILE: {}", path.display()))?,
        MasterKeySource::Generated(path) => {
            if path.exists() {
                read_key_file(path)
                    .with_context(|| format!("master key file {}", path.display()))?
            } else if database_exists {
                bail!(
                    "the master key file {} is missing but the database exists: its secrets could \
                     not be opened with a new key; restore the file or set LATCHKEY_MASTER_KEY",
                    path.display()
                );
            } else {
                generate_key_file(path)
                    .with_context(|| format!("generating master key file {}", path.display()))?
            }
        }
    };
    Ok(Keyring::single(key))
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
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
    MasterKey::from_base64(&text).map_err(|e| anyhow::anyhow!("{e}"))
}

fn generate_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let key = MasterKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(key.to_base64().expose_secret().as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), key_id = key.id(), "generated master key");
    Ok(key)
}
