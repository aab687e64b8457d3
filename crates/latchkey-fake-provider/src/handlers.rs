//! The provider's endpoints: metadata, authorize (consent), token (every grant, rotation, reuse
//! detection), revoke, introspect, userinfo and the JWKS.

use super::*;

pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

pub(crate) async fn metadata(State(s): State<Shared>) -> Json<Value> {
    let base = s.issuer.as_str();
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "revocation_endpoint": format!("{base}/revoke"),
        "jwks_uri": format!("{base}/jwks"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "introspection_endpoint": format!("{base}/introspect"),
        "token_endpoint_auth_methods_supported": match s.config.client_auth {
            ClientAuth::Basic => ["client_secret_basic"],
            ClientAuth::Body => ["client_secret_post"],
        },
        "scopes_supported": ["read", "write", "offline_access"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

pub(crate) async fn authorize(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (Some(redirect_uri), Some(client_id)) = (q.get("redirect_uri"), q.get("client_id")) else {
        return (
            StatusCode::BAD_REQUEST,
            "redirect_uri and client_id are required",
        )
            .into_response();
    };
    if *client_id != s.config.client_id {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    let Ok(mut target) = Url::parse(redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is not a URL").into_response();
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return (StatusCode::BAD_REQUEST, "response_type must be code").into_response();
    }
    if let Some(method) = q.get("code_challenge_method")
        && method != "S256"
    {
        return (StatusCode::BAD_REQUEST, "only S256 is supported").into_response();
    }
    let quirks = s.lock().quirks.clone();
    {
        let mut query = target.query_pairs_mut();
        if quirks.deny_consent {
            query
                .append_pair("error", "access_denied")
                .append_pair("error_description", "The user denied access");
        } else if !quirks.omit_code {
            let code = format!("code-{}", Uuid::new_v4().simple());
            s.lock().codes.insert(
                code.clone(),
                Code {
                    client_id: client_id.clone(),
                    redirect_uri: redirect_uri.clone(),
                    challenge: q.get("code_challenge").cloned(),
                    scope: q.get("scope").cloned().unwrap_or_default(),
                    subject: q
                        .get("login_hint")
                        .cloned()
                        .unwrap_or_else(|| s.config.username.clone()),
                },
            );
            query.append_pair("code", &code);
        }
        if let Some(state) = q.get("state") {
            query.append_pair("state", state);
        }
        match quirks.iss {
            Iss::Correct => {
                query.append_pair("iss", &s.issuer);
            }
            Iss::Wrong => {
                query.append_pair("iss", "https://evil.example");
            }
            Iss::Omitted => {}
        }
        for (name, value) in &quirks.callback_params {
            query.append_pair(name, value);
        }
    }
    Redirect::to(target.as_str()).into_response()
}

/// The client the request authenticated as, and how.
#[allow(clippy::result_large_err)] // test code: the error is the response to send
pub(crate) fn client_auth(
    s: &Shared,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<ClientAuth, Response> {
    let invalid = || {
        oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )
    };
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let decoded = value
            .strip_prefix("Basic ")
            .and_then(|b| STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(invalid)?;
        let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
        let decode = |v: &str| {
            url::form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        if s.config.client_auth != ClientAuth::Basic
            || decode(id) != s.config.client_id
            || decode(secret) != s.config.client_secret
        {
            return Err(invalid());
        }
        return Ok(ClientAuth::Basic);
    }
    if s.config.client_auth == ClientAuth::Body
        && form.get("client_id") == Some(&s.config.client_id)
        && form.get("client_secret") == Some(&s.config.client_secret)
    {
        return Ok(ClientAuth::Body);
    }
    Err(invalid())
}

/// The answer to a token request: new tokens for `grant_id`, shaped by the quirks (`refreshing`:
/// the request was a refresh).
pub(crate) fn issue(
    s: &Shared,
    inner: &mut Inner,
    grant_id: &str,
    with_refresh: bool,
    refreshing: bool,
) -> Value {
    let prefix = &s.config.token_prefix;
    let access = format!("{prefix}at-{}", Uuid::new_v4().simple());
    inner.access.insert(access.clone(), grant_id.to_owned());
    inner.issued.push(access.clone());
    let scope = inner
        .grants
        .get(grant_id)
        .map(|g| g.scope.clone())
        .unwrap_or_default();
    let q = &inner.quirks;
    let mut body = json!({ "access_token": access });
    if !q.omit_token_type {
        body["token_type"] = json!("Bearer");
    }
    let expires_in = match &q.refreshed_expires_in {
        Some(lifetime) if refreshing => lifetime,
        _ => &q.expires_in,
    };
    match *expires_in {
        ExpiresIn::Number(n) => body["expires_in"] = json!(n),
        ExpiresIn::String(n) => body["expires_in"] = json!(n.to_string()),
        ExpiresIn::Missing => {}
    }
    if !scope.is_empty() {
        body["scope"] = if q.scope_as_list {
            json!(scope.split(' ').collect::<Vec<_>>())
        } else {
            json!(scope)
        };
    }
    for (key, value) in &q.extra_fields {
        body[key] = value.clone();
    }
    if with_refresh {
        let refresh = format!("{prefix}rt-{}", Uuid::new_v4().simple());
        inner
            .refresh
            .insert(refresh.clone(), (grant_id.to_owned(), false));
        inner.issued.push(refresh.clone());
        body["refresh_token"] = json!(refresh);
        if let Some(secs) = q.refresh_token_expires_in {
            body["refresh_token_expires_in"] = json!(secs);
        }
    }
    if let Some(pointer) = &q.nest_tokens_under {
        // Slack-style: the user's token inside an object, the top level another one's.
        let mut outer = json!({ "ok": true, "access_token": "xoxb-not-the-users" });
        for (key, value) in &q.extra_fields {
            outer[key] = value.clone();
        }
        outer[pointer.as_str()] = body;
        return outer;
    }
    body
}

pub(crate) fn new_grant(inner: &mut Inner, scope: &str, subject: &str) -> String {
    let id = Uuid::new_v4().to_string();
    inner.grants.insert(
        id.clone(),
        Grant {
            revoked: false,
            scope: scope.to_owned(),
            subject: subject.to_owned(),
        },
    );
    id
}

/// An OpenID Connect ID token for `subject`, signed and addressed as the quirk says.
pub(crate) fn id_token(s: &Shared, quirk: IdToken, subject: &str) -> Result<String, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let issuer = match quirk {
        IdToken::WrongIssuer => "https://evil.example".to_owned(),
        IdToken::Good | IdToken::WrongKey => s.issuer.to_string(),
    };
    let key = match quirk {
        IdToken::WrongKey => &s.keys.unpublished,
        IdToken::Good | IdToken::WrongIssuer => &s.keys.published,
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(KID.to_owned());
    let claims = json!({
        "iss": issuer,
        "sub": subject,
        "aud": s.config.client_id,
        "iat": now,
        "exp": now + 3600,
    });
    jsonwebtoken::encode(&header, &claims, key).map_err(|e| e.to_string())
}

pub(crate) async fn jwks(State(s): State<Shared>) -> Json<Value> {
    Json(s.keys.jwks.clone())
}

/// Counts a token request as in flight for as long as it lives.
struct InFlight(Shared);

impl InFlight {
    fn start(s: &Shared) -> Self {
        let mut inner = s.lock();
        inner.in_flight += 1;
        inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
        Self(s.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
    }
}

/// A token request's parameters, from a form or (Notion-style) a JSON object of strings.
fn token_params(headers: &HeaderMap, body: &[u8]) -> (bool, HashMap<String, String>) {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        let object: serde_json::Map<String, Value> =
            serde_json::from_slice(body).unwrap_or_default();
        let params = object
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.to_owned())))
            .collect();
        return (true, params);
    }
    (
        false,
        url::form_urlencoded::parse(body).into_owned().collect(),
    )
}

/// The password grant: the configured user's credentials, or `invalid_grant`.
fn password_grant(
    s: &Shared,
    inner: &mut Inner,
    form: &HashMap<String, String>,
) -> Result<Value, Box<Response>> {
    if form.get("username") != Some(&s.config.username)
        || form.get("password") != Some(&s.config.password)
    {
        return Err(Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "bad credentials",
        )));
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    let grant = new_grant(inner, &scope, &s.config.username);
    let refresh = !inner.quirks.no_refresh_token;
    Ok(issue(s, inner, &grant, refresh, false))
}

pub(crate) async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (json, form) = token_params(&headers, &body);
    if s.lock().quirks.json_requests && !json {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be a JSON object",
        );
    }
    let _in_flight = InFlight::start(&s);
    let delay = s.lock().quirks.token_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let auth = client_auth(&s, &headers, &form);
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    {
        let mut params: Vec<(String, String)> =
            form.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        params.sort();
        s.lock().token_calls.push(TokenCall {
            grant_type: grant_type.clone(),
            client_auth: auth.as_ref().ok().copied(),
            client_id: form.get("client_id").cloned(),
            params,
        });
    }
    if let Some((status, body)) = s.lock().quirks.token_override.clone() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, [(header::RETRY_AFTER, "7")], body).into_response();
    }
    let scripted = s.lock().scripted.pop_front();
    if let Some((status, body, retry_after)) = scripted {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, body).into_response();
        if let Some(secs) = retry_after
            && let Ok(value) = header::HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    if let Err(response) = auth {
        return response;
    }
    let (body, answer_delay) = {
        let mut inner = s.lock();
        let body = match grant_type.as_str() {
            "authorization_code" => match code_grant(&s, &mut inner, &form) {
                Ok(body) => body,
                Err(response) => return *response,
            },
            "client_credentials" => {
                let scope = form.get("scope").cloned().unwrap_or_default();
                let grant = new_grant(&mut inner, &scope, &s.config.client_id);
                issue(&s, &mut inner, &grant, false, false)
            }
            "password" => match password_grant(&s, &mut inner, &form) {
                Ok(body) => body,
                Err(response) => return *response,
            },
            "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
                match super::assertions::jwt_bearer_grant(&s, &mut inner, &form) {
                    Ok(body) => body,
                    Err(response) => return *response,
                }
            }
            "refresh_token" => match refresh_grant(&s, &mut inner, &form) {
                Ok(body) => body,
                Err(response) => return *response,
            },
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    "unsupported grant_type",
                );
            }
        };
        (body, inner.quirks.answer_delay)
    };
    if !answer_delay.is_zero() {
        tokio::time::sleep(answer_delay).await;
    }
    if s.lock().quirks.form_encoded_answers {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        if let Value::Object(fields) = &body {
            for (key, value) in fields {
                match value {
                    Value::String(text) => form.append_pair(key, text),
                    other => form.append_pair(key, &other.to_string()),
                };
            }
        }
        return (
            StatusCode::OK,
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            ],
            form.finish(),
        )
            .into_response();
    }
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response()
}

