//! What the relay's side shares on both databases: reading a checkpoint. The rest of
//! [`crate::RelayCursor`] (commit order, fenced leases) is each adapter's own.

use crate::sql::{Columns, Db, args};
use crate::{Cursor, StoreError};

/// The checkpoint of relay `name` (the start of the log if it has none).
pub(crate) async fn checkpoint(db: &impl Db, name: &str) -> Result<Cursor, StoreError> {
    let sql = "SELECT txid, position FROM relay_checkpoints WHERE name = $1";
    let Some(row) = db.row(sql, args![name]).await? else {
        return Ok(Cursor::default());
    };
    Ok(Cursor {
        txid: u64::try_from(row.int(0)?).unwrap_or_default(),
        position: row.int(1)?,
    })
}
