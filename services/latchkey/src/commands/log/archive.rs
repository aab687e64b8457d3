//! Archiving the oldest part of the log to a file: every event as a JSON line, each checked
//! against its stream's chain on the way (from the heads earlier archives kept), the file written
//! and flushed before the part leaves the log.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use latchkey_store::{ArchiveSink, ArchivedPart, EventStore, RecordedEvent, StoreError};

use super::{Chains, hex};

/// Archives the oldest part of the log into a new file at `out` (refused if it exists): the part
/// archived, `None` when nothing can be. The file is removed again when nothing was archived.
pub async fn archive(
    store: &dyn EventStore,
    out: &Path,
) -> Result<Option<ArchivedPart>, StoreError> {
    let kept = store.archive_state().await?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    // The log's history (who had access to what) is for the operator alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(out)
        .map_err(|e| StoreError::Refused(format!("--out: cannot create {}: {e}", out.display())))?;
    let mut sink = ArchiveFile {
        chains: Chains::from_kept(&kept.heads),
        writer: BufWriter::new(file),
        out: out.to_owned(),
    };
    let result = store.archive_oldest_events(&mut sink).await;
    drop(sink);
    if !matches!(result, Ok(Some(_))) {
        let _ = std::fs::remove_file(out);
    }
    result
}

struct ArchiveFile {
    chains: Chains,
    writer: BufWriter<File>,
    out: PathBuf,
}

impl ArchiveSink for ArchiveFile {
    fn event(&mut self, event: &RecordedEvent) -> Result<(), String> {
        self.chains.check(event).map_err(|broken| {
            format!(
                "the log is broken at position {} ({} version {}): {}; nothing was archived \
                 (`latchkey verify` shows the same)",
                broken.position, broken.stream, broken.version, broken.reason
            )
        })?;
        let line = serde_json::json!({
            "position": event.position,
            "event_id": event.event_id,
            "stream_id": event.stream_id.to_string(),
            "version": event.version,
            "tenant": event.tenant.as_ref().map(|t| t.as_str()),
            "event_type": event.event_type,
            "schema_version": event.schema_version,
            "occurred_at": event.occurred_at,
            "actor": event.actor,
            "correlation_id": event.correlation_id,
            "payload": event.payload,
            "prev_hash": hex(&event.prev_hash),
            "hash": hex(&event.hash),
        });
        serde_json::to_writer(&mut self.writer, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| self.writer.write_all(b"\n"))
            .map_err(|e| format!("--out: cannot write {}: {e}", self.out.display()))
    }

    fn finish(&mut self) -> Result<(), String> {
        self.writer
            .flush()
            .and_then(|()| self.writer.get_ref().sync_all())
            .map_err(|e| format!("--out: cannot write {}: {e}", self.out.display()))
    }
}
