// The client against a real Latchkey: what a worker sees.
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { status } = require("@grpc/grpc-js");
const latchkey = require("..");
const { Latchkey } = require("./support/harness");

let server;
let limited;
let keyed;
let withNats;
let mutualTls;
const natsUrl = process.env.LATCHKEY_TEST_NATS_URL;
const run = Math.random().toString(16).slice(2, 14);
before(async () => {
  server = await Latchkey.start();
  if (natsUrl) {
    withNats = await Latchkey.start({
      LATCHKEY_NATS_URL: natsUrl,
      LATCHKEY_NATS_STREAM: `LK_TSCLIENT_${run}`,
      LATCHKEY_NATS_SUBJECT_PREFIX: `lktsclient.${run}`,
    });
  }
  limited = await Latchkey.start({ LATCHKEY_CALLER_RATE: "2" });
  keyed = await Latchkey.start({}, true);
  mutualTls = await Latchkey.startMutualTls();
});
after(async () => {
  await server?.stop();
  await limited?.stop();
  await keyed?.stop();
  await withNats?.stop();
  await mutualTls?.stop();
});

test("a token is served from the cache until its margin", async () => {
  const id = await server.connect();
  const client = new latchkey.Client({ server: server.url });
  try {
    const before = await server.getTokenCalls();
    const first = await client.getToken(id, { minTtlSeconds: 60 });
    const again = await client.getToken(id, { minTtlSeconds: 120 });
    assert.equal(again, first, "served from the cache");
    assert.equal(await server.getTokenCalls(), before + 1);
    assert.deepEqual(first.header, ["Authorization", `Bearer ${first.accessToken}`]);
    assert.ok(!JSON.stringify(first).includes(first.accessToken), "JSON never shows the token");
    // Once the cached token has less than a caller asks for, the server is asked (and
    // refreshes: its token has no more left). The dev provider's tokens last an hour.
    const deadline = Date.now() + 10_000;
    while (first.secondsLeft() > 3598) {
      assert.ok(Date.now() < deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    const more = await client.getToken(id, { minTtlSeconds: 3599 });
    assert.equal(await server.getTokenCalls(), before + 2);
    assert.notEqual(more.accessToken, first.accessToken);
  } finally {
    client.close();
  }
});

test("fifty callers asking at once cost one call", async () => {
  const id = await server.connect();
  const client = new latchkey.Client({ server: server.url });
  try {
    const before = await server.getTokenCalls();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getToken(id)));
    assert.equal(new Set(tokens.map((t) => t.accessToken)).size, 1);
    assert.equal(await server.getTokenCalls(), before + 1);
  } finally {
    client.close();
  }
});

test("a revoked connection is a typed error with its id, not retried", async () => {
  const id = await server.connect();
  await server.revoke(id);
  const client = new latchkey.Client({ server: server.url });
  const retries = [];
  client.onRetry = (method, error) => retries.push(`${method} ${error.reason}`);
  try {
    const before = await server.getTokenCalls();
    await assert.rejects(client.getToken(id), (error) => {
      assert.ok(error instanceof latchkey.Revoked, String(error));
      assert.equal(error.connectionId, id);
      assert.equal(error.reason, "REVOKED");
      assert.equal(error.code, status.FAILED_PRECONDITION);
      assert.equal(error.retryable, false);
      return true;
    });
    assert.equal(await server.getTokenCalls(), before + 1, "asked once");
    assert.deepEqual(retries, []);
  } finally {
    client.close();
  }
});

test("a grant the provider refuses is ReauthorizationRequired", async () => {
  const id = await server.connectWithADeadRefreshToken();
  const client = new latchkey.Client({ server: server.url });
  try {
    await assert.rejects(client.getToken(id), (error) => {
      assert.ok(error instanceof latchkey.ReauthorizationRequired, String(error));
      assert.equal(error.connectionId, id);
      assert.equal(error.metadata.error, "invalid_grant");
      return true;
    });
  } finally {
    client.close();
  }
});

test("rate-limited calls are retried after the server's delay", async () => {
  const ids = [];
  for (let i = 0; i < 4; i++) ids.push(await limited.connect());
  const client = new latchkey.Client({ server: limited.url });
  const retries = [];
  client.onRetry = (method, error, waitMs) => retries.push({ method, reason: error.reason, waitMs });
  try {
    const tokens = [];
    for (const id of ids) tokens.push(await client.getToken(id));
    assert.equal(new Set(tokens.map((t) => t.accessToken)).size, 4);
    assert.ok(retries.length > 0, "four calls at two a second were refused and retried");
    for (const r of retries) {
      assert.equal(r.method, "GetToken");
      assert.equal(r.reason, "RATE_LIMITED");
      assert.ok(r.waitMs > 0);
    }
  } finally {
    client.close();
  }
});

