//! The refresh token's own state machine: whether it may be sent to the provider.
//!
//! A refresh token is `Idle` (free to send), `Sending` (the lease holder sent it and awaits the
//! answer) or `InDoubt` (it was sent and nobody knows whether the provider accepted it: a timeout,
//! a reset, a crash). A provider call ends `Issued` (new tokens), `Rejected` (a definite answer
//! that issued nothing) or `NoAnswer` (the request may have reached the provider). Only `Issued`
//! and `Rejected` settle the token; `NoAnswer` leaves it in doubt, and what an in-doubt token may
//! do is the integration's [`RefreshTokenReuse`]: a provider that rotates and revokes the grant
//! on reuse must never see it again.
//!
//! The service keeps this state beside the lease (the digest of the token sent, and since when),
//! not in the log: it is operational, and a crash must leave it behind exactly as it was.

use chrono::{DateTime, Duration, Utc};

use crate::RefreshTokenReuse;

/// A refresh token as the provider may have seen it: its digest (never the token) and when it was
/// first sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub digest: String,
    pub since: DateTime<Utc>,
}

/// Where a connection's refresh token stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// Not sent since it was issued, or its last send was settled.
    Idle,
    /// Sent by the current lease holder, whose answer is awaited.
    Sending(Sent),
    /// Sent again while in doubt (within the provider's grace): the first send's doubt stands
    /// until tokens come back, whatever else this send comes to.
    Resending(Sent),
    /// Sent, and whether the provider accepted it is unknown.
    InDoubt(Sent),
}

/// How a provider call that sent a refresh token ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// The provider issued tokens.
    Issued,
    /// The provider answered, and issued nothing (an error status, an OAuth error).
    Rejected,
    /// No answer after the request may have left: a timeout, a reset, a lost connection.
    NoAnswer,
}

/// Why a refresh token may not be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// What the connection records (`refresh_interrupted`'s description).
    pub description: String,
}

impl TokenState {
    /// What a new lease holder finds: a token sent by an earlier holder whose outcome was never
    /// settled (it got no answer, or its holder died mid-call) is in doubt.
    pub fn found(left: Option<Sent>) -> Self {
        left.map_or(Self::Idle, Self::InDoubt)
    }

    /// Sends the refresh token with `digest` at `now`, as `reuse` allows: the `Sending` state, or
    /// why it must not be sent. A token in doubt that the connection no longer holds (a later
    /// refresh replaced it) is of no concern; the one it holds is sent again only under `always`,
    /// or under `within` when it reaches the provider inside the grace counted from its first
    /// send even if it takes `transit` (the provider call's timeout) to get there: sent with less
    /// grace left, it could arrive after the provider stopped taking it (the refresh protocol's
    /// model found this, `tests/model.rs`).
    pub fn send(
        &self,
        digest: &str,
        reuse: RefreshTokenReuse,
        now: DateTime<Utc>,
        transit: Duration,
    ) -> Result<Self, Interrupted> {
        let fresh = || {
            Ok(Self::Sending(Sent {
                digest: digest.to_owned(),
                since: now,
            }))
        };
        let doubt = match self {
            Self::Idle => return fresh(),
            Self::InDoubt(sent) | Self::Sending(sent) | Self::Resending(sent)
                if sent.digest != digest =>
            {
                return fresh();
            }
            // A second send while one is under way can only be a holder that took over.
            Self::InDoubt(sent) | Self::Sending(sent) | Self::Resending(sent) => sent,
        };
        match reuse {
            RefreshTokenReuse::Always => fresh(),
            RefreshTokenReuse::Within { grace_secs }
                if now + transit - doubt.since <= Duration::seconds(i64::from(grace_secs)) =>
            {
                // The grace counts from the first send, so it is kept.
                Ok(Self::Resending(doubt.clone()))
            }
            RefreshTokenReuse::Within { grace_secs } => Err(Interrupted {
                description: format!(
                    "an earlier refresh got no answer after its refresh token was sent {}s ago; \
                     the provider accepts it again for {grace_secs}s only, too little for another \
                     call of up to {}s, so it is not sent again",
                    (now - doubt.since).num_seconds(),
                    transit.num_seconds()
                ),
            }),
            RefreshTokenReuse::Never => Err(Interrupted {
                description: "an earlier refresh got no answer after its refresh token was sent; \
                              the provider may have rotated it and revokes the grant on reuse, so \
                              it is not sent again"
                    .to_owned(),
            }),
        }
    }

