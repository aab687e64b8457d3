//! Where the master key comes from: the environment, a file, or (embedded default only) a file
//! generated on first start.

use std::path::{Path, PathBuf};

use latchkey_crypto::MasterKey;
use secrecy::{ExposeSecret, SecretString};

use super::{MasterKeySource, NeedsMasterKey, Storage};

/// The master key's source, or `None` with the reason in `errors` (or for a command that opens
/// no secret).
pub(super) fn resolve(
    master_key_env: Option<SecretString>,
    key_file: Option<PathBuf>,
    storage: &Storage,
    data_dir: &Path,
    needs: NeedsMasterKey,
    errors: &mut Vec<String>,
) -> Option<MasterKeySource> {
    match (master_key_env, key_file) {
        (Some(_), Some(_)) => {
            errors.push(
                "LATCHKEY_MASTER_KEY and LATCHKEY_MASTER_KEY_FILE (--master-key-file): set one, \
                 not both"
                    .to_owned(),
            );
            None
        }
        (Some(key), None) => match key
            .expose_secret()
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .map(|k| MasterKey::from_base64(&SecretString::from(k.trim().to_owned())))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(keys) if !keys.is_empty() => Some(MasterKeySource::Env(key)),
            Ok(_) => {
                errors.push("LATCHKEY_MASTER_KEY: holds no key".to_owned());
                None
            }
            Err(e) => {
                errors.push(format!(
                    "LATCHKEY_MASTER_KEY: {e} (base64 of 32 random bytes, e.g. from \
                     `head -c 32 /dev/urandom | base64`)"
                ));
                None
            }
        },
        (None, Some(path)) => Some(MasterKeySource::File(path)),
        (None, None) if needs == NeedsMasterKey::No => None,
        (None, None) => match storage {
            Storage::Sqlite { .. } => Some(MasterKeySource::Generated(data_dir.join("master.key"))),
            Storage::Postgres { .. } => {
                errors.push(
                    "LATCHKEY_MASTER_KEY or LATCHKEY_MASTER_KEY_FILE: one is required with \
                     LATCHKEY_DATABASE_URL, so every replica seals with the same key"
                        .to_owned(),
                );
                None
            }
        },
    }
}
