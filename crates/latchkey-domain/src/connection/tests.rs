//! Given/when/then tests of the connection aggregate.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::{ConnectionId, DomainError, EventMeta, GrantType, IntegrationId, Sealed, TenantId};

fn ids() -> (ConnectionId, IntegrationId) {
    (ConnectionId::new_v7(), IntegrationId::new_v7())
}

fn created_with(grant_type: GrantType) -> Event {
    let (connection_id, integration_id) = ids();
    Event::ConnectionCreated {
        connection_id,
        integration_id,
        tenant: TenantId::parse("acme").unwrap(),
        grant_type,
    }
}

fn created() -> Event {
    created_with(GrantType::AuthorizationCode)
}

fn now() -> DateTime<Utc> {
    EventMeta::at_version(100).occurred_at
}

fn tokens(access: u8, refresh: Option<u8>) -> TokenSet {
    TokenSet {
        access_token: Sealed::from_bytes(vec![access]),
        refresh_token: refresh.map(|r| Sealed::from_bytes(vec![r])),
        token_type: "Bearer".to_owned(),
        expires_at: Some(now() + Duration::hours(1)),
        scopes: vec!["api".to_owned()],
        metadata: BTreeMap::from([(
            "instance_url".to_owned(),
            serde_json::json!("https://acme.my.salesforce.com"),
        )]),
        refresh_at: Some(now() + Duration::minutes(55)),
        refresh_token_expires_at: None,
    }
}

fn started() -> Event {
    Event::AuthorizationStarted {
        authorization: PendingAuthorization {
            state_digest: "digest".to_owned(),
            expires_at: now() + Duration::minutes(10),
            scopes: vec!["api".to_owned()],
            redirect_uri: "https://latchkey.example/oauth/callback".to_owned(),
            pkce_verifier: None,
            return_url: None,
            correlation_id: None,
            connect_session: None,
            params: None,
            provider_url: None,
            opened_by: None,
            device: None,
        },
    }
}

fn authorized() -> Event {
    Event::Authorized {
        grant_type: GrantType::AuthorizationCode,
        tokens: tokens(1, Some(2)),
        credentials: None,
        provider_account_id: None,
        via: None,
        grant: None,
    }
}

fn given(events: &[Event]) -> Option<State> {
    events.iter().enumerate().fold(None, |state, (i, e)| {
        apply(state, e, &EventMeta::at_version(i as u64 + 1))
    })
}

/// Given `history`, when `command`, then the events it decides, applied, give the state.
fn when(history: &[Event], command: Command) -> Result<(Vec<Event>, State), DomainError> {
    let state = given(history);
    let events = decide(state.as_ref(), command)?;
    let mut all = history.to_vec();
    all.extend(events.iter().cloned());
    Ok((events, given(&all).expect("state after events")))
}

fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::event_type).collect()
}

fn assert_refused(history: &[Event], command: Command, fragment: &str) {
    match when(history, command) {
        Err(DomainError::InvalidTransition(message)) => {
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}")
        }
        other => panic!("expected a refused transition, got {other:?}"),
    }
}

