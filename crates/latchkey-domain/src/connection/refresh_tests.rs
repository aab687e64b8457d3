//! Given/when/then tests of the refresh rules: no clock, no random numbers, no IO.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::connection::{LastError, TokenSet};
use crate::integration::{
    ClientAuthenticationInput, EndpointsInput, IntegrationConfigInput, RefreshPolicyInput,
    TokenHandlingInput,
};
use crate::{ConnectionId, GrantType, IntegrationId, Sealed, TenantId};

const HORIZON: Duration = Duration::days(3);

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap()
}

fn config(margin_secs: u32, idle_secs: Option<u32>) -> IntegrationConfig {
    IntegrationConfigInput {
        name: "P".to_owned(),
        grant_type: "client_credentials".to_owned(),
        refresh: RefreshPolicyInput {
            refresh_margin_secs: Some(margin_secs),
            refresh_token_max_idle_secs: idle_secs,
            ..Default::default()
        },
        tokens: TokenHandlingInput {
            default_token_lifetime_secs: Some(3600),
            ..Default::default()
        },
        endpoints: EndpointsInput {
            token_url: "https://p.example/token".to_owned(),
            ..Default::default()
        },
        client: ClientAuthenticationInput {
            client_id: "c".to_owned(),
            ..Default::default()
        },
        ..Default::default()
    }
    .parse()
    .unwrap()
}

/// An active client-credentials connection whose token expires at `expires_at`.
fn active(expires_at: DateTime<Utc>) -> State {
    let connection_id = ConnectionId::new_v7();
    let events = [
        Event::ConnectionCreated {
            connection_id,
            integration_id: IntegrationId::new_v7(),
            tenant: TenantId::parse("acme").unwrap(),
            grant_type: GrantType::ClientCredentials,
        },
        Event::Authorized {
            grant_type: GrantType::ClientCredentials,
            tokens: TokenSet {
                access_token: Sealed::from_bytes(vec![1]),
                refresh_token: None,
                token_type: "Bearer".to_owned(),
                expires_at: Some(expires_at),
                scopes: vec![],
                metadata: BTreeMap::new(),
                refresh_at: Some(expires_at - Duration::minutes(5)),
                refresh_token_expires_at: None,
            },
            credentials: None,
            provider_account_id: None,
            via: None,
            grant: None,
        },
    ];
    events
        .iter()
        .enumerate()
        .fold(None, |state, (i, e)| {
            apply(state, e, &EventMeta::at_version(i as u64 + 1))
        })
        .unwrap()
}

fn failed_retryably(mut state: State, retry_at: DateTime<Utc>) -> State {
    state.last_error = Some(Box::new(LastError {
        code: "http_503".to_owned(),
        description: None,
        retryable: true,
        at: now(),
    }));
    state.refresh_at = Some(retry_at);
    state
}

fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::event_type).collect()
}

#[test]
fn backoff_given_successive_failures_doubles_from_two_seconds() {
    for (attempt, secs) in [(1, 2), (2, 4), (3, 8), (4, 16)] {
        assert_eq!(
            backoff(attempt, Jitter::new(0.5)),
            Duration::seconds(secs),
            "attempt {attempt}"
        );
    }
}

#[test]
fn backoff_given_many_failures_is_bounded_by_five_minutes_and_jittered_within_a_quarter() {
    for attempt in [9, 20, u32::MAX] {
        assert_eq!(backoff(attempt, Jitter::new(0.5)), Duration::seconds(300));
        assert_eq!(backoff(attempt, Jitter::NONE), Duration::seconds(225));
        assert_eq!(backoff(attempt, Jitter::FULL), Duration::seconds(375));
    }
    // Out-of-range draws are clamped, never widen the band.
    assert_eq!(backoff(1, Jitter::new(7.0)), Duration::milliseconds(2500));
    assert_eq!(backoff(1, Jitter::new(-1.0)), Duration::milliseconds(1500));
    assert_eq!(
        backoff(1, Jitter::new(f64::NAN)),
        Duration::milliseconds(1500)
    );
}

#[test]
fn retry_after_given_a_longer_wait_than_the_backoff_is_honoured() {
    let wait = retry_wait(1, Some(Duration::seconds(90)), Jitter::FULL);
    assert_eq!(wait, Duration::seconds(90));
}

