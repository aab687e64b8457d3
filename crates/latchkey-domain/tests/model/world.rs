//! The refresh protocol as a state machine: replicas that lease, decide, send, and settle; the
//! store's lease row (owner, fence, the token noted as sent) and the log (appends decided on the
//! latest state); a provider that rotates refresh tokens; and the faults. Every decision a replica
//! makes is the domain's own function: `TokenState::found`/`send`/`settle` for whether the refresh
//! token may go, `FailedAttempt::outcome` and `classify` for what an answer means,
//! `decide_failure` and `decide` for what the log records, `apply` for the state that follows.
//! What the model writes itself is the service's and the store's protocol around them (the order of
//! lease, note, call, commit, release, and the conditions the store's statements hold to), which is
//! what the model checks.

use chrono::{DateTime, Duration, Utc};
use latchkey_domain::connection::refresh::{self, FailedAttempt, Jitter};
use latchkey_domain::connection::refresh_token::{CallOutcome, Sent, TokenState};
use latchkey_domain::connection::{self, Command, State, Status, TokenSet};
use latchkey_domain::{
    ConnectionId, EventMeta, GrantType, IntegrationId, RefreshTokenReuse, Sealed, TenantId,
};

/// How the provider treats a refresh token it rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rotation {
    /// A rotated token sent again revokes the grant.
    Strict,
    /// A rotated token is accepted again this many seconds after its first use, then revokes.
    Grace(u8),
    /// The refresh token stays the same.
    None,
}

/// A bug seeded into the protocol, to show the checker finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// The store notes the token sent whoever holds the lease now (no owner and fence check).
    NoFence,
    /// A new holder ignores the token an earlier holder left in doubt.
    IgnoreDoubt,
}

#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub reuse: RefreshTokenReuse,
    pub rotation: Rotation,
    pub replicas: u8,
    /// Refreshes each replica starts, at most.
    pub refreshes: u8,
    /// Faults injected over a run, at most.
    pub faults: u8,
    /// The clock's last second (ticks move it; leases and graces count in it).
    pub last_second: u8,
    /// The integration introspects tokens: a refresh token in doubt is asked about (RFC 7662)
    /// before it is given up.
    pub introspection: bool,
    pub bug: Option<Bug>,
}

/// An answer the provider gave (or the lack of one), as the replica reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Issued(u8),
    /// HTTP status and OAuth error; `NoAnswer` when nothing came back after the request left.
    Error(u16, Option<&'static str>),
    Lost,
    /// The request never left (a refused connection).
    NotSent,
}

impl Answer {
    fn attempt(&self) -> Option<FailedAttempt<'static>> {
        Some(match *self {
            Self::Issued(_) => return None,
            Self::Error(status, error) => FailedAttempt::Answer {
                status,
                error,
                retry_after: None,
            },
            Self::Lost => FailedAttempt::Timeout { sent: true },
            Self::NotSent => FailedAttempt::Network { sent: false },
        })
    }
}

/// Where a replica's refresh stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Idle,
    /// Holds the lease (at `fence`); `left` is what an earlier holder left noted.
    Leased {
        fence: u8,
        left: Option<Sent>,
    },
    /// The token it sends is noted (or nothing needs noting): the request is about to leave.
    /// `at`: when it decided to send (the `now` the token state machine was given).
    Noted {
        fence: u8,
        sending: TokenState,
        at: u8,
        /// The refresh token it decided on (and opened): the one it sends.
        token: u8,
    },
    /// The request is at the provider.
    Waiting {
        fence: u8,
        sending: TokenState,
        token: u8,
    },
    Answered {
        fence: u8,
        sending: TokenState,
        token: u8,
        answer: Answer,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub phase: Phase,
    pub started: u8,
}

