// panva's oidc-provider, a certified OpenID Provider, as a real authorization server for
// Latchkey's black-box tests (tests/blackbox/oidc.rs starts one per test).
//
//   node server.mjs <settings.json>
//
// prints `oidc-provider listening on <port> <tls port>` once it answers on 127.0.0.1:<port> (and,
// with `mtls`, over TLS on the second port; 0 without), whose issuer is
// `http://127.0.0.1:<port>`. The settings file holds the registered clients (`clients`, in
// oidc-provider's client metadata), optional lifetimes (`access_token_ttl`, `device_code_ttl`,
// seconds), `require_par` (every client must push its authorization requests) and `dpop_nonce`
// (DPoP proofs must carry the server's nonce). `GET /resource` is a protected resource that
// checks DPoP-bound tokens as RFC 9449 §7 says; `/mcp` is an MCP server protected by this
// authorization server (its metadata at /.well-known/oauth-protected-resource/mcp).
//
// Enabled: client credentials, device flow, PAR, DPoP, introspection, revocation, open dynamic
// registration and resource indicators (a resource's access tokens have it as their audience). A confidential client `introspector` / `introspector-secret` is always registered, for
// the tests to ask the introspection endpoint about a token.
//
// The customer's side is played by the server itself, so a test needs no browser:
//   - an authorization request's login and consent are granted at once as account `customer-1`
//     (`POST /test/interactions?decision=deny` makes the next ones refuse with access_denied);
//   - `POST /test/device?user_code=…&decision=approve|deny` approves or denies a device code, as
//     the customer would at the verification page.
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { createServer, request as forward } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';
import Provider, { errors } from 'oidc-provider';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const ACCOUNT = 'customer-1';
let interactionDecision = 'approve';

const listen = (listener) => new Promise((resolve) => {
  listener.listen(0, '127.0.0.1', () => resolve(listener.address().port));
});
const server = createServer();
const port = await listen(server);
const issuer = `http://127.0.0.1:${port}`;
// With `mtls: {cert, key, ca}` (PEM file paths), the same provider also answers over TLS on a
// second port, asking clients for a certificate (RFC 8705): the CA's are "authorized".
const tlsServer = settings.mtls && createTlsServer({
  cert: readFileSync(settings.mtls.cert),
  key: readFileSync(settings.mtls.key),
  ca: readFileSync(settings.mtls.ca),
  requestCert: true,
  rejectUnauthorized: false,
});
const tlsPort = tlsServer ? await listen(tlsServer) : 0;
// With `front: {cert, key}`, an https front on a third port for the service under test (whose
// listener is plain HTTP), forwarding to the origin `POST /test/front?upstream=` names: how the
// service is reached over https, as a client metadata document's URL must be. The CA of that
// certificate is given to this process (NODE_EXTRA_CA_CERTS) so that its own fetches trust it.
let upstream;
const front = settings.front && createTlsServer({
  cert: readFileSync(settings.front.cert),
  key: readFileSync(settings.front.key),
}, (req, res) => {
  if (!upstream) {
    res.writeHead(502).end('no upstream yet');
    return;
  }
  const target = new URL(req.url, upstream);
  const proxied = forward(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  proxied.on('error', () => res.writeHead(502).end());
  req.pipe(proxied);
});
const frontPort = front ? await listen(front) : 0;
const peerCertificate = (ctx) => {
  const peer = ctx.socket?.getPeerCertificate?.();
  return peer?.raw ? new X509Certificate(peer.raw) : undefined;
};

// A client given as `self_signed_certificate` (PEM) is registered with that certificate as its
// JWK, x5c included (RFC 8705 §2.2).
const registered = (settings.clients ?? []).map(({ self_signed_certificate: pem, ...client }) => {
  if (!pem) return client;
  const certificate = new X509Certificate(pem);
  const jwk = certificate.publicKey.export({ format: 'jwk' });
  return { ...client, jwks: { keys: [{ ...jwk, x5c: [certificate.raw.toString('base64')] }] } };
});

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'introspector',
      client_secret: 'introspector-secret',
      grant_types: [],
      redirect_uris: [],
      response_types: [],
    },
    ...registered,
  ],
  scopes: ['openid', 'offline_access', 'read', 'write', 'mcp:tools'],
  clientAuthMethods: [
    'client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none',
    'tls_client_auth', 'self_signed_tls_client_auth',
  ],
  // Latchkey runs on loopback in the tests: the SSRF guard's dispatcher (which refuses loopback
  // addresses) is left out of the provider's own fetches (jwks_uri, client metadata documents).
  fetch: (url, { dispatcher: _guard, ...options }) => fetch(url, options),
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  cookies: { keys: ['latchkey-test-only-cookie-key'] },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: {
    AccessToken: settings.access_token_ttl ?? 3600,
    ClientCredentials: settings.access_token_ttl ?? 3600,
    DeviceCode: settings.device_code_ttl ?? 600,
  },
  features: {
    devInteractions: { enabled: false },
    clientIdMetadataDocument: { enabled: settings.cimd ?? false, ack: 'draft-02' },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    registration: { enabled: true },
    pushedAuthorizationRequests: {
      enabled: true,
      requirePushedAuthorizationRequests: settings.require_par ?? false,
    },
    mTLS: {
      enabled: true,
      tlsClientAuth: true,
      selfSignedTlsClientAuth: true,
      getCertificate: (ctx) => peerCertificate(ctx)?.toString(),
      certificateAuthorized: (ctx) => ctx.socket?.authorized === true,
      certificateSubjectMatches: (ctx, property, expected) => property === 'tls_client_auth_subject_dn'
        && peerCertificate(ctx)?.subject === expected,
    },
    dPoP: {
      enabled: true,
      nonceSecret: randomBytes(32),
      requireNonce: () => settings.dpop_nonce ?? false,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => ({
        scope: 'read write mcp:tools',
        audience: resource,
        accessTokenTTL: settings.access_token_ttl ?? 3600,
        accessTokenFormat: 'opaque',
      }),
    },
  },
});