/// An OAuth error answer, boxed (a refusal is the rare path).
fn refuse(status: StatusCode, error: &str, description: &str) -> Box<Response> {
    Box::new(oauth_error(status, error, description))
}

/// The authorization-code grant: the code spent, its redirect and PKCE checked, tokens issued
/// (an ID token too when `openid` was asked for).
fn code_grant(
    s: &Shared,
    inner: &mut Inner,
    form: &HashMap<String, String>,
) -> Result<Value, Box<Response>> {
    let Some(code) = form.get("code").and_then(|c| inner.codes.remove(c)) else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown or used code",
        ));
    };
    if code.client_id != s.config.client_id || form.get("redirect_uri") != Some(&code.redirect_uri)
    {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri mismatch",
        ));
    }
    if let Some(challenge) = &code.challenge {
        let Some(verifier) = form.get("code_verifier") else {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "code_verifier required",
            ));
        };
        if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "PKCE verification failed",
            ));
        }
    }
    let grant = new_grant(inner, &code.scope, &code.subject);
    let refresh = !inner.quirks.no_refresh_token;
    let mut body = issue(s, inner, &grant, refresh, false);
    if code.scope.split(' ').any(|scope| scope == "openid") {
        match id_token(s, inner.quirks.id_token, &code.subject) {
            Ok(token) => body["id_token"] = json!(token),
            Err(e) => {
                return Err(refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    &e,
                ));
            }
        }
    }
    Ok(body)
}

