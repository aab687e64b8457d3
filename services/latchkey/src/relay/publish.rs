//! Publishing one batch of the log, in order per stream, with acknowledgements pipelined.
//!
//! Up to [`WINDOW`] events are in flight at once, but never two of the same stream (connection,
//! integration, system stream): an event waits for the acknowledgement of the one before it in
//! its stream. So when an acknowledgement fails, nothing later of that stream has been sent, and
//! publication restarts from the first unacknowledged event; later events of other streams that
//! were already stored come again and JetStream drops them (`Nats-Msg-Id`, duplicate window).
//!
//! An event NATS refuses for good (larger than the stream takes, a subject the relay may not
//! publish to) is replaced by a stub, and publication goes on.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use async_trait::async_trait;
use latchkey_domain::StreamId;
use latchkey_store::{Cursor, RecordedEvent};
use prost::Message as _;

use super::subject;
use crate::wire;

/// Events in flight at once.
pub const WINDOW: usize = 256;

/// Why a message was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// NATS unreachable, slow, restarting: try again from this event.
    Transient(String),
    /// NATS will never take this message: publish a stub in its place.
    Refused(String),
}

/// An acknowledgement to wait for.
pub type Ack = Pin<Box<dyn Future<Output = Result<(), Failure>> + Send>>;

/// One message as the relay sends it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub subject: String,
    pub headers: Vec<(&'static str, String)>,
    pub payload: Vec<u8>,
}

impl Outgoing {
    /// What the server counts against its limits: subject, headers and payload.
    pub fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum();
        self.subject.len() + headers + 12 + self.payload.len()
    }
}

/// Where messages go: JetStream, or a test double.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Sends one message; the acknowledgement comes later.
    async fn send(&self, message: Outgoing) -> Result<Ack, Failure>;
    /// The largest message the server and the stream take.
    fn max_message(&self) -> usize;
}

fn headers(event: &RecordedEvent) -> Vec<(&'static str, String)> {
    vec![
        ("Nats-Msg-Id", event.event_id.to_string()),
        ("Latchkey-Event-Type", event.event_type.clone()),
        ("Latchkey-Position", event.position.to_string()),
        ("Latchkey-Stream", event.stream_id.to_string()),
        ("Latchkey-Version", event.version.to_string()),
    ]
}

/// The opened bodies of a batch's deliveries, by position.
pub type Opened = HashMap<i64, Vec<u8>>;

/// An event's message: the protobuf `latchkey.v1.Event`. A delivery carries its `opened` body
/// (the feed is the platform's own bus) and its event type and delivery id as headers too.
pub fn message(prefix: &str, event: &RecordedEvent, opened: Option<&[u8]>) -> Outgoing {
    use latchkey_proto::v1::event::Payload;
    let mut pb = wire::event_to_pb(event);
    let mut headers = headers(event);
    if let Some(
        Payload::WebhookReceived(delivery)
        | Payload::ActionReceived(delivery)
        | Payload::WebhookUnrouted(delivery),
    ) = pb.payload.as_mut()
    {
        if !delivery.event_type.is_empty() {
            headers.push(("Latchkey-Webhook-Type", header_text(&delivery.event_type)));
        }
        headers.push(("Latchkey-Delivery-Id", header_text(&delivery.delivery_id)));
        if let Some(body) = opened {
            delivery.body = body.to_vec();
        }
    }
    Outgoing {
        subject: subject(prefix, event),
        headers,
        payload: pb.encode_to_vec(),
    }
}

/// A provider's text as a header value: printable ASCII only.
pub(crate) fn header_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The stub that stands for an event NATS refused: its place in the log and why, no payload.
pub fn stub(prefix: &str, event: &RecordedEvent, reason: &str) -> Outgoing {
    let mut pb = wire::event_to_pb(event);
    pb.payload_json.clear();
    pb.prev_hash.clear();
    pb.hash.clear();
    pb.payload = None;
    pb.omitted = format!("{reason}; read it with GetHistory");
    let mut headers = headers(event);
    headers.push(("Latchkey-Omitted", reason.to_owned()));
    Outgoing {
        subject: subject(prefix, event),
        headers,
        payload: pb.encode_to_vec(),
    }
}