#[test]
fn retry_after_given_a_shorter_wait_than_the_backoff_keeps_the_backoff() {
    let wait = retry_wait(4, Some(Duration::seconds(1)), Jitter::new(0.5));
    assert_eq!(wait, Duration::seconds(16));
}

#[test]
fn retry_after_given_an_absurd_wait_is_clamped_to_a_day() {
    assert_eq!(retry_after(Duration::days(30)), MAX_RETRY_AFTER);
    assert_eq!(retry_after(Duration::seconds(-5)), Duration::zero());
    let wait = retry_wait(1, Some(Duration::MAX), Jitter::NONE);
    assert_eq!(wait, Duration::days(1));
    // And the retry time it leads to is a date, not an overflow.
    let state = active(now() + Duration::minutes(10));
    let failure = Failure::Retryable {
        error: "http_429".to_owned(),
        retry_after: Some(Duration::MAX),
    };
    let events = decide_failure(
        &state,
        failure,
        "busy".to_owned(),
        HORIZON,
        now(),
        Jitter::NONE,
    )
    .unwrap();
    let Event::RefreshFailed { retry_at, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(*retry_at, Some(now() + Duration::days(1)));
}

#[test]
fn refresh_given_a_token_that_lasts_min_ttl_is_not_needed() {
    let state = active(now() + Duration::minutes(10));
    assert!(good_for(&state, Duration::minutes(10), now()));
    assert!(satisfied(
        &state,
        Need::MinTtl(Duration::seconds(30)),
        now()
    ));
}

#[test]
fn refresh_given_a_token_that_does_not_last_min_ttl_is_needed() {
    let state = active(now() + Duration::minutes(10));
    assert!(!good_for(
        &state,
        Duration::minutes(10) + Duration::seconds(1),
        now()
    ));
    assert!(!satisfied(&state, Need::MinTtl(Duration::hours(1)), now()));
    let mut revoked = state;
    revoked.status = Status::Revoked;
    assert!(!good_for(&revoked, Duration::zero(), now()), "not active");
}

#[test]
fn refresh_given_a_due_or_expired_token_is_needed_by_the_refresher_and_always_when_forced() {
    let state = active(now() + Duration::minutes(10));
    assert!(satisfied(&state, Need::Due, now()), "due at expiry - 5 min");
    assert!(!satisfied(&state, Need::Due, now() + Duration::minutes(6)));
    let mut expired = active(now() - Duration::seconds(1));
    expired.refresh_at = None;
    assert!(
        !satisfied(&expired, Need::Due, now()),
        "expired, none planned"
    );
    assert!(!satisfied(&state, Need::Force, now()));
}

#[test]
fn refresh_given_a_margin_is_planned_before_expiry_spread_by_a_tenth_of_the_lead() {
    let expires = now() + Duration::hours(1);
    let config = config(300, None);
    let earliest = refresh_at(&config, now(), expires, true, Jitter::FULL);
    let latest = refresh_at(&config, now(), expires, true, Jitter::NONE);
    assert_eq!(latest, expires - Duration::seconds(300));
    assert_eq!(earliest, expires - Duration::seconds(330));
}

#[test]
fn refresh_given_a_short_lived_token_is_planned_at_half_its_lifetime() {
    let expires = now() + Duration::seconds(60);
    let at = refresh_at(&config(300, None), now(), expires, true, Jitter::NONE);
    assert_eq!(at, now() + Duration::seconds(30));
}

#[test]
fn refresh_given_an_idle_deadline_is_planned_before_the_refresh_token_dies_unused() {
    let week = 7 * 24 * 3600;
    assert_eq!(
        idle_deadline(now(), week),
        now() + Duration::seconds(i64::from(week) * 9 / 10)
    );
    let year = now() + Duration::days(365);
    let config = config(300, Some(week));
    let at = refresh_at(&config, now(), year, true, Jitter::NONE);
    assert_eq!(at, idle_deadline(now(), week));
    let without_refresh_token = refresh_at(&config, now(), year, false, Jitter::NONE);
    assert_eq!(without_refresh_token, year - Duration::seconds(300));
}

#[test]
fn refresh_given_no_expires_in_uses_the_integrations_default_lifetime() {
    let config = config(300, None);
    assert_eq!(expires_at(&config, now(), None), now() + Duration::hours(1));
    assert_eq!(
        expires_at(&config, now(), Some(60)),
        now() + Duration::seconds(60)
    );
}

#[test]
fn refresh_failure_given_permanent_oauth_errors_requires_the_customer() {
    for code in PERMANENT_ERRORS {
        let attempt = FailedAttempt::Answer {
            status: 400,
            error: Some(code),
            retry_after: None,
        };
        assert_eq!(
            classify(&attempt),
            Failure::Permanent {
                error: (*code).to_owned()
            }
        );
    }
}

#[test]
fn refresh_failure_given_5xx_429_timeouts_and_network_errors_is_retryable() {
    let answer = |status| FailedAttempt::Answer {
        status,
        error: None,
        retry_after: Some(Duration::seconds(5)),
    };
    assert_eq!(
        classify(&answer(429)),
        Failure::Retryable {
            error: "http_429".to_owned(),
            retry_after: Some(Duration::seconds(5))
        }
    );
    assert!(matches!(classify(&answer(503)), Failure::Retryable { .. }));
    for attempt in [
        FailedAttempt::Timeout { sent: true },
        FailedAttempt::Network { sent: false },
        FailedAttempt::Unusable { status: 200 },
    ] {
        assert!(matches!(classify(&attempt), Failure::Retryable { .. }));
    }
    assert_eq!(
        classify(&answer(404)),
        Failure::Stuck {
            error: "http_404".to_owned()
        }
    );
    assert!(matches!(
        classify(&FailedAttempt::Refused),
        Failure::Stuck { .. }
    ));
}

#[test]
fn refresh_failure_given_a_retryable_failure_records_the_backoff_or_retry_after() {
    let state = active(now() + Duration::minutes(10));
    let failure = Failure::Retryable {
        error: "http_429".to_owned(),
        retry_after: Some(Duration::seconds(120)),
    };
    let events = decide_failure(
        &state,
        failure,
        "busy".to_owned(),
        HORIZON,
        now(),
        Jitter::NONE,
    )
    .unwrap();
    assert_eq!(types(&events), ["refresh_failed", "connection_failing"]);
    let Event::RefreshFailed {
        retryable,
        retry_at,
        ..
    } = &events[0]
    else {
        panic!("{events:?}")
    };
    assert!(*retryable);
    assert_eq!(*retry_at, Some(now() + Duration::seconds(120)));
}

#[test]
fn refresh_failure_given_a_token_past_its_expiry_also_expires_it() {
    let state = active(now() - Duration::seconds(1));
    let failure = Failure::Retryable {
        error: "timeout".to_owned(),
        retry_after: None,
    };
    let events = decide_failure(
        &state,
        failure,
        "slow".to_owned(),
        HORIZON,
        now(),
        Jitter::NONE,
    )
    .unwrap();
    assert_eq!(
        types(&events),
        ["refresh_failed", "connection_failing", "expired"]
    );
    let permanent = Failure::Permanent {
        error: "invalid_grant".to_owned(),
    };
    let events = decide_failure(
        &state,
        permanent,
        "gone".to_owned(),
        HORIZON,
        now(),
        Jitter::NONE,
    )
    .unwrap();
    assert_eq!(
        types(&events),
        ["reauthorization_required"],
        "not active any more"
    );
}

#[test]
fn retry_after_given_a_retryable_failure_holds_back_inline_callers_only() {
    let state = failed_retryably(
        active(now() + Duration::minutes(1)),
        now() + Duration::seconds(20),
    );
    let inline = Need::MinTtl(Duration::minutes(5));
    assert_eq!(
        retry_not_before(&state, inline, now()),
        Some(now() + Duration::seconds(20))
    );
    assert_eq!(retry_not_before(&state, Need::Force, now()), None);
    assert_eq!(
        retry_not_before(&state, inline, now() + Duration::seconds(20)),
        None
    );
}

#[test]
fn refresh_failure_given_failures_past_the_horizon_asks_for_the_customer() {
    let mut state = active(now() + Duration::minutes(10));
    state.failing_since = Some(now() - Duration::seconds(10));
    for failure in [
        Failure::Retryable {
            error: "http_503".to_owned(),
            retry_after: None,
        },
        Failure::Stuck {
            error: "http_404".to_owned(),
        },
    ] {
        let within = decide_failure(
            &state,
            failure.clone(),
            "down".to_owned(),
            Duration::seconds(11),
            now(),
            Jitter::NONE,
        )
        .unwrap();
        assert_eq!(types(&within), ["refresh_failed"]);
        let past = decide_failure(
            &state,
            failure,
            "down".to_owned(),
            Duration::seconds(10),
            now(),
            Jitter::NONE,
        )
        .unwrap();
        assert_eq!(types(&past), ["reauthorization_required"]);
        let Event::ReauthorizationRequired { error, description } = &past[0] else {
            panic!("{past:?}")
        };
        assert_eq!(error, REFRESH_FAILING);
        assert!(description.as_deref().is_some_and(|d| d.contains("down")));
    }
}

#[test]
fn refresh_failure_given_the_first_failure_starts_the_horizon_clock() {
    let state = active(now() + Duration::minutes(10));
    let failure = Failure::Retryable {
        error: "http_503".to_owned(),
        retry_after: None,
    };
    let events = decide_failure(
        &state,
        failure,
        "down".to_owned(),
        Duration::seconds(1),
        now(),
        Jitter::NONE,
    )
    .unwrap();
    let meta = EventMeta::at_version(state.version + 1);
    let after = apply(Some(state), &events[0], &meta).unwrap();
    assert_eq!(after.failing_since, Some(meta.occurred_at));
    let again = apply(Some(after.clone()), &events[0], &EventMeta::at_version(99)).unwrap();
    assert_eq!(
        again.failing_since, after.failing_since,
        "kept from the first"
    );
}

#[test]
fn refresh_failure_outcomes_settle_the_refresh_token_only_on_a_definite_answer() {
    let answer = |status| FailedAttempt::Answer {
        status,
        error: None,
        retry_after: None,
    };
    for rejected in [
        answer(400),
        answer(429),
        answer(500),
        answer(503),
        FailedAttempt::Unusable { status: 500 },
        FailedAttempt::Timeout { sent: false },
        FailedAttempt::Network { sent: false },
        FailedAttempt::Refused,
    ] {
        assert_eq!(rejected.outcome(), CallOutcome::Rejected, "{rejected:?}");
    }
    for in_doubt in [
        answer(502),
        answer(504),
        FailedAttempt::Unusable { status: 200 },
        FailedAttempt::Timeout { sent: true },
        FailedAttempt::Network { sent: true },
    ] {
        assert_eq!(in_doubt.outcome(), CallOutcome::NoAnswer, "{in_doubt:?}");
    }
}

#[test]
fn refresh_given_min_ttl_beyond_a_freshly_issued_tokens_lifetime_is_not_tried_again() {
    let mut state = active(now() + Duration::minutes(10));
    assert_eq!(
        too_short_for(&state, Duration::hours(1), now()),
        None,
        "a token from an authorization is refreshed once first"
    );
    state.refreshed_at = Some(now() - Duration::seconds(5));
    assert_eq!(
        too_short_for(&state, Duration::hours(1), now()),
        Some(Duration::minutes(10) + Duration::seconds(5))
    );
    assert_eq!(
        too_short_for(&state, Duration::minutes(5), now()),
        None,
        "it lasts long enough"
    );
    let a_minute_later = now() + LIFETIME_RECHECK;
    assert_eq!(
        too_short_for(&state, Duration::hours(1), a_minute_later),
        None,
        "asked again once a minute"
    );
}

mod refresh_token_expiry {
    use super::*;
    use crate::EventMeta;
    use crate::connection::refresh::{expiry_warning, wake_at};
    use crate::connection::{Event, State, apply, decide};

    fn config(warning_days: u32) -> IntegrationConfig {
        let mut config = super::config(300, None);
        config.refresh.refresh_token_expiry_warning_secs = warning_days * 24 * 3600;
        config
    }

    fn tokens_at(now: DateTime<Utc>) -> TokenSet {
        TokenSet {
            access_token: Sealed::from_bytes(vec![1]),
            refresh_token: None,
            token_type: "Bearer".to_owned(),
            expires_at: Some(now + Duration::hours(1)),
            scopes: vec![],
            metadata: BTreeMap::new(),
            refresh_at: None,
            refresh_token_expires_at: None,
        }
    }

    fn with_refresh(dies_at: Option<DateTime<Utc>>) -> TokenSet {
        TokenSet {
            refresh_token: Some(Sealed::from_bytes(vec![7])),
            refresh_token_expires_at: dies_at,
            ..tokens_at(now())
        }
    }

    fn authorized_state() -> State {
        active(now() + Duration::hours(1))
    }

    #[test]
    fn a_refresh_token_dying_within_the_warning_is_announced_once_per_expiry() {
        let now = now();
        let config = config(7);
        let far = with_refresh(Some(now + Duration::days(100)));
        assert!(expiry_warning(&config, None, &far, now).is_none());
        let dies = now + Duration::days(6);
        let near = with_refresh(Some(dies));
        let Some(warning) = expiry_warning(&config, None, &near, now) else {
            panic!("six days left is within a week's warning");
        };
        let state = authorized_state();
        let events = decide(Some(&state), warning.clone()).unwrap();
        assert_eq!(events, [Event::RefreshTokenExpiring { expires_at: dies }]);
        let warned = apply(Some(state), &events[0], &EventMeta::at_version(9)).unwrap();
        assert_eq!(warned.refresh_token_expiry_warned, Some(dies));
        assert!(decide(Some(&warned), warning).unwrap().is_empty(), "once");
    }

    #[test]
    fn a_kept_refresh_token_keeps_its_expiry_and_a_new_one_brings_its_own() {
        let now = now();
        let config = config(7);
        let mut state = authorized_state();
        state.refresh_token_expires_at = Some(now + Duration::days(3));
        // A refresh that did not rotate: the connection's own expiry counts.
        let kept = TokenSet {
            refresh_token: None,
            refresh_token_expires_at: None,
            ..tokens_at(now)
        };
        assert!(expiry_warning(&config, Some(&state), &kept, now).is_some());
        // A new refresh token without an expiry: nothing is known of it.
        assert!(expiry_warning(&config, Some(&state), &with_refresh(None), now).is_none());
    }

    #[test]
    fn the_schedule_wakes_for_the_warning_when_it_comes_before_the_refresh() {
        let now = now();
        let config = config(7);
        let refresh = Some(now + Duration::hours(1));
        let dies_soon = Some(now + Duration::days(7) + Duration::minutes(5));
        assert_eq!(
            wake_at(&config, refresh, dies_soon, now),
            Some(now + Duration::minutes(5))
        );
        let dies_late = Some(now + Duration::days(30));
        assert_eq!(wake_at(&config, refresh, dies_late, now), refresh);
        // Already within the warning: announced at the commit, the schedule is the refresh's.
        let dies_now = Some(now + Duration::days(2));
        assert_eq!(wake_at(&config, refresh, dies_now, now), refresh);
        assert_eq!(
            wake_at(&config, None, dies_soon, now),
            Some(now + Duration::minutes(5))
        );
    }
}

#[test]
fn a_lifetime_counts_from_the_request_and_a_stated_end_shortens_it() {
    let config = crate::integration::tests::input().parse().unwrap();
    let sent = Utc::now();
    let forty = Some(40);
    assert_eq!(
        token_expires_at(&config, sent, forty, None),
        sent + Duration::seconds(40)
    );
    let jwt_exp = sent + Duration::seconds(31);
    assert_eq!(
        token_expires_at(&config, sent, forty, Some(jwt_exp)),
        jwt_exp
    );
    // A later stated end never lengthens it; one before the send is another clock.
    let later = sent + Duration::seconds(90);
    assert_eq!(
        token_expires_at(&config, sent, forty, Some(later)),
        sent + Duration::seconds(40)
    );
    let skewed = sent - Duration::seconds(5);
    assert_eq!(
        token_expires_at(&config, sent, forty, Some(skewed)),
        sent + Duration::seconds(40)
    );
}

#[test]
fn refreshed_tokens_given_a_later_refresh_committed_first_are_superseded() {
    let mut state = active(now() + Duration::hours(1));
    state.refresh_token = Some(Sealed::from_bytes(vec![1; 40]));
    let started_with = state.refresh_token.clone();
    assert!(
        !superseded(started_with.as_ref(), &state),
        "nothing committed meanwhile"
    );
    let mut later = state.clone();
    later.refresh_token = Some(Sealed::from_bytes(vec![7; 40]));
    assert!(
        superseded(started_with.as_ref(), &later),
        "another refresh committed first"
    );
    let mut dropped = state;
    dropped.refresh_token = None;
    assert!(
        superseded(started_with.as_ref(), &dropped),
        "the tokens went (revoked, deleted)"
    );
}
