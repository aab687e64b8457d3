//! Operator work on the log itself: verifying every hash chain, and rebuilding the projections
//! from the events.

mod archive;

pub use archive::archive;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use latchkey_domain::StreamKind;
use latchkey_store::{
    ArchivedPart, EventStore, GENESIS_HASH, KeptHead, Page, RecordedEvent, Replayed, StoreError,
};
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

/// Events per read: the most a store hands out at once.
const PAGE: u32 = Page::MAX_LIMIT;

/// The first break in a stream's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub position: i64,
    pub stream: String,
    pub version: u64,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub events: u64,
    pub streams: usize,
    pub broken: Option<BrokenLink>,
    /// Each stream's last version and hash: what a later run compares against.
    pub heads: BTreeMap<String, (u64, Vec<u8>)>,
    /// What differs from the heads a previous run recorded (`--expect-heads`): a stream gone, a
    /// tail cut, a version whose hash changed.
    pub differences: Vec<String>,
    /// The parts of the log archived, and how many stream heads they kept (the chains that go on
    /// after them were checked from those heads).
    pub archived: Vec<ArchivedPart>,
    pub kept_heads: usize,
}

fn head_lines(heads: &BTreeMap<String, (u64, Vec<u8>)>) -> String {
    heads
        .iter()
        .map(|(stream, (version, hash))| format!("{stream} {version} {}\n", hex(hash)))
        .collect()
}

/// Heads as a file: a header with the global digest, then `stream version hash` per line.
pub fn heads_text(heads: &BTreeMap<String, (u64, Vec<u8>)>) -> String {
    format!(
        "# latchkey verify heads: {} streams, digest {}\n{}",
        heads.len(),
        heads_digest(heads),
        head_lines(heads)
    )
}

/// The digest of every stream's head, as `heads_text` states it: equal digests, equal logs.
pub fn heads_digest(heads: &BTreeMap<String, (u64, Vec<u8>)>) -> String {
    latchkey_crypto::sha256_hex(head_lines(heads).as_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a heads file: stream → (version, hash hex).
pub fn parse_heads(text: &str) -> Result<HashMap<String, (u64, String)>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty())
        .map(|(i, line)| {
            let mut parts = line.split_whitespace();
            match (
                parts.next(),
                parts.next().map(str::parse::<u64>),
                parts.next(),
            ) {
                (Some(stream), Some(Ok(version)), Some(hash)) => {
                    Ok((stream.to_owned(), (version, hash.to_owned())))
                }
                _ => Err(format!("line {} is not `stream version hash`", i + 1)),
            }
        })
        .collect()
}

/// Every stream's chain as far as it was walked: its last version and hash, and a connection
/// stream's tenant (from its hashed `connection_created`, or the head an archive kept). Starts
/// from the heads archives kept, so the chains after an archived part are checked against them.
pub(crate) struct Chains {
    last: HashMap<String, (u64, Vec<u8>)>,
    tenants: HashMap<String, Option<String>>,
}

impl Chains {
    pub(crate) fn from_kept(heads: &[KeptHead]) -> Self {
        Self {
            last: heads
                .iter()
                .map(|h| (h.stream_id.clone(), (h.version, h.hash.clone())))
                .collect(),
            tenants: heads
                .iter()
                .map(|h| (h.stream_id.clone(), h.tenant.clone()))
                .collect(),
        }
    }

    /// Checks that `event` continues its stream's chain; the first break, named.
    pub(crate) fn check(&mut self, event: &RecordedEvent) -> Result<(), BrokenLink> {
        let stream = event.stream_id.to_string();
        let (expected_version, expected_prev) = self
            .last
            .get(&stream)
            .map(|(v, h)| (v + 1, h.clone()))
            .unwrap_or((1, GENESIS_HASH.to_vec()));
        let reason = if event.version != expected_version {
            Some(format!(
                "version {} where {expected_version} was expected",
                event.version
            ))
        } else if event.prev_hash != expected_prev {
            Some("prev_hash does not match the previous event's hash".to_owned())
        } else if event.computed_hash() != event.hash {
            Some("the event's content does not match its hash (edited)".to_owned())
        } else {
            let column = event.tenant.as_ref().map(|t| t.as_str().to_owned());
            let hashed = match event.stream_id.kind() {
                StreamKind::Integration | StreamKind::System | StreamKind::Session => None,
                StreamKind::Connection if event.version == 1 => {
                    let tenant = serde_json::from_str::<serde_json::Value>(&event.payload)
                        .ok()
                        .and_then(|p| p["tenant"].as_str().map(str::to_owned));
                    self.tenants.insert(stream.clone(), tenant.clone());
                    tenant
                }
                StreamKind::Connection => self.tenants.get(&stream).cloned().flatten(),
            };
            (column != hashed).then(|| {
                format!(
                    "its tenant column says {} but the stream was created for {} (edited)",
                    column.as_deref().unwrap_or("none"),
                    hashed.as_deref().unwrap_or("none")
                )
            })
        };
        if let Some(reason) = reason {
            return Err(BrokenLink {
                position: event.position,
                stream,
                version: event.version,
                reason,
            });
        }
        self.last
            .insert(stream, (event.version, event.hash.clone()));
        Ok(())
    }
}