// Token exchange (RFC 8693), which oidc-provider leaves to its users: an active access token of
// any client (the subject) is traded for a token of the calling client for `audience`.
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
  const { subject_token: subjectToken, subject_token_type: subjectType, audience, scope } = ctx.oidc.params;
  const subject = (await provider.AccessToken.find(subjectToken ?? ''))
    ?? (await provider.ClientCredentials.find(subjectToken ?? ''));
  if (!subject || subjectType !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidGrant('the subject token is not an active access token');
  }
  const token = new provider.ClientCredentials({ client: ctx.oidc.client, scope: scope || undefined });
  if (audience) token.aud = audience;
  ctx.body = {
    access_token: await token.save(),
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: token.expiration,
    scope: token.scope,
  };
}, ['subject_token', 'subject_token_type', 'audience', 'requested_token_type', 'scope']);

// Why a request was refused, on stderr (the tests' output when one fails).
for (const event of ['grant.error', 'introspection.error', 'revocation.error', 'server_error',
  'pushed_authorization_request.error', 'authorization.error', 'registration_create.error']) {
  const name = event;
  provider.on(name, (_ctx, error) => {
    if (error.error === 'authorization_pending') return;
    console.error(`oidc-provider ${name}: ${error.message} ${error.error_detail ?? ''} ${error.cause?.error_description ?? error.cause ?? ''} ${error.cause?.cause?.message ?? ''} ${error.cause?.cause?.cause?.message ?? ''}`);
  });
}

// A protected resource, as an API would check its callers: the access token must be active; a
// DPoP-bound one (RFC 9449 §7) only with a proof made by the key it is bound to, for this very
// request and this token.
async function resource(req, res) {
  const deny = (why) => {
    res.writeHead(401, { 'www-authenticate': `DPoP error="invalid_token", error_description="${why}"` });
    res.end(JSON.stringify({ error: 'invalid_token', error_description: why }));
  };
  const [scheme, token] = (req.headers.authorization ?? '').split(' ');
  const accessToken = token
    ? (await provider.AccessToken.find(token)) ?? (await provider.ClientCredentials.find(token))
    : undefined;
  if (!accessToken) return deny('no active access token');
  if (accessToken.jkt) {
    if (scheme !== 'DPoP') return deny('a DPoP-bound token goes with the DPoP scheme');
    if (!req.headers.dpop) return deny('no DPoP proof');
    let proof;
    try {
      proof = await jwtVerify(req.headers.dpop, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
    } catch (error) {
      return deny(`the proof does not verify: ${error.message}`);
    }
    const { payload, protectedHeader } = proof;
    const ath = createHash('sha256').update(token).digest('base64url');
    if (await calculateJwkThumbprint(protectedHeader.jwk) !== accessToken.jkt) return deny('the proof is not made by the bound key');
    if (payload.htm !== req.method || payload.htu !== `${issuer}/resource`) return deny('the proof is for another request');
    if (payload.ath !== ath) return deny('the proof is for another token');
    if (Math.abs(payload.iat - Date.now() / 1000) > 60) return deny('the proof is stale');
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ client_id: accessToken.clientId, bound: Boolean(accessToken.jkt) }));
}

