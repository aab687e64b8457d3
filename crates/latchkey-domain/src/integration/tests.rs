//! Given/when/then tests of the integration aggregate and its configuration.

use super::*;
use crate::{DomainError, EventMeta, IntegrationId, Sealed, SealedSecret};

pub(crate) fn input() -> IntegrationConfigInput {
    IntegrationConfigInput {
        name: "Salesforce".to_owned(),
        grant_type: "authorization_code".to_owned(),
        scopes: vec!["api".to_owned(), "refresh_token".to_owned()],
        endpoints: EndpointsInput {
            authorization_url: "https://login.salesforce.com/services/oauth2/authorize".to_owned(),
            token_url: "https://login.salesforce.com/services/oauth2/token".to_owned(),
            ..Default::default()
        },
        client: ClientAuthenticationInput {
            client_id: "3MVG9".to_owned(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn secret() -> SealedSecret {
    SealedSecret {
        sealed: Sealed::from_bytes(vec![1, 2, 3]),
        fingerprint: "hmac-sha256:0102".to_owned(),
    }
}

fn given(events: &[Event]) -> Option<State> {
    events.iter().enumerate().fold(None, |state, (i, e)| {
        apply(state, e, &EventMeta::at_version(i as u64 + 1))
    })
}

fn created() -> Event {
    Event::IntegrationCreated {
        integration_id: IntegrationId::new_v7(),
        config: input().parse().unwrap(),
        client_secret: Some(secret()),
        webhook_secret: None,
        owner: None,
    }
}

#[test]
fn defaults_are_what_a_provider_expects() {
    let config = input().parse().unwrap();
    assert_eq!(config.scope_separator.as_str(), " ");
    assert_eq!(config.response_type.as_str(), "code");
    assert_eq!(config.client.client_auth, ClientAuthMethod::BasicHeader);
    assert_eq!(config.tokens.token_placement, TokenPlacement::bearer());
    assert!(config.pkce);
    assert_eq!(config.tokens.default_token_lifetime_secs, 3600);
    assert_eq!(config.refresh.refresh_margin_secs, 300);
}

#[test]
fn every_invalid_field_is_named() {
    let bad = IntegrationConfigInput {
        name: String::new(),
        grant_type: "implicit".to_owned(),
        scope_separator: Some(String::new()),
        refresh: RefreshPolicyInput {
            refresh_margin_secs: Some(10 * 24 * 3600),
            ..input().refresh
        },
        endpoints: EndpointsInput {
            token_url: "not a url".to_owned(),
            ..input().endpoints
        },
        client: ClientAuthenticationInput {
            client_id: String::new(),
            client_auth: "jwt".to_owned(),
            ..input().client
        },
        ..input()
    };
    let err = bad.parse().unwrap_err();
    let fields: Vec<_> = err.fields().collect();
    assert_eq!(
        fields,
        [
            "name",
            "grant_type",
            "token_url",
            "client_id",
            "client_auth",
            "scope_separator",
            "refresh_margin_secs"
        ]
    );
}

#[test]
fn account_mappings_are_checked_and_the_same_account_setting_needs_one() {
    let jwks = "https://login.salesforce.com/id/keys";
    let config = IntegrationConfigInput {
        checks: ProviderChecksInput {
            account_kind: "id_token".to_owned(),
            account_url: jwks.to_owned(),
            reauthorize_same_account: true,
            ..input().checks
        },
        endpoints: EndpointsInput {
            issuer: "https://login.salesforce.com".to_owned(),
            ..input().endpoints
        },
        ..input()
    }
    .parse()
    .unwrap();
    assert!(matches!(
        &config.checks.account,
        Some(AccountMapping::IdToken { jwks_url }) if jwks_url.as_str() == jwks
    ));
    assert!(config.checks.reauthorize_same_account);
    let cases = [
        (
            IntegrationConfigInput {
                checks: ProviderChecksInput {
                    account_kind: "id_token".to_owned(),
                    account_url: jwks.to_owned(),
                    ..input().checks
                },
                ..input()
            },
            vec!["issuer"],
        ),
        (
            IntegrationConfigInput {
                checks: ProviderChecksInput {
                    account_kind: "endpoint".to_owned(),
                    account_url: "https://api.example.com/me".to_owned(),
                    account_pointer: "user.id".to_owned(),
                    ..input().checks
                },
                ..input()
            },
            vec!["account.pointer"],
        ),
        (
            IntegrationConfigInput {
                checks: ProviderChecksInput {
                    account_kind: "cookie".to_owned(),
                    ..input().checks
                },
                ..input()
            },
            vec!["account.kind"],
        ),
        (
            IntegrationConfigInput {
                checks: ProviderChecksInput {
                    reauthorize_same_account: true,
                    ..input().checks
                },
                ..input()
            },
            vec!["reauthorize_same_account"],
        ),
        (
            IntegrationConfigInput {
                checks: ProviderChecksInput {
                    account_kind: "userinfo".to_owned(),
                    account_url: "http://10.0.0.1/userinfo".to_owned(),
                    ..input().checks
                },
                ..input()
            },
            vec!["account.url"],
        ),
    ];
    for (input, fields) in cases {
        let err = input.parse().unwrap_err();
        assert_eq!(err.fields().collect::<Vec<_>>(), fields);
    }
}

#[test]
fn authorization_code_needs_an_authorization_url() {
    let err = IntegrationConfigInput {
        endpoints: EndpointsInput {
            authorization_url: String::new(),
            ..input().endpoints
        },
        ..input()
    }
    .parse()
    .unwrap_err();
    assert_eq!(err.fields().collect::<Vec<_>>(), ["authorization_url"]);
    let cc = IntegrationConfigInput {
        grant_type: "client_credentials".to_owned(),
        endpoints: EndpointsInput {
            authorization_url: String::new(),
            ..input().endpoints
        },
        ..input()
    };
    assert!(cc.parse().is_ok());
}

#[test]
fn password_grant_needs_the_legacy_flag() {
    let password = IntegrationConfigInput {
        grant_type: "password".to_owned(),
        ..input()
    };
    let err = password.clone().parse().unwrap_err();
    assert_eq!(err.fields().collect::<Vec<_>>(), ["allow_password_grant"]);
    let allowed = IntegrationConfigInput {
        allow_password_grant: true,
        ..password
    };
    assert!(allowed.parse().is_ok());
}

#[test]
fn token_placement_is_checked() {
    let err = IntegrationConfigInput {
        tokens: TokenHandlingInput {
            token_placement: Some(TokenPlacement::Header {
                name: "Bad Header".to_owned(),
                prefix: "Bearer".to_owned(),
            }),
            ..Default::default()
        },
        ..input()
    }
    .parse()
    .unwrap_err();
    assert_eq!(
        err.fields().collect::<Vec<_>>(),
        ["token_placement.header_name"]
    );
}

#[test]
fn given_nothing_when_created_then_integration_created() {
    let id = IntegrationId::new_v7();
    let events = decide(
        None,
        Command::Create {
            integration_id: id,
            config: input().parse().unwrap(),
            client_secret: Some(secret()),
            webhook_secret: None,
            owner: None,
        },
    )
    .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), "integration_created");
    let state = given(&events).unwrap();
    assert_eq!(state.id, id);
    assert_eq!(state.client_secret, Some(secret()));
    assert_eq!(state.version, 1);
}

#[test]
fn given_created_when_created_again_then_already_exists() {
    let state = given(&[created()]);
    let err = decide(
        state.as_ref(),
        Command::Create {
            integration_id: IntegrationId::new_v7(),
            config: input().parse().unwrap(),
            client_secret: None,
            webhook_secret: None,
            owner: None,
        },
    )
    .unwrap_err();
    assert!(matches!(err, DomainError::AlreadyExists(_)));
}

#[test]
fn given_created_when_updated_keeping_secret_then_secret_stays() {
    let state = given(&[created()]);
    let mut config = input().parse().unwrap();
    config.description = "prod org".to_owned();
    let events = decide(
        state.as_ref(),
        Command::Update {
            config,
            client_secret: SecretChange::Keep,
            webhook_secret: SecretChange::Keep,
        },
    )
    .unwrap();
    let state = given(&[created(), events[0].clone()]).unwrap();
    assert_eq!(state.config.description, "prod org");
    assert_eq!(state.client_secret, Some(secret()));
    assert_eq!(state.version, 2);
}

#[test]
fn given_created_when_secret_cleared_then_none_is_left() {
    let state = given(&[
        created(),
        Event::IntegrationUpdated {
            config: input().parse().unwrap(),
            client_secret: SecretChange::Clear,
            webhook_secret: SecretChange::Keep,
        },
    ])
    .unwrap();
    assert_eq!(state.client_secret, None);
}

#[test]
fn given_deleted_when_updated_or_deleted_then_not_found() {
    let state = given(&[created(), Event::IntegrationDeleted {}]);
    assert!(state.as_ref().unwrap().deleted);
    let update = decide(
        state.as_ref(),
        Command::Update {
            config: input().parse().unwrap(),
            client_secret: SecretChange::Keep,
            webhook_secret: SecretChange::Keep,
        },
    );
    assert!(matches!(update, Err(DomainError::NotFound(_))));
    assert!(matches!(
        decide(state.as_ref(), Command::Delete),
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        decide(None, Command::Delete),
        Err(DomainError::NotFound(_))
    ));
}

#[test]
fn events_round_trip_through_json_without_change() {
    let event = created();
    let json = serde_json::to_string(&event).unwrap();
    assert!(json.starts_with("{\"type\":\"integration_created\""));
    let back: Event = serde_json::from_str(&json).unwrap();
    assert_eq!(back, event);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
                    #[test]
                    fn any_input_is_checked_never_a_panic(
                        name in ".{0,120}", grant in ".{0,30}", url in ".{0,80}", client in ".{0,40}",
                        scopes in proptest::collection::vec(".{0,20}", 0..5), sep in proptest::option::of(".{0,6}"),
                        params in proptest::collection::vec((".{0,10}", ".{0,20}"), 0..5),
                        lifetime in proptest::option::of(any::<u32>()), margin in proptest::option::of(any::<u32>()),
                    ) {
                        let input = IntegrationConfigInput {
                            name, grant_type: grant,
                            scopes, scope_separator: sep, authorization_params: params.clone(), token_params: params,
                            refresh: RefreshPolicyInput { refresh_margin_secs: margin, ..Default::default() },
            tokens: TokenHandlingInput { default_token_lifetime_secs: lifetime, ..Default::default() },
        endpoints: EndpointsInput { authorization_url: url.clone(), token_url: url, ..Default::default() },
    client: ClientAuthenticationInput { client_id: client, ..Default::default() },
                            ..Default::default()
                        };
                        if let Ok(config) = input.parse() {
                            // What is accepted round-trips through an event unchanged.
                            let json = serde_json::to_string(&config).unwrap();
                            prop_assert_eq!(serde_json::from_str::<IntegrationConfig>(&json).unwrap(), config);
                        }
                    }
                }
}

#[test]
fn refresh_token_reuse_and_the_failure_horizon_are_checked_and_default_to_never_and_three_days() {
    let config = input().parse().unwrap();
    assert_eq!(config.refresh.refresh_token_reuse, RefreshTokenReuse::Never);
    assert_eq!(config.refresh.refresh_failure_horizon_secs, 3 * 24 * 3600);
    let with = |reuse: &str, grace: Option<u32>| IntegrationConfigInput {
        refresh: RefreshPolicyInput {
            refresh_token_reuse: reuse.to_owned(),
            refresh_token_reuse_grace_secs: grace,
            ..input().refresh
        },
        ..input()
    };
    assert_eq!(
        with("within", Some(1800))
            .parse()
            .unwrap()
            .refresh
            .refresh_token_reuse,
        RefreshTokenReuse::Within { grace_secs: 1800 }
    );
    assert_eq!(
        with("always", None)
            .parse()
            .unwrap()
            .refresh
            .refresh_token_reuse,
        RefreshTokenReuse::Always
    );
    for (reuse, grace, field) in [
        ("within", None, "refresh_token_reuse_grace_secs"),
        ("within", Some(0), "refresh_token_reuse_grace_secs"),
        ("always", Some(5), "refresh_token_reuse_grace_secs"),
        ("sometimes", None, "refresh_token_reuse"),
    ] {
        let errors = with(reuse, grace).parse().unwrap_err();
        assert_eq!(errors.0[0].field, field, "{reuse} {grace:?}");
    }
    let zero = IntegrationConfigInput {
        refresh: RefreshPolicyInput {
            refresh_failure_horizon_secs: Some(0),
            ..input().refresh
        },
        ..input()
    };
    assert_eq!(
        zero.parse().unwrap_err().0[0].field,
        "refresh_failure_horizon_secs"
    );
}

#[test]
fn a_configuration_is_stored_flat_as_before_its_sections_and_read_back_in_any_order() {
    let config = IntegrationConfigInput {
        refresh: RefreshPolicyInput {
            refresh_token_reuse: "within".to_owned(),
            refresh_token_reuse_grace_secs: Some(60),
            ..input().refresh
        },
        ..input()
    }
    .parse()
    .unwrap();
    let value = serde_json::to_value(&config).unwrap();
    let object = value.as_object().unwrap();
    // The keys events and projections have always carried, at the top level.
    for key in [
        "name",
        "grant_type",
        "authorization_url",
        "token_url",
        "client_id",
        "client_auth",
        "token_placement",
        "default_token_lifetime_secs",
        "refresh_margin_secs",
        "refresh_token_reuse",
        "refresh_failure_horizon_secs",
        "validation",
        "account",
        "return_url_origins",
        "allowed_scopes",
        "webhook",
    ] {
        assert!(object.contains_key(key), "{key} is not at the top level");
    }
    for section in [
        "endpoints",
        "client",
        "tokens",
        "refresh",
        "checks",
        "connect",
        "webhooks",
    ] {
        assert!(!object.contains_key(section), "{section} is nested");
    }
    // An event written before the sections, its keys in another order, reads as the same.
    let mut entries: Vec<(&String, &serde_json::Value)> = object.iter().collect();
    entries.reverse();
    let reordered = format!(
        "{{{}}}",
        entries
            .iter()
            .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(
        serde_json::from_str::<IntegrationConfig>(&reordered).unwrap(),
        config
    );
}