test("a retry stops at the caller's deadline", async () => {
  const ids = [];
  for (let i = 0; i < 6; i++) ids.push(await limited.connect());
  const client = new latchkey.Client({ server: limited.url, timeoutMs: 300 });
  try {
    await assert.rejects(
      (async () => {
        for (const id of ids) await client.getToken(id);
      })(),
      (error) => {
        assert.ok(error instanceof latchkey.RateLimited, String(error));
        assert.ok(error.retryAfterMs > 0);
        return true;
      },
    );
  } finally {
    client.close();
  }
});

test("a bad id is InvalidArgument naming the field", async () => {
  const client = new latchkey.Client({ server: server.url });
  try {
    await assert.rejects(client.getToken("not-a-uuid"), (error) => {
      assert.ok(error instanceof latchkey.InvalidArgument, String(error));
      assert.match(error.message, /connection_id/);
      return true;
    });
  } finally {
    client.close();
  }
});

test("the API key comes from the CLI's settings", async () => {
  const id = await keyed.connect();
  const saved = { ...process.env };
  try {
    delete process.env.LATCHKEY_API_KEY;
    delete process.env.LATCHKEY_API_KEY_FILE;
    const anonymous = new latchkey.Client({ server: keyed.url });
    await assert.rejects(anonymous.getToken(id), (error) => error instanceof latchkey.Unauthenticated);
    anonymous.close();
    process.env.LATCHKEY_SERVER = keyed.url;
    process.env.LATCHKEY_API_KEY = keyed.apiKey;
    const fromEnv = new latchkey.Client();
    assert.ok((await fromEnv.getToken(id)).accessToken);
    fromEnv.close();
    delete process.env.LATCHKEY_API_KEY;
    const file = require("node:path").join(keyed.scratch, "key");
    require("node:fs").writeFileSync(file, `${keyed.apiKey}\n`);
    process.env.LATCHKEY_API_KEY_FILE = file;
    const fromFile = new latchkey.Client();
    assert.ok((await fromFile.getToken(id)).accessToken);
    fromFile.close();
  } finally {
    process.env = saved;
  }
});

test("mutual TLS comes from the CLI's settings", async () => {
  const id = await mutualTls.connect();
  const saved = { ...process.env };
  try {
    delete process.env.LATCHKEY_API_KEY;
    delete process.env.LATCHKEY_API_KEY_FILE;
    process.env.LATCHKEY_SERVER = mutualTls.url;
    process.env.LATCHKEY_SERVER_CA = mutualTls.tls["ca.pem"];
    // acme's reader certificate reads acme's token.
    process.env.LATCHKEY_CLIENT_CERT = mutualTls.tls["reader.pem"];
    process.env.LATCHKEY_CLIENT_KEY = mutualTls.tls["reader.key"];
    const reader = new latchkey.Client();
    assert.match((await reader.getToken(id)).accessToken, /^dev-at-/);
    reader.close();
    // Without a client certificate the server takes no call: the handshake fails.
    delete process.env.LATCHKEY_CLIENT_CERT;
    delete process.env.LATCHKEY_CLIENT_KEY;
    const anonymous = new latchkey.Client({ timeoutMs: 5000 });
    await assert.rejects(anonymous.getToken(id), (error) => error instanceof latchkey.Unavailable);
    anonymous.close();
  } finally {
    process.env = saved;
  }
});

test("a refresh heard on NATS drops the cached token", { skip: !natsUrl && "LATCHKEY_TEST_NATS_URL is not set" }, async () => {
  const id = await withNats.connect();
  const client = new latchkey.Client({ server: withNats.url });
  const listener = await latchkey.follow(client, { natsUrl, prefix: `lktsclient.${run}` });
  try {
    const first = await client.getToken(id);
    await new Promise((resolve, reject) =>
      withNats.connections.RefreshToken({ connection_id: id }, { deadline: Date.now() + 10_000 }, (e) => (e ? reject(e) : resolve())),
    );
    const deadline = Date.now() + 10_000;
    while (listener.heard === 0) {
      assert.ok(Date.now() < deadline, "the refreshed event never came");
      await new Promise((r) => setTimeout(r, 50));
    }
    const after = await client.getToken(id);
    assert.notEqual(after.accessToken, first.accessToken, "the refreshed token, not the cached one");
    assert.ok(after.version > first.version);
  } finally {
    await listener.close();
    client.close();
  }
});