    /// What the provider's introspection of the token in doubt (RFC 7662, `refresh_token` hint)
    /// settles: still active, the send in doubt never rotated it, and it is sent as a first send;
    /// not active (rotated, or the grant gone), it must not be sent, and the connection records
    /// why.
    pub fn introspected(
        &self,
        digest: &str,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<Self, Interrupted> {
        if active {
            Ok(Self::Sending(Sent {
                digest: digest.to_owned(),
                since: now,
            }))
        } else {
            Err(Interrupted {
                description: "an earlier refresh got no answer after its refresh token was sent, \
                              and the provider's introspection says that refresh token is no \
                              longer active (rotated, or the grant is gone)"
                    .to_owned(),
            })
        }
    }

    /// How the call settled the token: `Issued` frees it; `Rejected` frees a token sent once, but
    /// not one sent again while in doubt (the provider refusing or never seeing the second send
    /// says nothing of the first, which it may have taken and rotated: the refresh protocol's
    /// model found a grant lost that way, `tests/model.rs`); `NoAnswer` leaves it in doubt.
    /// Settling a token that was not being sent changes nothing.
    pub fn settle(self, outcome: CallOutcome) -> Self {
        match (self, outcome) {
            (Self::Sending(_) | Self::Resending(_), CallOutcome::Issued) => Self::Idle,
            (Self::Sending(_), CallOutcome::Rejected) => Self::Idle,
            (Self::Sending(sent) | Self::Resending(sent), _) => Self::InDoubt(sent),
            (other, _) => other,
        }
    }

    /// What is kept beside the lease: the token sent, while it is being sent or in doubt.
    pub fn sent(&self) -> Option<&Sent> {
        match self {
            Self::Idle => None,
            Self::Sending(sent) | Self::Resending(sent) | Self::InDoubt(sent) => Some(sent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn sent(digest: &str, ago_secs: i64) -> Sent {
        Sent {
            digest: digest.to_owned(),
            since: now() - Duration::seconds(ago_secs),
        }
    }

    const ALL: [RefreshTokenReuse; 3] = [
        RefreshTokenReuse::Never,
        RefreshTokenReuse::Within { grace_secs: 60 },
        RefreshTokenReuse::Always,
    ];

    #[test]
    fn refresh_token_given_nothing_left_behind_is_idle_and_sent_under_any_reuse() {
        assert_eq!(TokenState::found(None), TokenState::Idle);
        for reuse in ALL {
            assert_eq!(
                TokenState::Idle.send("a", reuse, now(), Duration::zero()),
                Ok(TokenState::Sending(sent("a", 0)))
            );
        }
    }

    #[test]
    fn refresh_token_given_a_send_left_behind_is_in_doubt() {
        assert_eq!(
            TokenState::found(Some(sent("a", 5))),
            TokenState::InDoubt(sent("a", 5))
        );
    }

    #[test]
    fn refresh_token_given_issued_or_rejected_is_idle_again() {
        for outcome in [CallOutcome::Issued, CallOutcome::Rejected] {
            assert_eq!(
                TokenState::Sending(sent("a", 1)).settle(outcome),
                TokenState::Idle
            );
        }
    }

    #[test]
    fn refresh_token_given_no_answer_stays_in_doubt_from_its_first_send() {
        assert_eq!(
            TokenState::Sending(sent("a", 1)).settle(CallOutcome::NoAnswer),
            TokenState::InDoubt(sent("a", 1))
        );
    }

    #[test]
    fn refresh_token_not_being_sent_is_not_changed_by_an_outcome() {
        for outcome in [
            CallOutcome::Issued,
            CallOutcome::Rejected,
            CallOutcome::NoAnswer,
        ] {
            assert_eq!(TokenState::Idle.settle(outcome), TokenState::Idle);
            assert_eq!(
                TokenState::InDoubt(sent("a", 1)).settle(outcome),
                TokenState::InDoubt(sent("a", 1))
            );
        }
    }

    #[test]
    fn refresh_token_in_doubt_under_never_is_not_sent_again() {
        let refused = TokenState::InDoubt(sent("a", 1)).send(
            "a",
            RefreshTokenReuse::Never,
            now(),
            Duration::zero(),
        );
        assert!(refused.is_err_and(|e| e.description.contains("not sent again")));
    }

    #[test]
    fn refresh_token_in_doubt_within_its_grace_is_sent_again_keeping_its_first_send() {
        let reuse = RefreshTokenReuse::Within { grace_secs: 60 };
        assert_eq!(
            TokenState::InDoubt(sent("a", 60)).send("a", reuse, now(), Duration::zero()),
            Ok(TokenState::Resending(sent("a", 60)))
        );
    }

    #[test]
    fn refresh_token_in_doubt_past_its_grace_is_not_sent_again() {
        let reuse = RefreshTokenReuse::Within { grace_secs: 60 };
        let refused = TokenState::InDoubt(sent("a", 61)).send("a", reuse, now(), Duration::zero());
        assert!(refused.is_err_and(|e| e.description.contains("60s only")));
    }

    #[test]
    fn refresh_token_in_doubt_is_sent_again_only_with_grace_left_for_the_whole_call() {
        let reuse = RefreshTokenReuse::Within { grace_secs: 60 };
        let transit = Duration::seconds(30);
        assert_eq!(
            TokenState::InDoubt(sent("a", 30)).send("a", reuse, now(), transit),
            Ok(TokenState::Resending(sent("a", 30)))
        );
        let refused = TokenState::InDoubt(sent("a", 31)).send("a", reuse, now(), transit);
        assert!(refused.is_err_and(|e| e.description.contains("up to 30s")));
    }

    #[test]
    fn refresh_token_sent_again_in_doubt_stays_in_doubt_unless_tokens_come_back() {
        let resending = TokenState::Resending(sent("a", 10));
        assert_eq!(
            resending.clone().settle(CallOutcome::Issued),
            TokenState::Idle
        );
        for outcome in [CallOutcome::Rejected, CallOutcome::NoAnswer] {
            assert_eq!(
                resending.clone().settle(outcome),
                TokenState::InDoubt(sent("a", 10)),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn refresh_token_in_doubt_the_provider_calls_active_is_sent_and_one_it_calls_inactive_is_not() {
        let doubt = TokenState::InDoubt(sent("a", 30));
        assert_eq!(
            doubt.introspected("a", true, now()),
            Ok(TokenState::Sending(sent("a", 0)))
        );
        let refused = doubt.introspected("a", false, now());
        assert!(refused.is_err_and(|e| e.description.contains("introspection")));
    }

    #[test]
    fn refresh_token_in_doubt_under_always_is_sent_again() {
        assert_eq!(
            TokenState::InDoubt(sent("a", 3600)).send(
                "a",
                RefreshTokenReuse::Always,
                now(),
                Duration::zero()
            ),
            Ok(TokenState::Sending(sent("a", 0)))
        );
    }

    #[test]
    fn refresh_token_in_doubt_that_was_replaced_does_not_hold_back_its_successor() {
        for reuse in ALL {
            assert_eq!(
                TokenState::InDoubt(sent("old", 10)).send("new", reuse, now(), Duration::zero()),
                Ok(TokenState::Sending(sent("new", 0)))
            );
        }
    }

    #[test]
    fn refresh_token_being_sent_by_a_holder_that_was_taken_over_counts_as_in_doubt() {
        let taken_over = TokenState::Sending(sent("a", 1));
        assert!(
            taken_over
                .send("a", RefreshTokenReuse::Never, now(), Duration::zero())
                .is_err()
        );
        assert_eq!(
            taken_over.send("a", RefreshTokenReuse::Always, now(), Duration::zero()),
            Ok(TokenState::Sending(sent("a", 0)))
        );
    }

    #[test]
    fn refresh_token_kept_beside_the_lease_is_the_one_sent_or_in_doubt() {
        assert_eq!(TokenState::Idle.sent(), None);
        assert_eq!(
            TokenState::Sending(sent("a", 1)).sent(),
            Some(&sent("a", 1))
        );
        assert_eq!(
            TokenState::InDoubt(sent("a", 1)).sent(),
            Some(&sent("a", 1))
        );
    }
}
