//! Envelope encryption for the service: every integration and connection has its own data key,
//! stored wrapped by the active master key (outside the event log). Secrets in events are sealed
//! under the owner's data key; destroying the key (`DeleteConnection`) makes all of them
//! unreadable, and rotating the master key re-wraps data keys without rewriting an event.
//!
//! Unwrapped data keys are cached in memory, within a budget ([`DATA_KEYS_BUDGET_BYTES`], the
//! least recently used going first), so memory does not grow with the number of connections
//! used. The keyring is read again from its source when a
//! data key names a master key this process does not know (another process rotated), and every
//! few seconds, so a rotation needs no restart.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use latchkey_crypto::{CryptoError, DataKey, Field, Sealer};
use latchkey_domain::{Sealed, SealedSecret, StreamId};
use latchkey_store::{DataKeys, WrappedKey};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::bounded::{Bounded, Weigh};
use crate::config::MasterKeySource;
use crate::error::AppError;
use crate::keys::read_keyring;

#[derive(Debug)]
pub struct Vault {
    store: Arc<dyn DataKeys>,
    source: MasterKeySource,
    sealer: RwLock<Arc<Sealer>>,
    cache: Bounded<StreamId, DataKey>,
}

/// Memory for unwrapped data keys: 16 MiB, some 100,000 owners.
pub const DATA_KEYS_BUDGET_BYTES: usize = 16 * 1024 * 1024;

/// A data key is read from the store again after an hour (it never changes while it exists;
/// a shredded one is dropped here at once).
const DATA_KEY_MAX_AGE: Duration = Duration::from_secs(3600);

impl Weigh for DataKey {
    fn weigh(&self) -> usize {
        // The key, the entry's Arc and the map's bookkeeping.
        std::mem::size_of::<DataKey>() + std::mem::size_of::<StreamId>() + 96
    }
}

impl Vault {
    pub fn new(store: Arc<dyn DataKeys>, source: MasterKeySource, sealer: Sealer) -> Self {
        Self {
            store,
            source,
            sealer: RwLock::new(Arc::new(sealer)),
            cache: Bounded::new(DATA_KEYS_BUDGET_BYTES, DATA_KEY_MAX_AGE),
        }
    }

    fn sealer(&self) -> Arc<Sealer> {
        self.sealer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn active_key_id(&self) -> String {
        self.sealer().active_key_id().to_owned()
    }

    /// Reads the keyring again from its source (a rotation may have changed it).
    pub fn reload(&self) -> Result<(), AppError> {
        let keyring =
            read_keyring(&self.source).map_err(|e| AppError::Internal(format!("{e:#}")))?;
        let sealer = Sealer::new(keyring);
        let changed = sealer.active_key_id() != self.sealer().active_key_id();
        *self.sealer.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(sealer);
        if changed {
            tracing::info!(key_id = %self.active_key_id(), "master key changed");
        }
        Ok(())
    }

    /// Reloads the keyring every few seconds until `shutdown`.
    pub async fn watch(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
            if let Err(e) = self.reload() {
                tracing::warn!(error = %e, "reading the keyring failed; keeping the one in memory");
            }
        }
    }

    fn unwrap(&self, owner: &StreamId, wrapped: &WrappedKey) -> Result<DataKey, AppError> {
        let sealed = Sealed::from_bytes(wrapped.wrapped.clone());
        match self.sealer().unwrap_data_key(owner, &sealed) {
            Err(CryptoError::UnknownKey(_)) => {
                self.reload()?;
                Ok(self.sealer().unwrap_data_key(owner, &sealed)?)
            }
            other => Ok(other?),
        }
    }

    /// Whether the owner's data key is held unwrapped (no read needed to open its secrets).
    pub fn holds(&self, owner: &StreamId) -> bool {
        self.cache.get(owner).is_some()
    }

