//! Data keys, wrapped by a master key: the same SQL on both databases.

use async_trait::async_trait;
use chrono::Utc;
use latchkey_domain::{ConnectionId, connection};

use super::Backend;
use crate::sql::{Columns, Db, args};
use crate::{DataKeys, StoreError, WrappedKey, clamp_limit, parse_state};

fn wrapped_key(row: &impl Columns, first: usize) -> Result<WrappedKey, StoreError> {
    Ok(WrappedKey {
        wrapped: row.bytes(first)?,
        master_key_id: row.text(first + 1)?,
    })
}

#[async_trait]
impl<B: Backend> DataKeys for B {
    async fn data_key(&self, owner: &str) -> Result<Option<WrappedKey>, StoreError> {
        let sql = "SELECT wrapped, master_key_id FROM data_keys WHERE owner = $1";
        let row = self.db().row(sql, args![owner]).await?;
        row.map(|row| wrapped_key(&row, 0)).transpose()
    }

    async fn connection_and_data_key(
        &self,
        id: ConnectionId,
        owner: &str,
    ) -> Result<(Option<connection::State>, Option<WrappedKey>), StoreError> {
        let (state, key) = self.read_connection(id, Some(owner)).await?;
        Ok((state.as_deref().map(parse_state).transpose()?, key))
    }

    async fn insert_data_key(
        &self,
        owner: &str,
        key: &WrappedKey,
    ) -> Result<WrappedKey, StoreError> {
        let sql = "INSERT INTO data_keys (owner, wrapped, master_key_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (owner) DO NOTHING";
        let args = args![owner, &key.wrapped, &key.master_key_id, Utc::now()];
        self.db().run(sql, args).await?;
        self.data_key(owner)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("data key of {owner} vanished")))
    }

    async fn delete_data_key(&self, owner: &str) -> Result<bool, StoreError> {
        let sql = "DELETE FROM data_keys WHERE owner = $1";
        Ok(self.db().run(sql, args![owner]).await? == 1)
    }

    async fn data_keys_wrapped_by(
        &self,
        master_key_id: &str,
        limit: u32,
    ) -> Result<Vec<(String, WrappedKey)>, StoreError> {
        let sql = "SELECT owner, wrapped, master_key_id FROM data_keys WHERE master_key_id = $1 \
             ORDER BY owner LIMIT $2";
        let rows = self
            .db()
            .rows(sql, args![master_key_id, clamp_limit(limit)])
            .await?;
        rows.iter()
            .map(|row| Ok((row.text(0)?, wrapped_key(row, 1)?)))
            .collect()
    }

    async fn rewrap_data_key(
        &self,
        owner: &str,
        old: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE data_keys SET wrapped = $3, master_key_id = $4 \
             WHERE owner = $1 AND wrapped = $2";
        let args = args![owner, &old.wrapped, &new.wrapped, &new.master_key_id];
        Ok(self.db().run(sql, args).await? == 1)
    }
}