/// The store's lease row for the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: Option<u8>,
    pub fence: u8,
    /// Whether the holder's time has not run out.
    pub live: bool,
    /// The refresh token noted as sent and not settled.
    pub sent: Option<Sent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// The refresh token (its generation) the provider accepts now.
    pub current: u8,
    /// The one it rotated last, and when that was first used.
    pub previous: Option<(u8, u8)>,
    /// Why the grant is gone at the provider: `reuse` (a rotated token came back) or `customer`.
    pub revoked: Option<&'static str>,
    pub next: u8,
}

/// A request at the provider: who sent which token, under which fence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub from: u8,
    pub fence: u8,
    pub token: u8,
    pub sent_at: u8,
}

/// The longest a request takes to reach the provider, in seconds: the provider call's timeout,
/// which the service passes to the token state machine. The clock does not pass it while a
/// request is on its way (the model's one assumption about the network).
pub const TRANSIT: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct World {
    pub clock: u8,
    pub state: State,
    pub lease: Lease,
    pub provider: Provider,
    pub requests: Vec<Request>,
    pub replicas: Vec<Replica>,
    pub faults: u8,
    /// A token handed to a caller that the log did not hold then.
    pub handed_unlogged: bool,
}

fn base() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default()
}

/// A token set of generation `g`: the refresh token's first byte is its generation.
fn tokens(g: u8, now: DateTime<Utc>) -> TokenSet {
    TokenSet {
        access_token: Sealed::from_bytes(vec![g, 0xA]),
        refresh_token: Some(Sealed::from_bytes(vec![g, 0xB])),
        token_type: "Bearer".to_owned(),
        expires_at: Some(now + Duration::hours(1)),
        scopes: vec![],
        metadata: Default::default(),
        refresh_at: Some(now + Duration::minutes(50)),
        refresh_token_expires_at: None,
    }
}

/// The generation of the refresh token a connection holds.
pub fn generation(state: &State) -> Option<u8> {
    state
        .refresh_token
        .as_ref()
        .and_then(|rt| rt.as_bytes().first().copied())
}

fn digest(generation: u8) -> String {
    format!("rt-{generation}")
}

/// What the provider last answered, by step, for traces.
pub type Step = String;

