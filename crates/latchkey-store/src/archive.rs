//! Archiving the oldest part of the log: what an archive leaves behind so the chains after it can
//! still be checked, and where the archived events go.

use chrono::{DateTime, Utc};

use crate::RecordedEvent;

/// A stream's last event in an archived part of the log: the stream's chain continues from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptHead {
    pub stream_id: String,
    pub version: u64,
    pub hash: Vec<u8>,
    /// The tenant column of the stream's rows (a connection's): the rows after it must say it.
    pub tenant: Option<String>,
    pub position: i64,
}

/// A part of the log that was archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedPart {
    /// The partition it was (`events_from_<first position>`).
    pub name: String,
    pub first_position: i64,
    pub last_position: i64,
    pub events: u64,
    pub archived_at: DateTime<Utc>,
}

/// What archiving has left: the parts archived, oldest first, and the heads they kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveState {
    pub parts: Vec<ArchivedPart>,
    pub heads: Vec<KeptHead>,
}

/// Where an archive's events go, in position order, before anything is removed from the log. An
/// error from either method leaves the log as it was.
pub trait ArchiveSink: Send {
    /// Takes one event (and may check it: a refusal names what is wrong).
    fn event(&mut self, event: &RecordedEvent) -> Result<(), String>;
    /// Called once every event was taken, before the part leaves the log: the events must be
    /// safe (written and flushed) when this returns `Ok`.
    fn finish(&mut self) -> Result<(), String>;
}