/// An event replaced by a stub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stubbed {
    pub position: i64,
    pub event_id: String,
    pub reason: String,
}

/// How far a batch got.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The cursor of the last event acknowledged with every one before it.
    pub acknowledged: Option<Cursor>,
    pub published: u64,
    pub stubbed: Vec<Stubbed>,
    /// The failure that stopped the batch (the rest is published again from `acknowledged`).
    pub failure: Option<String>,
    /// The batch stopped early because the lease must be renewed before anything more is sent.
    pub cut_short: bool,
}

struct InFlight {
    index: usize,
    stream: StreamId,
    ack: Ack,
}

struct Batch<'a> {
    publisher: &'a dyn Publisher,
    prefix: &'a str,
    events: &'a [(Cursor, RecordedEvent)],
    opened: &'a Opened,
    in_flight: VecDeque<InFlight>,
    busy: HashSet<StreamId>,
    outcome: Outcome,
}

impl Batch<'_> {
    /// Sends `index`'s message, or its stub when NATS cannot take it.
    async fn send(&mut self, index: usize, refused: Option<String>) -> Result<(), String> {
        let event = &self.events[index].1;
        let max = self.publisher.max_message();
        let mut reason = refused;
        loop {
            let outgoing = match &reason {
                Some(reason) => stub(self.prefix, event, reason),
                None => {
                    let body = self.opened.get(&event.position).map(Vec::as_slice);
                    let full = message(self.prefix, event, body);
                    if full.size() > max {
                        reason = Some(format!(
                            "the event is {} bytes, more than the {max} NATS takes",
                            full.size()
                        ));
                        continue;
                    }
                    full
                }
            };
            match self.publisher.send(outgoing).await {
                Ok(ack) => {
                    if let Some(reason) = reason {
                        self.stubbed(index, reason);
                    }
                    self.busy.insert(event.stream_id);
                    self.in_flight.push_back(InFlight {
                        index,
                        stream: event.stream_id,
                        ack,
                    });
                    return Ok(());
                }
                Err(Failure::Refused(why)) if reason.is_none() => reason = Some(why),
                Err(Failure::Refused(why) | Failure::Transient(why)) => {
                    return Err(format!("publishing event {}: {why}", event.position));
                }
            }
        }
    }

    fn stubbed(&mut self, index: usize, reason: String) {
        let event = &self.events[index].1;
        tracing::warn!(
            position = event.position,
            event_id = %event.event_id,
            reason = %reason,
            "NATS refused an event for good; a stub stands in for it"
        );
        self.outcome.stubbed.push(Stubbed {
            position: event.position,
            event_id: event.event_id.to_string(),
            reason,
        });
    }

    /// Waits for the oldest acknowledgement. A message refused at this point is replaced by its
    /// stub, whose acknowledgement is awaited at once: nothing later of its stream was sent, and
    /// the checkpoint passes it only once the stub is stored.
    async fn settle_oldest(&mut self) -> Result<(), String> {
        let Some(oldest) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let event = &self.events[oldest.index].1;
        let no_ack =
            |why: String| format!("no acknowledgement for event {}: {why}", event.position);
        match oldest.ack.await {
            Ok(()) => {}
            Err(Failure::Refused(why)) => {
                let ack = self
                    .publisher
                    .send(stub(self.prefix, event, &why))
                    .await
                    .map_err(|(Failure::Refused(e) | Failure::Transient(e))| no_ack(e))?;
                ack.await
                    .map_err(|(Failure::Refused(e) | Failure::Transient(e))| no_ack(e))?;
                self.stubbed(oldest.index, why);
            }
            Err(Failure::Transient(why)) => return Err(no_ack(why)),
        }
        self.busy.remove(&oldest.stream);
        self.outcome.acknowledged = Some(self.events[oldest.index].0);
        self.outcome.published += 1;
        Ok(())
    }
}