// An MCP server as the MCP authorization specification has it: without a token for it, 401
// naming its protected-resource metadata (RFC 9728), which names this authorization server.
const MCP = '/mcp';
function mcpMetadata(res) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({
    resource: `${issuer}${MCP}`,
    authorization_servers: [issuer],
    scopes_supported: ['mcp:tools'],
    resource_name: 'Test tools',
  }));
}
async function mcp(req, res) {
  const [scheme, token] = (req.headers.authorization ?? '').split(' ');
  const accessToken = scheme === 'Bearer' && token ? await provider.AccessToken.find(token) : undefined;
  const audience = [accessToken?.aud].flat();
  if (!accessToken || !audience.includes(`${issuer}${MCP}`)) {
    res.writeHead(401, {
      'www-authenticate': `Bearer error="invalid_token", resource_metadata="${issuer}/.well-known/oauth-protected-resource${MCP}"`,
    });
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [] } }));
}

// The customer at the provider: logs in and consents to everything asked, or refuses.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (interactionDecision === 'deny') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'the customer said no',
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (details.prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: ACCOUNT, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, {
    mergeWithLastSubmission: true,
  });
}

// The customer at the verification page: approves or denies a user code.
async function device(url, res) {
  const userCode = (url.searchParams.get('user_code') ?? '').toUpperCase().replace(/\W/g, '');
  const code = await provider.DeviceCode.findByUserCode(userCode);
  if (!code) {
    res.writeHead(404).end('no such user code');
    return;
  }
  if (url.searchParams.get('decision') === 'deny') {
    code.error = 'access_denied';
    code.errorDescription = 'the customer said no';
  } else {
    const grant = new provider.Grant({ accountId: ACCOUNT, clientId: code.clientId });
    if (code.scope) grant.addOIDCScope(code.scope);
    for (const [resource, scopes] of Object.entries(code.resource ? { [code.resource]: code.scope ?? '' } : {})) {
      grant.addResourceScope(resource, scopes);
    }
    code.grantId = await grant.save();
    code.accountId = ACCOUNT;
    code.authTime = Math.floor(Date.now() / 1000);
  }
  await code.save();
  res.writeHead(204).end();
}

const callback = provider.callback();
async function handle(req, res) {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname === MCP) {
      await mcp(req, res);
    } else if (url.pathname === `/.well-known/oauth-protected-resource${MCP}`) {
      mcpMetadata(res);
    } else if (url.pathname === '/resource') {
      await resource(req, res);
    } else if (url.pathname.startsWith('/interaction/')) {
      await interaction(req, res);
    } else if (url.pathname === '/test/device' && req.method === 'POST') {
      await device(url, res);
    } else if (url.pathname === '/test/secrets') {
      // What only the provider and its client know, for the tests' leak checks: a registered
      // client's secret, a device code by its user code.
      const client = await provider.Client.find(url.searchParams.get('client_id') ?? '');
      const userCode = (url.searchParams.get('user_code') ?? '').toUpperCase().replace(/\W/g, '');
      const device = userCode ? await provider.DeviceCode.findByUserCode(userCode) : undefined;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ client_secret: client?.clientSecret, device_code: device?.jti }));
    } else if (url.pathname === '/test/front' && req.method === 'POST') {
      upstream = url.searchParams.get('upstream');
      res.writeHead(204).end();
    } else if (url.pathname === '/test/interactions' && req.method === 'POST') {
      interactionDecision = url.searchParams.get('decision') ?? 'approve';
      res.writeHead(204).end();
    } else {
      callback(req, res);
    }
  } catch (error) {
    res.writeHead(500).end(String(error));
  }
}
server.on('request', handle);
tlsServer?.on('request', handle);

console.log(`oidc-provider listening on ${port} ${tlsPort} ${frontPort}`);
