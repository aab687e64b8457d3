//! The one outbound HTTP client for provider calls, guarded against server-side request forgery.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, RETRY_AFTER};
use url::{Host, Url};

use crate::OAuthError;

/// Limits of provider calls.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    /// Development only (`LATCHKEY_ALLOW_LOOPBACK_PROVIDERS=true`): plain HTTP to loopback.
    pub allow_loopback: bool,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    /// Certificate authorities trusted besides the system's (PEM), for providers on a private
    /// PKI (`LATCHKEY_PROVIDER_CA_FILE`).
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            allow_loopback: false,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            max_body_bytes: 256 * 1024,
            extra_roots: Vec::new(),
        }
    }
}

/// A response read whole (within the body limit).
#[derive(Debug)]
pub struct ProviderResponse {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
    /// RFC 9449 §8: a nonce the server wants in the next DPoP proof.
    pub dpop_nonce: Option<String>,
    /// The challenge of a 401 (RFC 9728 §5.1 names the resource's metadata in it).
    pub www_authenticate: Option<String>,
}

use crate::guard::refused_ip;

/// Raised by the resolver; found again in reqwest's error chain to report the URL.
#[derive(Debug)]
struct RefusedAddress {
    host: String,
    ip: IpAddr,
    reason: &'static str,
}

impl fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} resolves to {}, {}", self.host, self.ip, self.reason)
    }
}

impl StdError for RefusedAddress {}