    /// Keeps a data key read along with something else, for the secrets opened next. One that
    /// does not unwrap is left out: opening reads it again and says why.
    pub fn keep(&self, owner: &StreamId, wrapped: &WrappedKey) {
        match self.unwrap(owner, wrapped) {
            Ok(key) => self.cache.insert(*owner, Arc::new(key)),
            Err(e) => tracing::debug!(%owner, error = %e, "a data key read ahead did not unwrap"),
        }
    }

    /// The owner's data key, created on first use when `create`.
    async fn data_key(&self, owner: &StreamId, create: bool) -> Result<Arc<DataKey>, AppError> {
        if let Some(key) = self.cache.get(owner) {
            return Ok(key);
        }
        let name = owner.to_string();
        let key = match self.store.data_key(&name).await? {
            Some(wrapped) => self.unwrap(owner, &wrapped)?,
            None if create => {
                let sealer = self.sealer();
                let fresh = DataKey::generate();
                let wrapped = WrappedKey {
                    wrapped: sealer.wrap_data_key(owner, &fresh)?.as_bytes().to_vec(),
                    master_key_id: sealer.active_key_id().to_owned(),
                };
                // Another writer may have created it first: use the one stored.
                let stored = self.store.insert_data_key(&name, &wrapped).await?;
                if stored == wrapped {
                    fresh
                } else {
                    self.unwrap(owner, &stored)?
                }
            }
            None => {
                return Err(AppError::FailedPrecondition(format!(
                    "the secrets of {owner} were destroyed"
                )));
            }
        };
        let key = Arc::new(key);
        self.cache.insert(*owner, key.clone());
        Ok(key)
    }

    pub async fn seal(
        &self,
        owner: &StreamId,
        field: Field,
        secret: &SecretString,
    ) -> Result<Sealed, AppError> {
        Ok(self
            .data_key(owner, true)
            .await?
            .seal(owner, field, secret)?)
    }

    pub async fn open(
        &self,
        owner: &StreamId,
        field: Field,
        sealed: &Sealed,
    ) -> Result<SecretString, AppError> {
        Ok(self
            .data_key(owner, false)
            .await?
            .open(owner, field, sealed)?)
    }

    /// Seals bytes that need not be text (a webhook body) under the owner's data key.
    pub async fn seal_bytes(
        &self,
        owner: &StreamId,
        field: Field,
        plaintext: &[u8],
    ) -> Result<Sealed, AppError> {
        Ok(self
            .data_key(owner, true)
            .await?
            .seal_bytes(owner, field, plaintext)?)
    }

    /// What [`Vault::seal_bytes`] sealed; `FailedPrecondition` once the owner's key is destroyed.
    pub async fn open_bytes(
        &self,
        owner: &StreamId,
        field: Field,
        sealed: &Sealed,
    ) -> Result<Vec<u8>, AppError> {
        Ok(self
            .data_key(owner, false)
            .await?
            .open_bytes(owner, field, sealed)?)
    }

    /// Seals a secret with a fingerprint under the owner's data key (stable across rotations).
    pub async fn seal_secret(
        &self,
        owner: &StreamId,
        field: Field,
        secret: &SecretString,
    ) -> Result<SealedSecret, AppError> {
        let key = self.data_key(owner, true).await?;
        Ok(SealedSecret {
            sealed: key.seal(owner, field, secret)?,
            fingerprint: key.fingerprint(secret),
        })
    }

    /// A secret derived from the owner's data key for `purpose` (created on first use).
    pub async fn derive(
        &self,
        owner: &StreamId,
        purpose: &str,
    ) -> Result<secrecy::SecretBox<[u8; 32]>, AppError> {
        Ok(self.data_key(owner, true).await?.derive(owner, purpose))
    }

    /// Destroys the owner's data key: nothing it sealed can be read again, by anyone.
    pub async fn shred(&self, owner: &StreamId) -> Result<bool, AppError> {
        let name = owner.to_string();
        self.cache.remove(owner);
        Ok(self.store.delete_data_key(&name).await?)
    }
}