/// Walks the whole log in position order, recomputing every hash and link (the chains after an
/// archived part from the heads it kept); with `expected` heads (from an earlier run), also
/// reports streams that lost events since.
pub async fn verify(
    store: &dyn EventStore,
    expected: Option<HashMap<String, (u64, String)>>,
    mut progress: impl FnMut(u64),
) -> Result<VerifyReport, StoreError> {
    let archive = store.archive_state().await?;
    let mut chains = Chains::from_kept(&archive.heads);
    let mut report = VerifyReport {
        kept_heads: archive.heads.len(),
        archived: archive.parts,
        ..VerifyReport::default()
    };
    let mut from = 0;
    loop {
        let page = store.read_all(from, PAGE).await?;
        let Some(end) = page.last().map(|e| e.position) else {
            break;
        };
        for event in &page {
            report.events += 1;
            if let Err(broken) = chains.check(event) {
                report.broken = Some(broken);
                report.streams = chains.last.len();
                return Ok(report);
            }
            let stream = event.stream_id.to_string();
            if let Some((version, hash)) = expected.as_ref().and_then(|e| e.get(&stream))
                && *version == event.version
                && *hash != hex(&event.hash)
            {
                report.differences.push(format!(
                    "{stream} version {version} is not the event recorded then (its hash changed)"
                ));
            }
        }
        progress(report.events);
        from = end + 1;
    }
    let last = chains.last;
    report.streams = last.len();
    for (stream, (version, _)) in expected.iter().flatten() {
        match last.get(stream) {
            None => report
                .differences
                .push(format!("{stream} is missing (it had {version} events)")),
            Some((now, _)) if now < version => report.differences.push(format!(
                "{stream} ends at version {now}; versions {} to {version} are gone (its tail \
                 was cut)",
                now + 1
            )),
            Some(_) => {}
        }
    }
    report.differences.sort();
    report.heads = last.into_iter().collect();
    Ok(report)
}

/// The log from `from` on, page by page, read on a task of its own one page ahead of the caller,
/// so reading and decoding the next page overlaps folding this one. An empty page ends it; so
/// does dropping the receiver.
fn read_ahead(
    readers: &TaskTracker,
    store: Arc<dyn EventStore>,
    mut from: i64,
) -> mpsc::Receiver<Result<Vec<RecordedEvent>, StoreError>> {
    let (pages, receiver) = mpsc::channel(2);
    readers.spawn(async move {
        loop {
            let page = store.read_all(from, PAGE).await;
            let end = page
                .as_ref()
                .ok()
                .and_then(|p| p.last())
                .map(|e| e.position);
            if pages.send(page).await.is_err() {
                return;
            }
            match end {
                Some(end) => from = end + 1,
                None => return,
            }
        }
    });
    receiver
}

#[derive(Debug, Default)]
pub struct RebuildReport {
    pub events: u64,
    pub rows: usize,
    /// Stream ids whose live row differs from the replay (or exists on one side only).
    pub differences: Vec<String>,
    /// The same, each with what differs: `<stream>: <field>, <field>` (a column edited by
    /// hand is `column <name>`).
    pub details: Vec<String>,
    pub swapped: bool,
}