/// Resolves with the system resolver, then refuses the whole name if any address is forbidden (a
/// name with one public and one private address could otherwise be steered to the private one).
#[derive(Debug)]
struct GuardedResolver {
    allow_loopback: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for addr in &addrs {
                if let Some(reason) = refused_ip(addr.ip(), allow_loopback) {
                    return Err(Box::new(RefusedAddress {
                        host: host.clone(),
                        ip: addr.ip(),
                        reason,
                    }) as Box<dyn StdError + Send + Sync>);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The guarded client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ProviderClient {
    client: reqwest::Client,
    policy: Arc<HttpPolicy>,
}

impl ProviderClient {
    pub fn new(policy: HttpPolicy) -> Result<Self, reqwest::Error> {
        let client = Self::builder(&policy)?.build()?;
        Ok(Self {
            client,
            policy: Arc::new(policy),
        })
    }

    fn builder(policy: &HttpPolicy) -> Result<reqwest::ClientBuilder, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.timeout)
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                allow_loopback: policy.allow_loopback,
            }));
        for pem in &policy.extra_roots {
            for root in reqwest::Certificate::from_pem_bundle(pem)? {
                builder = builder.add_root_certificate(root);
            }
        }
        Ok(builder)
    }

    /// The same guarded client presenting a client certificate (RFC 8705 mutual TLS): `pem`
    /// holds the certificate (chain) and its private key. The error never quotes the PEM.
    pub fn with_identity(&self, pem: &secrecy::SecretString) -> Result<Self, String> {
        use secrecy::ExposeSecret as _;
        let identity =
            reqwest::Identity::from_pem(pem.expose_secret().as_bytes()).map_err(|_| {
                "it is not a PEM certificate with its private key (both in one PEM)".to_owned()
            })?;
        let client = Self::builder(&self.policy)
            .and_then(|b| b.identity(identity).build())
            .map_err(|_| "a TLS client cannot be built with this certificate and key".to_owned())?;
        Ok(Self {
            client,
            policy: self.policy.clone(),
        })
    }

    pub fn policy(&self) -> &HttpPolicy {
        &self.policy
    }

    /// Refuses a URL before any connection: scheme, and literal addresses (which skip DNS).
    pub fn check_url(&self, url: &Url) -> Result<(), OAuthError> {
        let refuse = |reason: String| OAuthError::Refused {
            url: url.to_string(),
            reason,
        };
        let host = url
            .host()
            .ok_or_else(|| refuse("it has no host".to_owned()))?;
        let literal = match &host {
            Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
            Host::Domain(_) => None,
        };
        let loopback_name = matches!(&host, Host::Domain(d) if d.eq_ignore_ascii_case("localhost"));
        match url.scheme() {
            "https" => {}
            "http"
                if self.policy.allow_loopback
                    && (loopback_name || literal.is_some_and(|ip| ip.is_loopback())) => {}
            "http" => {
                return Err(refuse(
                    "plain http is refused; providers are reached over https (loopback http only \
                     with LATCHKEY_ALLOW_LOOPBACK_PROVIDERS=true)"
                        .to_owned(),
                ));
            }
            other => return Err(refuse(format!("scheme {other} is not https"))),
        }
        if let Some(ip) = literal
            && let Some(reason) = refused_ip(ip, self.policy.allow_loopback)
        {
            return Err(refuse(format!("{ip} is {reason}")));
        }
        // Names are checked by the resolver, on the addresses actually connected to.
        Ok(())
    }

    /// POSTs a form, with HTTP Basic credentials when given, and reads the answer.
    pub async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<String>,
    ) -> Result<ProviderResponse, OAuthError> {
        self.post_form_with_proof(url, form, basic, None).await
    }

    /// [`Self::post_form`] with a `DPoP` proof header (RFC 9449) when given.
    pub async fn post_form_with_proof(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<String>,
        proof: Option<&str>,
    ) -> Result<ProviderResponse, OAuthError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.post(
            url,
            "application/x-www-form-urlencoded",
            body,
            (basic, proof),
        )
        .await
    }

    /// POSTs a JSON object, with HTTP Basic credentials when given, and reads the answer.
    pub async fn post_json(
        &self,
        url: &Url,
        json: &serde_json::Value,
        basic: Option<String>,
    ) -> Result<ProviderResponse, OAuthError> {
        self.post(url, "application/json", json.to_string(), (basic, None))
            .await
    }

    async fn post(
        &self,
        url: &Url,
        content_type: &'static str,
        body: String,
        (basic, proof): (Option<String>, Option<&str>),
    ) -> Result<ProviderResponse, OAuthError> {
        self.check_url(url)?;
        let mut request = self
            .client
            .post(url.clone())
            .header(ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        if let Some(basic) = basic {
            request = request.header(AUTHORIZATION, basic);
        }
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        self.read(url, request).await
    }

    /// A request with an access token placed the way the integration says (a header with its
    /// prefix, or a query parameter). Errors name the URL without the token.
    pub async fn call_with_token(
        &self,
        method: &str,
        url: &Url,
        placement: &latchkey_domain::TokenPlacement,
        token: &secrecy::SecretString,
    ) -> Result<ProviderResponse, OAuthError> {
        use secrecy::ExposeSecret;
        self.check_url(url)?;
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| OAuthError::Refused {
                url: url.to_string(),
                reason: format!("{method} is not an HTTP method"),
            })?;
        let request = match placement {
            latchkey_domain::TokenPlacement::Header { name, prefix } => {
                let value = if prefix.is_empty() {
                    token.expose_secret().to_owned()
                } else {
                    format!("{prefix} {}", token.expose_secret())
                };
                let mut value = reqwest::header::HeaderValue::from_str(&value).map_err(|_| {
                    OAuthError::Refused {
                        url: url.to_string(),
                        reason: "the token cannot be sent in a header".to_owned(),
                    }
                })?;
                value.set_sensitive(true);
                self.client
                    .request(method.clone(), url.clone())
                    .header(name.as_str(), value)
            }
            latchkey_domain::TokenPlacement::Query { param } => {
                let mut with_token = url.clone();
                with_token
                    .query_pairs_mut()
                    .append_pair(param, token.expose_secret());
                self.client.request(method.clone(), with_token)
            }
        };
        // A POST without arguments (Dropbox's account lookup) sends an empty body.
        let request = if method == reqwest::Method::POST {
            request.header(reqwest::header::CONTENT_LENGTH, "0")
        } else {
            request
        };
        self.read(url, request.header(ACCEPT, "application/json"))
            .await
    }

    /// A provider's own request (a revocation): `method` to `url`, checked and named in errors
    /// as `shown` (the URL without the secret it may carry).
    pub async fn send_shaped(
        &self,
        method: &str,
        (shown, url): (&Url, &Url),
        authorization: Option<String>,
        body: Option<(&'static str, String)>,
    ) -> Result<ProviderResponse, OAuthError> {
        self.check_url(shown)?;
        if url.host_str() != shown.host_str() || url.scheme() != shown.scheme() {
            return Err(OAuthError::Refused {
                url: shown.to_string(),
                reason: "a filled value changed the host".to_owned(),
            });
        }
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| OAuthError::Refused {
                url: shown.to_string(),
                reason: format!("{method} is not an HTTP method"),
            })?;
        let mut request = self
            .client
            .request(method, url.clone())
            .header(ACCEPT, "application/json");
        if let Some(value) = authorization {
            let mut value = reqwest::header::HeaderValue::from_str(&value).map_err(|_| {
                OAuthError::Refused {
                    url: shown.to_string(),
                    reason: "the credentials cannot be sent in a header".to_owned(),
                }
            })?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        request = match body {
            Some((content_type, body)) => request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body),
            None => request.header(reqwest::header::CONTENT_LENGTH, "0"),
        };
        self.read(shown, request).await
    }

    pub async fn get(&self, url: &Url) -> Result<ProviderResponse, OAuthError> {
        self.check_url(url)?;
        let request = self
            .client
            .get(url.clone())
            .header(ACCEPT, "application/json");
        self.read(url, request).await
    }

    async fn read(
        &self,
        url: &Url,
        request: reqwest::RequestBuilder,
    ) -> Result<ProviderResponse, OAuthError> {
        let mut response = request.send().await.map_err(|e| self.map_error(url, &e))?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty() && v.len() <= 2048)
                .map(str::to_owned)
        };
        let dpop_nonce = header("dpop-nonce");
        let www_authenticate = header("www-authenticate");
        if response
            .content_length()
            .is_some_and(|len| len > self.policy.max_body_bytes as u64)
        {
            return Err(self.too_large(status));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.map_error(url, &e))?
        {
            if body.len() + chunk.len() > self.policy.max_body_bytes {
                return Err(self.too_large(status));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ProviderResponse {
            status,
            retry_after,
            body,
            dpop_nonce,
            www_authenticate,
        })
    }

    fn too_large(&self, status: u16) -> OAuthError {
        OAuthError::InvalidResponse {
            status,
            reason: format!(
                "body larger than the {} byte limit",
                self.policy.max_body_bytes
            ),
        }
    }

    fn map_error(&self, url: &Url, error: &reqwest::Error) -> OAuthError {
        let mut source: Option<&(dyn StdError + 'static)> = Some(error);
        while let Some(e) = source {
            if let Some(refused) = e.downcast_ref::<RefusedAddress>() {
                return OAuthError::Refused {
                    url: url.to_string(),
                    reason: refused.to_string(),
                };
            }
            source = e.source();
        }
        if error.is_timeout() {
            return OAuthError::Timeout {
                url: url.to_string(),
                sent: !error.is_connect(),
            };
        }
        // reqwest's message names the URL; its sources say why (refused, reset, TLS…).
        let mut reason = String::new();
        let mut source = error.source();
        while let Some(e) = source {
            if !reason.is_empty() {
                reason.push_str(": ");
            }
            reason.push_str(&e.to_string());
            source = e.source();
        }
        OAuthError::Network {
            url: url.to_string(),
            sent: !error.is_connect(),
            // reqwest's own message names the URL, which may carry a token (query placement).
            reason: if reason.is_empty() {
                "the request failed".to_owned()
            } else {
                reason
            },
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare at token endpoints and is ignored).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(allow_loopback: bool) -> ProviderClient {
        ProviderClient::new(HttpPolicy {
            allow_loopback,
            ..HttpPolicy::default()
        })
        .unwrap()
    }

    fn refused(client: &ProviderClient, url: &str) -> String {
        let parsed = Url::parse(url).unwrap();
        match client.check_url(&parsed) {
            Err(OAuthError::Refused { url: named, reason }) => {
                assert_eq!(named, parsed.to_string());
                reason
            }
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn private_link_local_and_loopback_literals_are_refused() {
        let c = client(false);
        assert!(refused(&c, "https://10.0.0.1/token").contains("private"));
        assert!(refused(&c, "https://169.254.169.254/latest/meta-data").contains("link-local"));
        assert!(refused(&c, "https://127.0.0.1/token").contains("loopback"));
        assert!(refused(&c, "https://[::1]/token").contains("loopback"));
        assert!(refused(&c, "https://[::ffff:10.1.2.3]/token").contains("private"));
        assert!(refused(&c, "https://[fd00::1]/token").contains("unique local"));
        assert!(refused(&c, "https://100.64.0.1/token").contains("shared"));
        assert!(
            c.check_url(&Url::parse("https://login.example.com/token").unwrap())
                .is_ok()
        );
        assert!(
            c.check_url(&Url::parse("https://93.184.215.14/token").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback_in_development() {
        assert!(refused(&client(false), "http://127.0.0.1:8080/token").contains("plain http"));
        assert!(refused(&client(true), "http://example.com/token").contains("plain http"));
        let dev = client(true);
        assert!(
            dev.check_url(&Url::parse("http://127.0.0.1:8080/token").unwrap())
                .is_ok()
        );
        assert!(
            dev.check_url(&Url::parse("http://localhost:8080/token").unwrap())
                .is_ok()
        );
        // Development allows loopback, never private ranges.
        assert!(refused(&dev, "https://10.0.0.1/token").contains("private"));
        assert!(refused(&dev, "https://169.254.169.254/").contains("link-local"));
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_after_resolution() {
        let c = client(false);
        let url = Url::parse("https://localhost:9/token").unwrap();
        let err = c
            .post_form(&url, &[("grant_type", "client_credentials")], None)
            .await;
        match err {
            Err(OAuthError::Refused { url: named, reason }) => {
                assert_eq!(named, "https://localhost:9/token");
                assert!(
                    reason.contains("127.0.0.1") || reason.contains("::1"),
                    "{reason}"
                );
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