/// Publishes `events` (in log order) and reports how far it got. Nothing is sent at or after
/// `send_until` (when the relay's right to publish must be confirmed again); what is in flight
/// then is still awaited.
pub async fn publish_batch(
    publisher: &dyn Publisher,
    prefix: &str,
    events: &[(Cursor, RecordedEvent)],
    opened: &Opened,
    send_until: Instant,
) -> Outcome {
    let mut batch = Batch {
        publisher,
        prefix,
        events,
        opened,
        in_flight: VecDeque::with_capacity(WINDOW),
        busy: HashSet::new(),
        outcome: Outcome::default(),
    };
    let result = async {
        for (index, (_, event)) in events.iter().enumerate() {
            while batch.busy.contains(&event.stream_id) || batch.in_flight.len() >= WINDOW {
                batch.settle_oldest().await?;
            }
            if Instant::now() >= send_until {
                batch.outcome.cut_short = true;
                break;
            }
            batch.send(index, None).await?;
        }
        while !batch.in_flight.is_empty() {
            batch.settle_oldest().await?;
        }
        Ok::<(), String>(())
    }
    .await;
    if let Err(e) = result {
        // What was sent before the failure may still be acknowledged; the checkpoint stays at
        // the last event acknowledged with all before it, and the rest is sent again.
        batch.outcome.failure = Some(e);
    }
    batch.outcome
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use latchkey_domain::ConnectionId;
    use latchkey_proto::v1 as pb;

    use super::*;

    /// JetStream as a subscriber sees it: stored messages, duplicates (by `Nats-Msg-Id`) dropped;
    /// chosen sends fail (not stored) or are refused.
    #[derive(Default)]
    struct FakeStream {
        stored: Mutex<Vec<pb::Event>>,
        ids: Mutex<HashSet<String>>,
        sends: Mutex<usize>,
        /// Sends (1-based) whose acknowledgement fails: the message is lost.
        fail_sends: HashSet<usize>,
        /// Event ids refused for good at acknowledgement (their stubs are taken).
        refuse: HashSet<String>,
        max: usize,
    }

    #[async_trait]
    impl Publisher for FakeStream {
        async fn send(&self, message: Outgoing) -> Result<Ack, Failure> {
            let n = {
                let mut sends = self.sends.lock().unwrap();
                *sends += 1;
                *sends
            };
            let event = pb::Event::decode(message.payload.as_slice()).unwrap();
            let result = if self.fail_sends.contains(&n) {
                Err(Failure::Transient("connection reset".to_owned()))
            } else if self.refuse.contains(&event.event_id) && event.omitted.is_empty() {
                Err(Failure::Refused("permissions violation".to_owned()))
            } else {
                if self.ids.lock().unwrap().insert(event.event_id.clone()) {
                    self.stored.lock().unwrap().push(event);
                }
                Ok(())
            };
            Ok(Box::pin(async move {
                tokio::task::yield_now().await;
                result
            }))
        }

        fn max_message(&self) -> usize {
            self.max
        }
    }

    fn fake() -> FakeStream {
        FakeStream {
            max: 1 << 20,
            ..FakeStream::default()
        }
    }

    /// `per_stream` events for each of `streams` connections, interleaved as a log would hold them.
    fn log(streams: usize, per_stream: u64) -> Vec<(Cursor, RecordedEvent)> {
        let ids: Vec<ConnectionId> = (0..streams).map(|_| ConnectionId::new_v7()).collect();
        let mut events = Vec::new();
        for version in 1..=per_stream {
            for id in &ids {
                let position = events.len() as i64 + 1;
                events.push((
                    Cursor { txid: 0, position },
                    RecordedEvent {
                        position,
                        event_id: uuid::Uuid::now_v7(),
                        stream_id: StreamId::Connection(*id),
                        version,
                        tenant: None,
                        event_type: "refreshed".to_owned(),
                        schema_version: 1,
                        occurred_at: chrono::Utc::now(),
                        actor: "system:refresher".to_owned(),
                        correlation_id: None,
                        payload: "{}".to_owned(),
                        prev_hash: vec![0; 32],
                        hash: vec![1; 32],
                    },
                ));
            }
        }
        events
    }

    /// Runs batches from the checkpoint until everything is acknowledged, as the relay does.
    async fn drain(publisher: &FakeStream, events: &[(Cursor, RecordedEvent)]) -> Vec<Stubbed> {
        let mut from = 0;
        let mut stubbed = Vec::new();
        for _ in 0..100 {
            if from == events.len() {
                return stubbed;
            }
            let until = Instant::now() + std::time::Duration::from_secs(60);
            let outcome =
                publish_batch(publisher, "t", &events[from..], &Opened::new(), until).await;
            stubbed.extend(outcome.stubbed);
            if let Some(cursor) = outcome.acknowledged {
                from = events.iter().position(|(c, _)| *c == cursor).unwrap() + 1;
            }
        }
        panic!("publication never caught up");
    }

    fn versions_per_stream(stored: &[pb::Event]) -> HashMap<String, Vec<u64>> {
        let mut per: HashMap<String, Vec<u64>> = HashMap::new();
        for e in stored {
            per.entry(e.stream_id.clone()).or_default().push(e.version);
        }
        per
    }

    #[tokio::test]
    async fn failed_acknowledgements_in_the_middle_of_a_batch_keep_each_streams_order() {
        let events = log(3, 40);
        for failing in [[1, 7, 60], [2, 3, 4], [119, 120, 121]] {
            let publisher = FakeStream {
                fail_sends: failing.into_iter().collect(),
                ..fake()
            };
            let stubbed = drain(&publisher, &events).await;
            assert!(stubbed.is_empty());
            let stored = publisher.stored.lock().unwrap();
            assert_eq!(stored.len(), events.len(), "every event once");
            for (stream, versions) in versions_per_stream(&stored) {
                assert_eq!(versions, (1..=40).collect::<Vec<_>>(), "{stream} in order");
            }
        }
    }

    #[tokio::test]
    async fn nothing_is_sent_once_the_lease_must_be_confirmed_again() {
        let events = log(2, 5);
        let publisher = fake();
        let outcome = publish_batch(&publisher, "t", &events, &Opened::new(), Instant::now()).await;
        assert!(outcome.cut_short && outcome.acknowledged.is_none());
        assert!(publisher.stored.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_event_too_large_or_refused_becomes_a_stub_and_the_rest_follows() {
        let mut events = log(2, 5);
        events[3].1.payload = format!("{{\"big\":\"{}\"}}", "x".repeat(4000));
        let refused = events[6].1.event_id.to_string();
        let publisher = FakeStream {
            max: 2000,
            refuse: [refused.clone()].into(),
            ..fake()
        };
        let stubbed = drain(&publisher, &events).await;
        assert_eq!(stubbed.len(), 2);
        assert!(
            stubbed[0].reason.contains("more than the 2000"),
            "{stubbed:?}"
        );
        let stored = publisher.stored.lock().unwrap();
        assert_eq!(stored.len(), 10);
        for (_, versions) in versions_per_stream(&stored) {
            assert_eq!(versions, [1, 2, 3, 4, 5]);
        }
        let stubs: Vec<&pb::Event> = stored.iter().filter(|e| !e.omitted.is_empty()).collect();
        assert_eq!(stubs.len(), 2);
        for stub in stubs {
            assert!(stub.payload_json.is_empty() && stub.hash.is_empty());
            assert!(stub.omitted.contains("GetHistory"), "{}", stub.omitted);
            assert!(stub.version > 0 && stub.position > 0 && !stub.r#type.is_empty());
        }
        assert!(
            stored
                .iter()
                .any(|e| e.event_id == refused && !e.omitted.is_empty())
        );
    }
}