/// The refresh-token grant: reuse detection, the grace after a rotation, rotation.
fn refresh_grant(
    s: &Shared,
    inner: &mut Inner,
    form: &HashMap<String, String>,
) -> Result<Value, Box<Response>> {
    let presented = form.get("refresh_token").cloned().unwrap_or_default();
    let Some((grant, spent)) = inner.refresh.get(&presented).cloned() else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown refresh token",
        ));
    };
    let successor_used = inner.successors.get(&presented).is_some_and(|next| {
        next.iter()
            .any(|t| inner.refresh.get(t).is_some_and(|(_, spent)| *spent))
    });
    let in_grace = inner
        .spent_at
        .get(&presented)
        .is_some_and(|at| at.elapsed() <= inner.quirks.reuse_grace)
        && !(inner.quirks.grace_until_successor_used && successor_used);
    if spent && !in_grace {
        // Reuse detection: a spent refresh token revokes the whole grant.
        inner.reuse_detected += 1;
        if let Some(g) = inner.grants.get_mut(&grant) {
            g.revoked = true;
        }
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "refresh token reused; grant revoked",
        ));
    }
    if inner.grants.get(&grant).is_none_or(|g| g.revoked) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "grant revoked",
        ));
    }
    if spent {
        inner.reuse_honoured += 1;
    }
    let rotate = inner.quirks.rotate_refresh_tokens;
    if rotate && let Some(entry) = inner.refresh.get_mut(&presented) {
        entry.1 = true;
        inner
            .spent_at
            .entry(presented.clone())
            .or_insert_with(std::time::Instant::now);
    }
    let body = issue(s, inner, &grant, rotate, true);
    if rotate && let Some(next) = inner.issued.last().cloned() {
        inner.successors.entry(presented).or_default().push(next);
    }
    Ok(body)
}