impl World {
    pub fn new(config: &Config) -> Self {
        let now = base();
        let create = Command::Create {
            connection_id: ConnectionId::from_uuid(uuid::Uuid::from_u128(1)),
            integration_id: IntegrationId::from_uuid(uuid::Uuid::from_u128(2)),
            tenant: TenantId::parse("acme").unwrap_or_else(|_| unreachable!()),
            grant_type: GrantType::AuthorizationCode,
        };
        let authorize = Command::Import {
            tokens: tokens(1, now),
            provider_account_id: None,
            source_id: None,
        };
        let events = connection::decide_new(create, [authorize], now).unwrap_or_default();
        let meta = EventMeta {
            version: 1,
            occurred_at: now,
        };
        let state = events
            .iter()
            .fold(None, |s, e| connection::apply(s, e, &meta))
            .unwrap_or_else(|| unreachable!("a new connection"));
        Self {
            clock: 0,
            state,
            lease: Lease {
                owner: None,
                fence: 0,
                live: false,
                sent: None,
            },
            provider: Provider {
                current: 1,
                previous: None,
                revoked: None,
                next: 2,
            },
            requests: vec![],
            replicas: (0..config.replicas)
                .map(|_| Replica {
                    phase: Phase::Idle,
                    started: 0,
                })
                .collect(),
            faults: config.faults,
            handed_unlogged: false,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        base() + Duration::seconds(i64::from(self.clock))
    }

    /// Appends what `decide` says on the latest state (a refusal appends nothing).
    fn record(&mut self, command: Command) -> bool {
        match connection::decide(Some(&self.state), command) {
            Ok(events) => {
                self.append(&events);
                true
            }
            Err(_) => false,
        }
    }

    fn append(&mut self, events: &[connection::Event]) {
        for event in events {
            let meta = EventMeta {
                version: self.state.version + 1,
                occurred_at: self.now(),
            };
            if let Some(next) = connection::apply(Some(self.state.clone()), event, &meta) {
                self.state = next;
            }
        }
    }

    /// The store's release: only the holder's, keeping the noted token when it is in doubt.
    fn release(&mut self, r: u8, fence: u8, keep_sent: bool) {
        if self.lease.owner == Some(r) && self.lease.fence == fence {
            self.lease.owner = None;
            self.lease.live = false;
            if !keep_sent {
                self.lease.sent = None;
            }
        }
    }

    fn holds(&self, r: u8, fence: u8) -> bool {
        self.lease.owner == Some(r) && self.lease.fence == fence && self.lease.live
    }

    /// Every step that can follow, with what it is called in a trace.
    pub fn next(&self, config: &Config) -> Vec<(Step, World)> {
        let mut out = Vec::new();
        for r in 0..config.replicas {
            self.replica_steps(config, r, &mut out);
        }
        for (i, request) in self.requests.iter().enumerate() {
            let mut answered = self.clone();
            let answer = answered.provider_takes(config, request.token);
            answered.answer(i, answer.clone());
            out.push((
                format!("provider answers replica {} {answer:?}", request.from),
                answered,
            ));
            if self.faults > 0 {
                let mut lost = self.clone();
                let taken = lost.provider_takes(config, request.token);
                lost.faults -= 1;
                lost.answer(i, Answer::Lost);
                out.push((
                    format!(
                        "provider takes replica {}'s request ({taken:?}), the answer is lost",
                        request.from
                    ),
                    lost,
                ));
                let mut dropped = self.clone();
                dropped.faults -= 1;
                dropped.answer(i, Answer::Lost);
                out.push((
                    format!(
                        "replica {}'s request is lost on its way (the provider never sees it)",
                        request.from
                    ),
                    dropped,
                ));
                let mut down = self.clone();
                down.faults -= 1;
                down.answer(i, Answer::Error(503, None));
                out.push((
                    format!("provider answers replica {} 503 (outage)", request.from),
                    down,
                ));
            }
        }
        if self.faults > 0 {
            // The lease lasts longer than a provider call (the service refuses a lease shorter
            // than LATCHKEY_PROVIDER_TIMEOUT) and is renewed when the token is noted: it runs out
            // before the holder notes a token, or after its request is answered or lost.
            let holder_calling = self.requests.iter().any(|q| q.fence == self.lease.fence)
                || self.lease.owner.is_some_and(|owner| {
                    matches!(self.replicas[owner as usize].phase, Phase::Noted { fence, .. } if fence == self.lease.fence)
                });
            if self.lease.live && !holder_calling {
                let mut expired = self.clone();
                expired.lease.live = false;
                expired.faults -= 1;
                out.push(("the lease runs out".to_owned(), expired));
            }
            if self.provider.revoked.is_none() {
                let mut revoked = self.clone();
                revoked.provider.revoked = Some("customer");
                revoked.faults -= 1;
                out.push((
                    "the customer revokes the grant at the provider".to_owned(),
                    revoked,
                ));
            }
        }
        // A request reaches the provider within TRANSIT of the decision to send it.
        let deciding = self.replicas.iter().filter_map(|r| match r.phase {
            Phase::Noted { at, .. } => Some(at),
            _ => None,
        });
        let in_transit = self
            .requests
            .iter()
            .map(|q| q.sent_at)
            .chain(deciding)
            .any(|at| self.clock >= at + TRANSIT);
        if self.clock < config.last_second && !in_transit {
            let mut later = self.clone();
            later.clock += 1;
            out.push((format!("a second passes (t={})", later.clock), later));
        }
        out
    }

    /// The provider receives refresh token `token`: what it answers, its own state moved.
    fn provider_takes(&mut self, config: &Config, token: u8) -> Answer {
        let p = &mut self.provider;
        if p.revoked.is_some() {
            return Answer::Error(400, Some("invalid_grant"));
        }
        if token == p.current {
            if config.rotation == Rotation::None {
                return Answer::Issued(p.current);
            }
            p.previous = Some((p.current, self.clock));
            p.current = p.next;
            p.next += 1;
            return Answer::Issued(p.current);
        }
        if let (Rotation::Grace(grace), Some((previous, used))) = (config.rotation, p.previous)
            && token == previous
            && self.clock - used <= grace
        {
            return Answer::Issued(p.current);
        }
        // A rotated token came back: reuse detection revokes the grant.
        p.revoked = Some("reuse");
        Answer::Error(400, Some("invalid_grant"))
    }

    /// The answer to request `i` reaches its replica, if it still waits for it.
    fn answer(&mut self, i: usize, answer: Answer) {
        let request = self.requests.remove(i);
        let replica = &mut self.replicas[request.from as usize];
        if let Phase::Waiting {
            fence,
            sending,
            token,
        } = &replica.phase
            && *fence == request.fence
        {
            replica.phase = Phase::Answered {
                fence: *fence,
                sending: sending.clone(),
                token: *token,
                answer,
            };
        }
    }

    fn replica_steps(&self, config: &Config, r: u8, out: &mut Vec<(Step, World)>) {
        let replica = &self.replicas[r as usize];
        let mut next = self.clone();
        let label = match replica.phase.clone() {
            Phase::Idle if replica.started < config.refreshes => {
                let lease_free = self.lease.owner.is_none() || !self.lease.live;
                if !lease_free {
                    return;
                }
                next.lease.owner = Some(r);
                next.lease.fence += 1;
                next.lease.live = true;
                next.replicas[r as usize] = Replica {
                    phase: Phase::Leased {
                        fence: next.lease.fence,
                        left: self.lease.sent.clone(),
                    },
                    started: replica.started + 1,
                };
                format!("replica {r} takes the lease (fence {})", next.lease.fence)
            }
            Phase::Idle => return,
            Phase::Leased { fence, left } => next.decide(config, r, fence, left),
            Phase::Noted {
                fence,
                sending,
                at,
                token,
            } => {
                next.requests.push(Request {
                    from: r,
                    fence,
                    token,
                    sent_at: at,
                });
                next.replicas[r as usize].phase = Phase::Waiting {
                    fence,
                    sending,
                    token,
                };
                format!("replica {r} sends refresh token {token}")
            }
            Phase::Waiting { .. } => return,
            Phase::Answered {
                fence,
                sending,
                token,
                answer,
            } => next.settle(r, fence, sending, token, answer),
        };
        out.push((label, next));
        if let (
            Phase::Noted {
                fence,
                sending,
                token,
                ..
            },
            true,
        ) = (&replica.phase, self.faults > 0)
        {
            let mut refused = self.clone();
            refused.faults -= 1;
            refused.replicas[r as usize].phase = Phase::Answered {
                fence: *fence,
                sending: sending.clone(),
                token: *token,
                answer: Answer::NotSent,
            };
            out.push((
                format!("replica {r}'s request never leaves (connection refused)"),
                refused,
            ));
        }
        if self.faults > 0 && replica.phase != Phase::Idle {
            let mut crashed = self.clone();
            crashed.faults -= 1;
            crashed.replicas[r as usize].phase = Phase::Idle;
            out.push((
                format!("replica {r} crashes ({:?})", phase_name(&replica.phase)),
                crashed,
            ));
        }
    }

    /// Under the lease: whether the refresh token may go (the domain's token state machine), and
    /// the store noting it, under the holder's fence.
    fn decide(&mut self, config: &Config, r: u8, fence: u8, left: Option<Sent>) -> Step {
        if self.state.status != Status::Active {
            // As the service's `untouched`: a token in doubt that the connection still holds stays
            // noted.
            let held = generation(&self.state).map(digest);
            let still_held = left
                .as_ref()
                .is_some_and(|sent| Some(&sent.digest) == held.as_ref());
            self.release(r, fence, still_held);
            self.replicas[r as usize].phase = Phase::Idle;
            return format!(
                "replica {r} finds the connection {:?}: nothing to refresh",
                self.state.status
            );
        }
        let held = generation(&self.state).unwrap_or_default();
        let found = match config.bug {
            Some(Bug::IgnoreDoubt) => TokenState::Idle,
            _ => TokenState::found(left),
        };
        let transit = Duration::seconds(i64::from(TRANSIT));
        let mut asked = String::new();
        let decision = match found.send(&digest(held), config.reuse, self.now(), transit) {
            // The integration introspects: the provider is asked about the token in doubt.
            Err(_) if config.introspection => {
                let p = &self.provider;
                let active = p.revoked.is_none() && held == p.current;
                asked =
                    format!("replica {r} introspects refresh token {held} (active: {active}); ");
                let verdict = found.introspected(&digest(held), active, self.now());
                if verdict.is_ok()
                    && let Some(sent_at) = found.sent().map(|sent| sent.since)
                {
                    self.record(Command::ConfirmRefreshToken { sent_at });
                }
                verdict
            }
            other => other,
        };
        let label = match decision {
            Err(interrupted) => {
                self.record(Command::RequireReauthorization {
                    error: "refresh_interrupted".to_owned(),
                    description: Some(interrupted.description),
                });
                self.release(r, fence, false);
                self.replicas[r as usize].phase = Phase::Idle;
                format!("replica {r} may not send refresh token {held} again: refresh_interrupted")
            }
            Ok(sending) => {
                let sent = sending.sent().cloned();
                let sending_state = sending;
                let may = config.bug == Some(Bug::NoFence) || self.holds(r, fence);
                if !may {
                    self.replicas[r as usize].phase = Phase::Idle;
                    return format!(
                        "replica {r} lost the lease before noting refresh token {held}"
                    );
                }
                self.lease.sent = sent;
                self.replicas[r as usize].phase = Phase::Noted {
                    fence,
                    sending: sending_state,
                    at: self.clock,
                    token: held,
                };
                format!("replica {r} notes refresh token {held} as sent")
            }
        };
        format!("{asked}{label}")
    }

    /// The answer settled: new tokens committed on the latest state (retried until they hold, so
    /// a store refusal only delays it), or the failure recorded; the lease ends keeping the noted
    /// token only while it is in doubt.
    fn settle(&mut self, r: u8, fence: u8, sending: TokenState, token: u8, answer: Answer) -> Step {
        self.replicas[r as usize].phase = Phase::Idle;
        let was = sending;
        let Some(attempt) = answer.attempt() else {
            let Answer::Issued(g) = answer else {
                unreachable!()
            };
            let started_with = Sealed::from_bytes(vec![token, 0xB]);
            if refresh::superseded(Some(&started_with), &self.state) {
                let kept = was.settle(CallOutcome::Issued);
                self.release(r, fence, kept.sent().is_some());
                return format!(
                    "replica {r} drops refresh token {g}: a later refresh committed first"
                );
            }
            let committed = self.record(Command::Refresh {
                tokens: tokens(g, self.now()),
            });
            let kept = was.settle(CallOutcome::Issued);
            self.release(r, fence, kept.sent().is_some());
            if committed {
                // The caller is handed what the log now holds.
                self.handed_unlogged |= generation(&self.state) != Some(g);
                return format!("replica {r} commits refresh token {g} and hands the token out");
            }
            return format!("replica {r} cannot commit refresh token {g}: the connection changed");
        };
        let failure = refresh::classify(&attempt);
        let horizon = Duration::days(30);
        if let Ok(events) = refresh::decide_failure(
            &self.state,
            failure.clone(),
            "model".to_owned(),
            horizon,
            self.now(),
            Jitter::NONE,
        ) {
            self.append(&events);
        }
        let kept = was.settle(attempt.outcome());
        self.release(r, fence, kept.sent().is_some());
        format!("replica {r} records the failure {}", failure.error())
    }
}

fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Idle => "idle",
        Phase::Leased { .. } => "holding the lease",
        Phase::Noted { .. } => "after noting the token, before sending",
        Phase::Waiting { .. } => "after sending",
        Phase::Answered { .. } => "after the answer, before committing",
    }
}