/// Replays the whole log into fresh projections and compares them with the live ones; with
/// `swap`, replaces the live ones with the replay in one transaction (catching up on events
/// appended meanwhile).
pub async fn rebuild(
    store: &Arc<dyn EventStore>,
    swap: bool,
    progress: impl FnMut(u64, i64),
) -> Result<RebuildReport, StoreError> {
    if let Some(archived) = store.archive_state().await?.parts.last() {
        return Err(StoreError::Refused(format!(
            "the log up to position {} is archived ({}): projections cannot be rebuilt from \
             what is left of it; the live ones stay as they are",
            archived.last_position, archived.name
        )));
    }
    // The read-ahead runs on a task of its own; the command returns only once it has ended
    // (it ends as soon as its pages are no longer wanted).
    let readers = TaskTracker::new();
    let report = replay_and_compare(store, swap, progress, &readers).await;
    readers.close();
    readers.wait().await;
    report
}

async fn replay_and_compare(
    store: &Arc<dyn EventStore>,
    swap: bool,
    mut progress: impl FnMut(u64, i64),
    readers: &TaskTracker,
) -> Result<RebuildReport, StoreError> {
    let mut replayed = Replayed::default();
    let mut from = 0;
    let mut last_position = 0;
    let mut conflicted = false;
    loop {
        let target = store.last_position().await?;
        if conflicted && from > target {
            // Nothing new by position, yet the log holds more than was replayed: an event committed
            // late below a position already read. Replay from the start.
            replayed = Replayed::default();
            from = 0;
        }
        let mut pages = read_ahead(readers, store.clone(), from);
        while let Some(page) = pages.recv().await {
            let page = page?;
            let Some(end) = page.last().map(|e| e.position) else {
                break;
            };
            for event in &page {
                replayed.apply(event)?;
            }
            last_position = end;
            from = end + 1;
            progress(replayed.events, target.max(end));
        }
        let mut report = RebuildReport {
            events: replayed.events,
            ..Default::default()
        };
        for kind in [StreamKind::Integration, StreamKind::Connection] {
            let live: HashMap<String, String> =
                store.projection_rows(kind).await?.into_iter().collect();
            let rebuilt = replayed.rows(kind)?;
            report.rows += rebuilt.len();
            for (id, state) in &rebuilt {
                if !same_state(live.get(id).map(String::as_str), state) {
                    report.differences.push(id.clone());
                    let fields = differing_fields(live.get(id).map(String::as_str), state);
                    report.details.push(format!("{id}: {fields}"));
                }
            }
            let rebuilt: HashSet<&String> = rebuilt.iter().map(|(id, _)| id).collect();
            for id in live.keys().filter(|id| !rebuilt.contains(id)) {
                report.differences.push(id.clone());
                report
                    .details
                    .push(format!("{id}: a projection row with no events in the log"));
            }
        }
        if !swap {
            return Ok(report);
        }
        match store.replace_projections(&replayed, last_position).await {
            Ok(()) => {
                report.swapped = true;
                return Ok(report);
            }
            // Events arrived while replaying: replay them too, then try again.
            Err(StoreError::Conflict { .. }) => conflicted = true,
            Err(e) => return Err(e),
        }
    }
}

/// Whether a live row holds the replay's state: the same text, or the same JSON written in another
/// field order (a row written by an earlier version, whose configuration sections were laid out
/// otherwise).
fn same_state(live: Option<&str>, rebuilt: &str) -> bool {
    let Some(live) = live else {
        return false;
    };
    live == rebuilt
        || matches!(
            (
                serde_json::from_str::<serde_json::Value>(live),
                serde_json::from_str::<serde_json::Value>(rebuilt),
            ),
            (Ok(a), Ok(b)) if a == b
        )
}

/// What differs between a live projection row and the replay's: the top-level fields (and the
/// columns edited by hand), or that the row is missing.
fn differing_fields(live: Option<&str>, rebuilt: &str) -> String {
    use serde_json::Value;
    let Some(live) = live else {
        return "missing from the projections".to_owned();
    };
    let object = |text: &str| match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    let (Some(live), Some(rebuilt)) = (object(live), object(rebuilt)) else {
        return "the row is not a state".to_owned();
    };
    let mut fields: Vec<&str> = live
        .keys()
        .chain(rebuilt.keys())
        .filter(|key| live.get(*key) != rebuilt.get(*key))
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    fields.dedup();
    if fields.is_empty() {
        "the same fields, written differently".to_owned()
    } else {
        fields.join(", ")
    }
}

/// `latchkey verify --projections`: every projection row replayed from its stream and compared;
/// what differs, one line per row (empty: every row is what the log says).
pub async fn check_projections(store: &Arc<dyn EventStore>) -> Result<Vec<String>, StoreError> {
    Ok(rebuild(store, false, |_, _| {}).await?.details)
}
