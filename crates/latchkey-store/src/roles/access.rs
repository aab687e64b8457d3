//! The system streams: API keys, token reads and other system events. Each write changes its
//! table and appends its event in one transaction the adapter opens (ordered with the stream's
//! other writers); the SQL is the same on both databases.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_domain::{ConnectionId, DomainEvent, StreamId, SystemStream, system};

use super::Backend;
use crate::append::{append_at_head, one};
use crate::sql::{Columns, Db, Tx, args};
use crate::{
    AccessLog, ApiKeyRecord, ApiKeys, EventContext, RecordedEvent, StoreError, TokenReads,
    clamp_limit, parse_tenant,
};

const API_KEY_COLUMNS: &str =
    "id, name, tenant, secret_hash, created_at, revoked_at, role, expires_at";

/// A connection's token reads from a minute on (`$1` connection, `$2` since, `$3` limit).
pub(crate) const TOKEN_READS: &str = "SELECT actor, minute, reads FROM token_reads \
     WHERE connection_id = $1 AND minute >= $2 ORDER BY minute, actor LIMIT $3";

/// Appends `events` to `stream` at its head in `tx`, commits, and tells the hooks.
async fn finish<B: Backend>(
    store: &B,
    mut tx: B::SystemTx,
    stream: SystemStream,
    events: &[DomainEvent],
    context: &EventContext,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let recorded = append_at_head(&mut tx, stream, events, context).await?;
    B::commit_system(tx, stream).await?;
    store.signals().committed(StreamId::System(stream));
    Ok(recorded)
}

fn api_key(row: &impl Columns) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: row.text(0)?,
        name: row.text(1)?,
        tenant: parse_tenant(row.opt_text(2)?)?,
        secret_hash: row.text(3)?,
        created_at: row.time(4)?,
        revoked_at: row.opt_time(5)?,
        role: row.text(6)?,
        expires_at: row.opt_time(7)?,
    })
}

/// The event that records a new key: its id and grants, never its secret or the secret's hash.
fn api_key_created(key: &ApiKeyRecord) -> system::Event {
    system::Event::ApiKeyCreated {
        key_id: key.id.clone(),
        name: key.name.clone(),
        tenant: key.tenant.clone(),
        role: key.role.clone(),
        expires_at: key.expires_at,
    }
}

#[async_trait]
impl<B: Backend> ApiKeys for B {
    async fn create_api_key(
        &self,
        key: &ApiKeyRecord,
        context: &EventContext,
    ) -> Result<RecordedEvent, StoreError> {
        let mut tx = self.begin_system(SystemStream::Keys).await?;
        let sql = "INSERT INTO api_keys (id, name, tenant, secret_hash, created_at, role, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let tenant = key.tenant.as_ref().map(|t| t.as_str());
        let args = args![
            &key.id,
            &key.name,
            tenant,
            &key.secret_hash,
            key.created_at,
            &key.role,
            key.expires_at,
        ];
        tx.tx_run(sql, args).await?;
        let event = DomainEvent::System(api_key_created(key));
        one(finish(self, tx, SystemStream::Keys, &[event], context).await?)
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = $1");
        let row = self.db().row(&sql, args![id]).await?;
        row.as_ref().map(api_key).transpose()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id");
        let rows = self.db().rows(&sql, args![]).await?;
        rows.iter().map(api_key).collect()
    }

    async fn revoke_api_key(
        &self,
        id: &str,
        context: &EventContext,
    ) -> Result<Option<RecordedEvent>, StoreError> {
        let mut tx = self.begin_system(SystemStream::Keys).await?;
        let sql = "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
        let at = crate::prepared_time(context);
        if tx.tx_run(sql, args![id, at]).await? != 1 {
            return Ok(None);
        }
        let event = DomainEvent::System(system::Event::ApiKeyRevoked {
            key_id: id.to_owned(),
        });
        one(finish(self, tx, SystemStream::Keys, &[event], context).await?).map(Some)
    }
}

/// The `tokens_read` events that record `reads`, a bounded number of counts each.
fn tokens_read_events(reads: &[TokenReads]) -> Vec<DomainEvent> {
    reads
        .chunks(system::Event::MAX_READS_PER_EVENT)
        .map(|chunk| {
            DomainEvent::System(system::Event::TokensRead {
                reads: chunk
                    .iter()
                    .map(|r| system::TokenReadCount {
                        actor: r.actor.clone(),
                        connection_id: r.connection,
                        minute: r.minute,
                        reads: r.reads,
                    })
                    .collect(),
            })
        })
        .collect()
}

#[async_trait]
impl<B: Backend> AccessLog for B {
    async fn record_token_reads(
        &self,
        reads: &[TokenReads],
        context: &EventContext,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if reads.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_system(SystemStream::Access).await?;
        B::add_token_reads(&mut tx, reads).await?;
        let events = tokens_read_events(reads);
        finish(self, tx, SystemStream::Access, &events, context).await
    }

    async fn token_reads(
        &self,
        connection: ConnectionId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TokenReads>, StoreError> {
        let args = args![connection, since, clamp_limit(limit)];
        let rows = self.db().rows(TOKEN_READS, args).await?;
        rows.iter()
            .map(|row| {
                Ok(TokenReads {
                    actor: row.text(0)?,
                    connection,
                    minute: row.time(1)?,
                    reads: u64::try_from(row.int(2)?).unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn record_system_event(
        &self,
        event: system::Event,
        context: &EventContext,
    ) -> Result<RecordedEvent, StoreError> {
        let stream = SystemStream::of(&event);
        let tx = self.begin_system(stream).await?;
        one(finish(self, tx, stream, &[DomainEvent::System(event)], context).await?)
    }
}