#[test]
fn given_nothing_when_created_then_pending() {
    let (connection_id, integration_id) = ids();
    let (events, state) = when(
        &[],
        Command::Create {
            connection_id,
            integration_id,
            tenant: TenantId::parse("acme").unwrap(),
            grant_type: GrantType::AuthorizationCode,
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["connection_created"]);
    assert_eq!(state.id, connection_id);
    assert_eq!(state.status, Status::Pending);
    assert_eq!(state.version, 1);
}

#[test]
fn given_created_when_created_again_then_already_exists() {
    let (connection_id, integration_id) = ids();
    let err = when(
        &[created()],
        Command::Create {
            connection_id,
            integration_id,
            tenant: TenantId::parse("acme").unwrap(),
            grant_type: GrantType::AuthorizationCode,
        },
    )
    .unwrap_err();
    assert!(matches!(err, DomainError::AlreadyExists(_)));
}

#[test]
fn given_nothing_when_anything_else_then_not_found() {
    assert!(matches!(
        when(&[], Command::Delete),
        Err(DomainError::NotFound(_))
    ));
}

#[test]
fn given_created_when_authorization_started_then_pending_with_the_state_digest() {
    let (events, state) = when(
        &[created()],
        Command::StartAuthorization {
            authorization: match started() {
                Event::AuthorizationStarted { authorization } => authorization,
                _ => unreachable!(),
            },
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["authorization_started"]);
    assert_eq!(state.status, Status::Pending);
    assert_eq!(
        state.pending_authorization.map(|p| p.state_digest),
        Some("digest".to_owned())
    );
}

#[test]
fn given_client_credentials_when_authorization_started_then_refused() {
    let authorization = match started() {
        Event::AuthorizationStarted { authorization } => authorization,
        _ => unreachable!(),
    };
    assert_refused(
        &[created_with(GrantType::ClientCredentials)],
        Command::StartAuthorization { authorization },
        "client_credentials grant",
    );
}

#[test]
fn given_started_when_authorized_then_active_with_tokens() {
    let (events, state) = when(
        &[created(), started()],
        Command::Authorize {
            grant_type: GrantType::AuthorizationCode,
            tokens: tokens(1, Some(2)),
            credentials: None,
            provider_account_id: None,
            via: None,
            grant: None,
            now: now(),
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["authorized"]);
    assert_eq!(state.status, Status::Active);
    assert_eq!(state.access_token, Some(Sealed::from_bytes(vec![1])));
    assert_eq!(state.refresh_token, Some(Sealed::from_bytes(vec![2])));
    assert_eq!(state.pending_authorization, None);
    assert!(state.authorized_at.is_some());
    assert_eq!(
        state.metadata.get("instance_url"),
        Some(&serde_json::json!("https://acme.my.salesforce.com"))
    );
}

#[test]
fn given_an_account_when_authorized_again_via_another_connection_then_one_connection_holds_both() {
    let (_, first) = when(
        &[created(), started()],
        Command::Authorize {
            grant_type: GrantType::AuthorizationCode,
            tokens: tokens(1, Some(2)),
            credentials: None,
            provider_account_id: Some("user-42".to_owned()),
            via: None,
            grant: None,
            now: now(),
        },
    )
    .unwrap();
    assert_eq!(first.provider_account_id.as_deref(), Some("user-42"));
    // The customer connects the same account from a new connection: it lands on this one,
    // with no authorization started here.
    let twin = ConnectionId::new_v7();
    let history = [created(), started(), authorized()];
    let (events, state) = when(
        &history,
        Command::Authorize {
            grant_type: GrantType::AuthorizationCode,
            tokens: tokens(3, Some(4)),
            credentials: None,
            provider_account_id: Some("user-42".to_owned()),
            via: Some(twin),
            grant: None,
            now: now(),
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["authorized"]);
    assert_eq!(state.access_token, Some(Sealed::from_bytes(vec![3])));
    assert_eq!(state.provider_account_id.as_deref(), Some("user-42"));
    // The twin closes, pointing at the connection that took its authorization.
    let (events, closed) = when(
        &[created(), started()],
        Command::MergeInto { into: state.id },
    )
    .unwrap();
    assert_eq!(types(&events), ["merged_into"]);
    assert_eq!(closed.status, Status::Deleted);
    assert_eq!(closed.pending_authorization, None);
    assert_refused(
        &[created()],
        Command::MergeInto { into: state.id },
        "not started here",
    );
}

#[test]
fn given_created_when_authorized_without_a_started_authorization_then_refused() {
    assert_refused(
        &[created()],
        Command::Authorize {
            grant_type: GrantType::AuthorizationCode,
            tokens: tokens(1, None),
            credentials: None,
            provider_account_id: None,
            via: None,
            grant: None,
            now: now(),
        },
        "without a started authorization",
    );
}

#[test]
fn given_started_when_authorized_after_the_state_expired_then_refused() {
    assert_refused(
        &[created(), started()],
        Command::Authorize {
            grant_type: GrantType::AuthorizationCode,
            tokens: tokens(1, None),
            credentials: None,
            provider_account_id: None,
            via: None,
            grant: None,
            now: now() + Duration::minutes(11),
        },
        "expired",
    );
}

#[test]
fn given_client_credentials_when_authorized_then_active_without_consent() {
    let (_, state) = when(
        &[created_with(GrantType::ClientCredentials)],
        Command::Authorize {
            grant_type: GrantType::ClientCredentials,
            tokens: tokens(1, None),
            credentials: None,
            provider_account_id: None,
            via: None,
            grant: None,
            now: now(),
        },
    )
    .unwrap();
    assert_eq!(state.status, Status::Active);
    assert_eq!(state.refresh_token, None);
}

#[test]
fn given_a_grant_type_when_authorized_with_another_then_refused() {
    assert_refused(
        &[created_with(GrantType::ClientCredentials)],
        Command::Authorize {
            grant_type: GrantType::Password,
            tokens: tokens(1, None),
            credentials: None,
            provider_account_id: None,
            via: None,
            grant: None,
            now: now(),
        },
        "not password",
    );
}

#[test]
fn given_started_when_authorization_fails_then_authorization_failed() {
    let (events, state) = when(
        &[created(), started()],
        Command::FailAuthorization {
            error: "access_denied".to_owned(),
            description: Some("user said no".to_owned()),
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["authorization_failed"]);
    assert_eq!(state.status, Status::AuthorizationFailed);
    assert_eq!(
        state.last_error.map(|e| e.code),
        Some("access_denied".to_owned())
    );
}

#[test]
fn given_created_when_authorization_fails_without_a_start_then_refused() {
    assert_refused(
        &[created()],
        Command::FailAuthorization {
            error: "access_denied".to_owned(),
            description: None,
        },
        "not started",
    );
}

#[test]
fn given_active_when_reauthorization_started_then_stays_active() {
    let (_, state) = when(
        &[created(), started(), authorized()],
        Command::StartAuthorization {
            authorization: match started() {
                Event::AuthorizationStarted { authorization } => authorization,
                _ => unreachable!(),
            },
        },
    )
    .unwrap();
    assert_eq!(state.status, Status::Active);
    assert!(state.access_token.is_some());
}

#[test]
fn given_active_when_refreshed_without_refresh_token_then_old_refresh_token_is_kept() {
    let (events, state) = when(
        &[created(), started(), authorized()],
        Command::Refresh {
            tokens: tokens(3, None),
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["refreshed"]);
    assert_eq!(state.access_token, Some(Sealed::from_bytes(vec![3])));
    assert_eq!(state.refresh_token, Some(Sealed::from_bytes(vec![2])));
    assert!(state.refreshed_at.is_some());
}

#[test]
fn given_active_when_refreshed_with_rotation_then_new_refresh_token() {
    let (_, state) = when(
        &[created(), started(), authorized()],
        Command::Refresh {
            tokens: tokens(3, Some(4)),
        },
    )
    .unwrap();
    assert_eq!(state.refresh_token, Some(Sealed::from_bytes(vec![4])));
}

#[test]
fn given_expired_when_refreshed_then_active_again() {
    let (_, state) = when(
        &[created(), started(), authorized(), Event::Expired {}],
        Command::Refresh {
            tokens: tokens(3, None),
        },
    )
    .unwrap();
    assert_eq!(state.status, Status::Active);
}

#[test]
fn given_revoked_when_refreshed_then_refused() {
    assert_refused(
        &[
            created(),
            started(),
            authorized(),
            Event::Revoked {
                reason: "offboarding".to_owned(),
                provider: Vec::new(),
            },
        ],
        Command::Refresh {
            tokens: tokens(3, None),
        },
        "cannot refresh",
    );
}

#[test]
fn given_pending_or_reauthorization_required_when_refreshed_then_refused() {
    assert_refused(
        &[created(), started()],
        Command::Refresh {
            tokens: tokens(3, None),
        },
        "is pending",
    );
    let reauth = Event::ReauthorizationRequired {
        error: "invalid_grant".to_owned(),
        description: None,
    };
    assert_refused(
        &[created(), started(), authorized(), reauth],
        Command::Refresh {
            tokens: tokens(3, None),
        },
        "is reauthorization_required",
    );
}

#[test]
fn given_active_when_refresh_fails_retryably_then_still_active_with_the_error() {
    let history = [created(), started(), authorized()];
    let failure = || Command::RecordRefreshFailure {
        error: "server_error".to_owned(),
        description: Some("HTTP 503".to_owned()),
        retryable: true,
        retry_at: Some(now() + Duration::seconds(30)),
    };
    let (events, state) = when(&history, failure()).unwrap();
    assert_eq!(
        types(&events),
        ["refresh_failed", "connection_failing"],
        "the first failure of a run says the connection is failing"
    );
    assert!(state.failing_since.is_some());
    assert_eq!(state.status, Status::Active);
    assert_eq!(state.consecutive_failures, 1);
    assert_eq!(
        state.refresh_at,
        Some(now() + Duration::seconds(30)),
        "the retry is planned"
    );
    assert!(matches!(events[0], Event::RefreshFailed { attempt: 1, .. }));
    assert!(state.last_error.as_ref().is_some_and(|e| e.retryable));
    let mut twice = history.to_vec();
    twice.extend(events);
    let (events, state) = when(&twice, failure()).unwrap();
    assert_eq!(state.consecutive_failures, 2);
    assert_eq!(
        types(&events),
        ["refresh_failed"],
        "failing already: said once"
    );
    assert!(matches!(events[0], Event::RefreshFailed { attempt: 2, .. }));
}

#[test]
fn given_failing_when_refreshed_or_authorized_again_then_recovered_with_since_when() {
    let failure = Command::RecordRefreshFailure {
        error: "server_error".to_owned(),
        description: None,
        retryable: true,
        retry_at: None,
    };
    let history = [created(), started(), authorized()];
    let (failed, was) = when(&history, failure).unwrap();
    let since = was.failing_since.unwrap();
    let mut failing = history.to_vec();
    failing.extend(failed);
    let (events, state) = when(
        &failing,
        Command::Refresh {
            tokens: tokens(5, None),
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["refreshed", "connection_recovered"]);
    assert!(matches!(
        events[1],
        Event::ConnectionRecovered { failing_since } if failing_since == since
    ));
    assert_eq!(state.failing_since, None);
    // A healthy connection refreshed says nothing more.
    let (events, _) = when(
        &history,
        Command::Refresh {
            tokens: tokens(5, None),
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["refreshed"]);
}

#[test]
fn given_failures_when_refreshed_then_errors_are_cleared() {
    let failed = Event::RefreshFailed {
        error: "server_error".to_owned(),
        description: None,
        retryable: true,
        retry_at: None,
        attempt: 1,
    };
    let (_, state) = when(
        &[created(), started(), authorized(), failed],
        Command::Refresh {
            tokens: tokens(5, None),
        },
    )
    .unwrap();
    assert_eq!(state.consecutive_failures, 0);
    assert_eq!(state.last_error, None);
}

#[test]
fn given_active_when_reauthorization_required_then_status_says_so() {
    let (events, state) = when(
        &[created(), started(), authorized()],
        Command::RequireReauthorization {
            error: "invalid_grant".to_owned(),
            description: Some("token revoked by user".to_owned()),
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["reauthorization_required"]);
    assert_eq!(state.status, Status::ReauthorizationRequired);
    assert_eq!(
        state.last_error.map(|e| e.code),
        Some("invalid_grant".to_owned())
    );
}

#[test]
fn given_pending_when_reauthorization_required_then_refused() {
    assert_refused(
        &[created()],
        Command::RequireReauthorization {
            error: "invalid_grant".to_owned(),
            description: None,
        },
        "cannot require reauthorization",
    );
}

#[test]
fn given_active_past_expiry_when_expired_then_expired() {
    let (events, state) = when(
        &[created(), started(), authorized()],
        Command::Expire {
            now: now() + Duration::hours(2),
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["expired"]);
    assert_eq!(state.status, Status::Expired);
}

#[test]
fn given_active_before_expiry_when_expired_then_refused() {
    assert_refused(
        &[created(), started(), authorized()],
        Command::Expire { now: now() },
        "has not expired",
    );
    assert_refused(
        &[created()],
        Command::Expire { now: now() },
        "cannot expire",
    );
}

#[test]
fn given_active_when_revoked_then_tokens_are_gone() {
    let (events, state) = when(
        &[created(), started(), authorized()],
        Command::Revoke {
            reason: "customer offboarded".to_owned(),
            provider: Vec::new(),
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["revoked"]);
    assert_eq!(state.status, Status::Revoked);
    assert_eq!(state.access_token, None);
    assert_eq!(state.refresh_token, None);
}

#[test]
fn given_revoked_when_revoked_or_reauthorized_then_refused() {
    let history = [
        created(),
        started(),
        authorized(),
        Event::Revoked {
            reason: "x".to_owned(),
            provider: Vec::new(),
        },
    ];
    assert_refused(
        &history,
        Command::Revoke {
            reason: "again".to_owned(),
            provider: Vec::new(),
        },
        "cannot revoke",
    );
    let authorization = match started() {
        Event::AuthorizationStarted { authorization } => authorization,
        _ => unreachable!(),
    };
    assert_refused(
        &history,
        Command::StartAuthorization { authorization },
        "cannot start an authorization",
    );
}

#[test]
fn given_any_state_when_deleted_then_deleted_and_nothing_more_is_accepted() {
    let (events, state) = when(&[created(), started(), authorized()], Command::Delete).unwrap();
    assert_eq!(types(&events), ["deleted"]);
    assert_eq!(state.status, Status::Deleted);
    assert_eq!(state.access_token, None);
    let history = [created(), started(), authorized(), Event::Deleted {}];
    assert!(matches!(
        when(&history, Command::Delete),
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        when(
            &history,
            Command::Refresh {
                tokens: tokens(9, None)
            }
        ),
        Err(DomainError::NotFound(_))
    ));
}

#[test]
fn given_any_live_state_when_the_profile_changes_then_it_is_recorded() {
    let profile = Profile::parse(
        "Acme prod".to_owned(),
        "the main org".to_owned(),
        [("env".to_owned(), "prod".to_owned())],
    )
    .unwrap();
    let (events, state) = when(
        &[created(), started(), authorized()],
        Command::UpdateProfile {
            profile: profile.clone(),
        },
    )
    .unwrap();
    assert_eq!(types(&events), ["connection_updated"]);
    assert_eq!(state.profile, profile);
    assert_eq!(state.status, Status::Active, "the tokens are untouched");
    assert!(matches!(
        when(
            &[created(), Event::Deleted {}],
            Command::UpdateProfile { profile }
        ),
        Err(DomainError::NotFound(_))
    ));
    let bad = Profile::parse(
        String::new(),
        String::new(),
        [("Bad Key".to_owned(), "x".to_owned())],
    );
    assert_eq!(
        bad.unwrap_err().fields().collect::<Vec<_>>(),
        ["labels[Bad Key]"]
    );
}

#[test]
fn apply_ignores_events_that_cannot_start_a_stream() {
    assert_eq!(given(&[authorized()]), None);
}

#[test]
fn every_event_type_round_trips_through_json() {
    let events = [
        created(),
        started(),
        authorized(),
        Event::AuthorizationFailed {
            error: "access_denied".to_owned(),
            description: None,
        },
        Event::Refreshed {
            tokens: tokens(3, Some(4)),
        },
        Event::RefreshFailed {
            error: "temporarily_unavailable".to_owned(),
            description: None,
            retryable: true,
            retry_at: Some(now()),
            attempt: 1,
        },
        Event::ReauthorizationRequired {
            error: "invalid_grant".to_owned(),
            description: None,
        },
        Event::Expired {},
        Event::Revoked {
            reason: "r".to_owned(),
            provider: vec![RevocationOutcome {
                token_type_hint: "refresh_token".to_owned(),
                status: Some(200),
                error: None,
            }],
        },
        Event::Deleted {},
        Event::ParametersSet {
            values: [("shop".to_owned(), "acme".to_owned())].into(),
        },
        Event::CallbackCaptured {
            values: [("realmId".to_owned(), "9130".to_owned())].into(),
        },
        Event::RefreshTokenExpiring { expires_at: now() },
    ];
    for event in events {
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains(&format!("\"type\":\"{}\"", event.event_type())));
        assert!(crate::EVENT_TYPES.contains(&event.event_type()));
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }
}

#[test]
fn imported_tokens_make_a_new_connection_active_and_never_overwrite_one() {
    let import = || Command::Import {
        tokens: tokens(7, Some(8)),
        provider_account_id: Some("0051x".to_owned()),
        source_id: Some("nango-42".to_owned()),
    };
    let (events, state) = when(&[created()], import()).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), "imported");
    assert_eq!(state.status, Status::Active);
    assert_eq!(state.access_token, Some(Sealed::from_bytes(vec![7])));
    assert_eq!(state.refresh_token, Some(Sealed::from_bytes(vec![8])));
    assert_eq!(state.refresh_at, Some(now() + Duration::minutes(55)));
    assert_eq!(state.provider_account_id.as_deref(), Some("0051x"));
    assert!(state.authorized_at.is_some());

    for history in [
        vec![created(), authorized()],
        vec![created(), started()],
        vec![created(), events[0].clone()],
    ] {
        assert!(
            matches!(
                when(&history, import()),
                Err(DomainError::InvalidTransition(_))
            ),
            "{history:?}"
        );
    }
}

#[test]
fn revocation_given_no_answer_a_5xx_or_a_429_is_unconfirmed_and_any_other_answer_confirms_it() {
    let outcome = |status: Option<u16>| RevocationOutcome {
        token_type_hint: "refresh_token".to_owned(),
        status,
        error: None,
    };
    assert!(revocation_confirmed(&[
        outcome(Some(200)),
        outcome(Some(400))
    ]));
    for unconfirmed in [None, Some(503), Some(500), Some(429)] {
        assert!(
            !revocation_confirmed(&[outcome(Some(200)), outcome(unconfirmed)]),
            "{unconfirmed:?}"
        );
    }
    assert!(revocation_confirmed(&[]), "nothing asked, nothing to retry");
}
