use super::*;
use latchkey_domain::integration::{
    ClientAuthenticationInput, EndpointsInput, IntegrationConfigInput, TokenHandlingInput,
};

fn config(metadata_fields: &[&str], separator: Option<&str>) -> IntegrationConfig {
    IntegrationConfigInput {
        name: "P".to_owned(),
        grant_type: "client_credentials".to_owned(),
        scope_separator: separator.map(str::to_owned),
        tokens: TokenHandlingInput {
            metadata_fields: metadata_fields.iter().map(|s| s.to_string()).collect(),
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

fn parse(status: u16, body: &str) -> Result<TokenResponse, OAuthError> {
    parse_token_response(
        status,
        None,
        body.as_bytes(),
        &config(&["instance_url"], None),
    )
}

#[test]
fn expires_in_may_be_a_number_a_string_or_missing() {
    let number = parse(200, r#"{"access_token":"a","expires_in":3600}"#).unwrap();
    assert_eq!(number.expires_in, Some(3600));
    let string = parse(200, r#"{"access_token":"a","expires_in":"3599"}"#).unwrap();
    assert_eq!(string.expires_in, Some(3599));
    assert_eq!(
        string.metadata["expires_in"],
        Value::String("3599".to_owned())
    );
    let missing = parse(200, r#"{"access_token":"a"}"#).unwrap();
    assert_eq!(missing.expires_in, None);
    let garbage = parse(200, r#"{"access_token":"a","expires_in":"soon"}"#).unwrap();
    assert_eq!(garbage.expires_in, None);
    let absurd = parse(200, r#"{"access_token":"a","expires_in":99999999999}"#).unwrap();
    assert_eq!(
        absurd.expires_in,
        Some(u64::from(IntegrationConfig::MAX_TOKEN_LIFETIME_SECS))
    );
}

#[test]
fn a_form_encoded_answer_reads_like_a_json_one() {
    let form = parse(
        200,
        "access_token=gho_a&scope=repo%2Cgist&token_type=bearer&expires_in=28800&refresh_token=ghr_r",
    )
    .unwrap();
    assert_eq!(form.access_token.expose_secret(), "gho_a");
    assert_eq!(form.refresh_token.unwrap().expose_secret(), "ghr_r");
    assert_eq!(form.expires_in, Some(28800));
    assert_eq!(
        form.scopes,
        Some(vec!["repo,gist".to_owned()]),
        "split by the integration's separator only"
    );
    let error = parse(
        200,
        "error=bad_verification_code&error_description=The+code",
    )
    .unwrap_err();
    assert_eq!(error.error_code(), Some("bad_verification_code"));
    for not_a_form in ["<html>a=b</html>", "plain text", ""] {
        assert!(parse(200, not_a_form).is_err(), "{not_a_form}");
    }
}

#[test]
fn a_missing_token_type_means_bearer() {
    assert_eq!(
        parse(200, r#"{"access_token":"a"}"#).unwrap().token_type,
        "Bearer"
    );
    assert_eq!(
        parse(200, r#"{"access_token":"a","token_type":"bearer"}"#)
            .unwrap()
            .token_type,
        "bearer"
    );
}

#[test]
fn scope_may_be_a_string_or_a_list() {
    let string = parse(200, r#"{"access_token":"a","scope":"read write"}"#).unwrap();
    assert_eq!(
        string.scopes,
        Some(vec!["read".to_owned(), "write".to_owned()])
    );
    let list = parse(200, r#"{"access_token":"a","scope":["read","write"]}"#).unwrap();
    assert_eq!(list.scopes, string.scopes);
    let comma = parse_token_response(
        200,
        None,
        br#"{"access_token":"a","scope":"read,write"}"#,
        &config(&[], Some(",")),
    )
    .unwrap();
    assert_eq!(comma.scopes, string.scopes);
    assert_eq!(parse(200, r#"{"access_token":"a"}"#).unwrap().scopes, None);
}

#[test]
fn only_the_integrations_fields_are_kept_and_never_a_secret() {
    let response = parse(
        200,
        r#"{"access_token":"a","refresh_token":"r","id_token":"i","instance_url":"https://x.my.salesforce.com","signature":"s"}"#,
    )
    .unwrap();
    assert_eq!(
        response.metadata["instance_url"],
        Value::String("https://x.my.salesforce.com".to_owned())
    );
    assert!(!response.metadata.contains_key("signature"));
    assert!(!response.metadata.contains_key("refresh_token"));
    assert!(!response.metadata.contains_key("id_token"));
    assert_eq!(response.refresh_token.unwrap().expose_secret(), "r");
}

#[test]
fn unusable_responses_keep_the_status_and_the_oauth_error() {
    let error = parse(
        400,
        r#"{"error":"invalid_grant","error_description":"expired"}"#,
    )
    .unwrap_err();
    assert_eq!(error.error_code(), Some("invalid_grant"));
    assert_eq!(error.status(), Some(400));
    let ok_with_error = parse(200, r#"{"error":"bad_verification_code"}"#).unwrap_err();
    assert_eq!(ok_with_error.error_code(), Some("bad_verification_code"));
    // A form-encoded answer is read (issue 20); text that is neither is not.
    let not_json = parse(200, "the token is a").unwrap_err();
    assert!(matches!(
        not_json,
        OAuthError::InvalidResponse { status: 200, .. }
    ));
    let no_token = parse(200, r#"{"token_type":"Bearer"}"#).unwrap_err();
    assert!(no_token.to_string().contains("no access_token"));
    let html = parse(502, "<html>bad gateway</html>").unwrap_err();
    assert_eq!(html.status(), Some(502));
    assert_eq!(html.error_code(), None);
    let limited =
        parse_token_response(429, Some(Duration::from_secs(7)), b"{}", &config(&[], None))
            .unwrap_err();
    assert!(matches!(
        limited,
        OAuthError::Provider { retry_after: Some(d), .. } if d == Duration::from_secs(7)
    ));
}

#[test]
fn tokens_never_show_in_debug_output() {
    let response = parse(
        200,
        r#"{"access_token":"canary-at","refresh_token":"canary-rt"}"#,
    )
    .unwrap();
    let debug = format!("{response:?}");
    assert!(!debug.contains("canary-at") && !debug.contains("canary-rt"));
}

#[test]
fn basic_credentials_are_form_encoded_before_base64() {
    let header = basic_header("id:1", &SecretString::from("s p&c"));
    let decoded = STANDARD
        .decode(header.trim_start_matches("Basic "))
        .unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), "id%3A1:s+p%26c");
}