pub(crate) async fn revoke(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(response) = client_auth(&s, &headers, &form) {
        return response;
    }
    let token = form.get("token").cloned().unwrap_or_default();
    let mut inner = s.lock();
    if let Some(status) = inner.quirks.revocation_status {
        return StatusCode::from_u16(status)
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            .into_response();
    }
    inner
        .revocations
        .push((token.clone(), form.get("token_type_hint").cloned()));
    let grant = inner
        .refresh
        .get(&token)
        .map(|(g, _)| g.clone())
        .or_else(|| inner.access.get(&token).cloned());
    if let Some(grant) = grant.and_then(|g| inner.grants.get_mut(&g)) {
        grant.revoked = true;
    }
    // RFC 7009 §2.2: 200 whether or not the token was valid.
    StatusCode::OK.into_response()
}

pub(crate) async fn introspect(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(response) = client_auth(&s, &headers, &form) {
        return response;
    }
    let token = form.get("token").cloned().unwrap_or_default();
    let provider = FakeProvider {
        addr: "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
        shared: s,
    };
    let active = match form.get("token_type_hint").map(String::as_str) {
        Some("refresh_token") => provider.accepts_refresh_token(&token),
        _ => provider.accepts_access_token(&token),
    };
    Json(json!({ "active": active })).into_response()
}

pub(crate) async fn me(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    // Only where this provider takes tokens: a token anywhere else is no token.
    let placement = s.lock().quirks.api_token.clone();
    let token = match placement {
        ApiToken::Header { name, prefix } => headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                if prefix.is_empty() {
                    Some(v)
                } else {
                    v.strip_prefix(prefix.as_str())?.strip_prefix(' ')
                }
            })
            .unwrap_or_default()
            .to_owned(),
        ApiToken::Query { param } => query.get(&param).cloned().unwrap_or_default(),
    };
    let provider = FakeProvider {
        addr: "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
        shared: s,
    };
    let subject = {
        let inner = provider.shared.lock();
        inner
            .access
            .get(&token)
            .and_then(|grant| inner.grants.get(grant))
            .map(|g| g.subject.clone())
    };
    if provider.accepts_access_token(&token) {
        Json(json!({
            "sub": subject.unwrap_or_default(),
            "user": provider.config().username,
        }))
        .into_response()
    } else {
        oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "token unknown or revoked",
        )
    }
}

/// Keeps each request's method, target, authorization, content type and body.
pub(crate) async fn record(
    State(s): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
    };
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    s.lock().requests.push(SeenRequest {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        authorization: header(header::AUTHORIZATION),
        content_type: header(header::CONTENT_TYPE),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    });
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// Any request under `/custom/`: `{"ok": true}` (Slack's answers look like this).
pub(crate) async fn custom() -> Json<Value> {
    Json(json!({ "ok": true }))
}
