use super::*;
use latchkey_domain::integration::{
    ClientAuthenticationInput, EndpointsInput, IntegrationConfigInput, TokenHandlingInput,
};
use proptest::prelude::*;

fn config() -> IntegrationConfig {
    IntegrationConfigInput {
        name: "P".to_owned(),
        grant_type: "client_credentials".to_owned(),
        tokens: TokenHandlingInput {
            metadata_fields: vec!["instance_url".to_owned()],
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

/// Bodies a provider may send where JSON belongs.
fn hostile_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        ".{0,200}".prop_map(|t| format!("<html><body>{t}</body></html>").into_bytes()),
        prop_oneof![
            Just(serde_json::json!(null)),
            any::<bool>().prop_map(|b| serde_json::json!(b)),
            any::<f64>().prop_map(|n| serde_json::json!(n)),
            proptest::collection::vec(".{0,6}", 0..4).prop_map(|v| serde_json::json!(v)),
            proptest::collection::hash_map(".{0,6}", any::<bool>(), 0..4)
                .prop_map(|m| serde_json::json!(m))
        ]
        .prop_map(|v| v.to_string().into_bytes()),
        prop_oneof![
            Just(serde_json::json!(null)),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            ".{0,10}".prop_map(|s| serde_json::json!(s)),
            Just(serde_json::json!([true]))
        ]
        .prop_map(|active| {
            serde_json::json!({ "active": active, "token": "CANARY-SECRET" })
                .to_string()
                .into_bytes()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_introspection_answer_is_read_or_named_never_a_panic(status in prop_oneof![200u16..300, any::<u16>()], body in hostile_body()) {
        match read_introspection(status, None, &body) {
            Ok(active) => {
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                prop_assert!((200..300).contains(&status));
                prop_assert_eq!(json["active"].as_bool(), Some(active));
            }
            Err(e) => {
                let text = e.to_string();
                prop_assert!(!text.contains("CANARY-SECRET"), "{}", text);
                if (200..300).contains(&status) {
                    prop_assert!(text.contains("introspection answer"), "{}", text);
                }
            }
        }
    }

    #[test]
    fn any_body_and_status_give_a_result_never_a_panic(status in any::<u16>(), body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_token_response(status, None, &body, &config());
    }

    #[test]
    fn any_json_fields_give_a_result_never_a_panic(
        expires in prop_oneof![Just(serde_json::json!(null)), any::<i64>().prop_map(|n| serde_json::json!(n)), any::<f64>().prop_map(|n| serde_json::json!(n)), ".{0,20}".prop_map(|s| serde_json::json!(s))],
        scope in prop_oneof![Just(serde_json::json!(null)), ".{0,40}".prop_map(|s| serde_json::json!(s)), proptest::collection::vec(".{0,10}", 0..5).prop_map(|v| serde_json::json!(v))],
        token in ".{0,64}",
    ) {
        let body = serde_json::json!({ "access_token": token, "expires_in": expires, "scope": scope });
        let parsed = parse_token_response(200, None, body.to_string().as_bytes(), &config());
        if let Ok(response) = parsed {
            prop_assert!(!response.access_token.expose_secret().is_empty());
            prop_assert!(response.expires_in.is_none_or(|s| s >= 1 && s <= u64::from(IntegrationConfig::MAX_TOKEN_LIFETIME_SECS)));
        }
    }
}
