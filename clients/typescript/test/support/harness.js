// A real Latchkey for the client's tests: `latchkey dev-provider` and `latchkey serve` on its
// embedded store in a scratch directory, on ports of their own. The binary is LATCHKEY_BIN,
// else the workspace's target/debug/latchkey (scripts/test builds it).
const { spawn } = require("node:child_process");
const { mkdtempSync, readFileSync, rmSync, accessSync, constants } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const { LOADER_OPTIONS } = require("../../dist/client");

const ROOT = join(__dirname, "..", "..", "..", "..");

function binary() {
  const path = process.env.LATCHKEY_BIN || join(ROOT, "target", "debug", "latchkey");
  accessSync(path, constants.X_OK);
  return path;
}

class Child {
  constructor(args, env, cwd) {
    this.lines = [];
    this.waiters = [];
    this.proc = spawn(binary(), args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let partial = "";
    const take = (chunk) => {
      partial += chunk.toString();
      const parts = partial.split("\n");
      partial = parts.pop();
      for (const line of parts) {
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => !w(line));
      }
    };
    this.proc.stdout.on("data", take);
    this.proc.stderr.on("data", take);
  }

  waitFor(pattern, withinMs = 60_000) {
    for (const line of this.lines) {
      const found = line.match(pattern);
      if (found) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern}:\n${this.lines.join("\n")}`)), withinMs);
      this.waiters.push((line) => {
        const found = line.match(pattern);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
        return Boolean(found);
      });
    });
  }

  stop() {
    return new Promise((resolve) => {
      if (this.proc.exitCode !== null) return resolve();
      this.proc.once("exit", resolve);
      this.proc.kill("SIGTERM");
    });
  }
}

function unary(client, method, request, apiKey) {
  const metadata = new grpc.Metadata();
  if (apiKey) metadata.set("authorization", `Bearer ${apiKey}`);
  return new Promise((resolve, reject) =>
    client[method](request, metadata, { deadline: Date.now() + 10_000 }, (error, reply) =>
      error ? reject(error) : resolve(reply),
    ),
  );
}

/** A set-up call, retried while the server rate-limits (the rate-limit tests' server). */
async function patiently(client, method, request, apiKey) {
  for (let i = 0; i < 100; i++) {
    try {
      return await unary(client, method, request, apiKey);
    } catch (error) {
      if (error.code !== grpc.status.RESOURCE_EXHAUSTED) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error("still rate-limited after 20 s");
}

class Latchkey {
  /** `keyed`: the server asks every caller for an API key; `apiKey` is an admin one. */
  static async start(extra = {}, keyed = false) {
    const server = new Latchkey();
    server.scratch = mkdtempSync(join(tmpdir(), "latchkey-ts-"));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LATCHKEY_")));
    server.provider = new Child(["dev-provider", "--port", "0", "--secret-file", "demo.secret"], env, server.scratch);
    server.providerUrl = (await server.provider.waitFor(/dev provider at (http:\/\/[0-9.:]+)/))[1];
    server.clientSecret = readFileSync(join(server.scratch, "demo.secret"), "utf8").trim();
    server.apiKey = undefined;
    if (keyed) {
      // Made before the server starts, with the master key given (`apikeys create` on a new data
      // directory does not write the master key file `serve` would).
      env.LATCHKEY_MASTER_KEY = require("node:crypto").randomBytes(32).toString("base64");
      env.LATCHKEY_AUTH = "api-keys";
      const made = require("node:child_process").execFileSync(binary(), ["apikeys", "create", "--name", "tests"], {
        env: { ...env, LATCHKEY_DATA_DIR: join(server.scratch, "data") },
        cwd: server.scratch,
      });
      server.apiKey = made.toString().trim().split("\n").pop();
    }
    server.serve = new Child(
      ["serve"],
      {
        ...env,
        LATCHKEY_DATA_DIR: join(server.scratch, "data"),
        LATCHKEY_GRPC_ADDR: "127.0.0.1:0",
        LATCHKEY_HTTP_ADDR: "127.0.0.1:0",
        LATCHKEY_ADMIN_ADDR: "127.0.0.1:0",
        LATCHKEY_ALLOW_LOOPBACK_PROVIDERS: "true",
        ...extra,
      },
      server.scratch,
    );
    const ready = await server.serve.waitFor(/latchkey ready grpc=(\S+) http=(\S+) admin=(\S+)/);
    server.grpcAddr = ready[1];
    server.adminAddr = ready[3];
    server.url = `http://${server.grpcAddr}`;
    const api = grpc.loadPackageDefinition(
      protoLoader.loadSync(["latchkey/v1/connection.proto", "latchkey/v1/integration.proto"], LOADER_OPTIONS),
    ).latchkey.v1;
    const insecure = grpc.credentials.createInsecure();
    server.connections = new api.ConnectionService(server.grpcAddr, insecure);
    server.integrations = new api.IntegrationService(server.grpcAddr, insecure);
    server.created = {};
    return server;
  }

  /** A server on TLS naming each caller by its client certificate (LATCHKEY_AUTH=mtls); `tls`
   * holds the files: a CA of the test's own, an admin's and acme's reader's certificates. */
  static async startMutualTls() {
    const dir = mkdtempSync(join(tmpdir(), "latchkey-ts-tls-"));
    const openssl = (...args) => require("node:child_process").execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const key = (name) => openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`);
    key("ca");
    openssl("req", "-x509", "-new", "-key", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=latchkey-test-ca");
    for (const [name, san] of [
      ["server", "IP:127.0.0.1"],
      ["admin", "URI:urn:latchkey:all:admin"],
      ["reader", "URI:urn:latchkey:tenant:acme:reader"],
    ]) {
      key(name);
      openssl("req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
      require("node:fs").writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
      openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
    }
    const tls = Object.fromEntries(
      ["ca.pem", "server.pem", "server.key", "admin.pem", "admin.key", "reader.pem", "reader.key"].map((f) => [f, join(dir, f)]),
    );
    const server = await Latchkey.start({
      LATCHKEY_TLS_CERT: tls["server.pem"],
      LATCHKEY_TLS_KEY: tls["server.key"],
      LATCHKEY_TLS_CLIENT_CA: tls["ca.pem"],
      LATCHKEY_AUTH: "mtls",
    });
    // The set-up calls go as the admin certificate.
    server.connections.close();
    server.integrations.close();
    const admin = grpc.credentials.createSsl(
      readFileSync(tls["ca.pem"]), readFileSync(tls["admin.key"]), readFileSync(tls["admin.pem"]),
    );
    const api = grpc.loadPackageDefinition(
      protoLoader.loadSync(["latchkey/v1/connection.proto", "latchkey/v1/integration.proto"], LOADER_OPTIONS),
    ).latchkey.v1;
    server.connections = new api.ConnectionService(server.grpcAddr, admin);
    server.integrations = new api.IntegrationService(server.grpcAddr, admin);
    server.url = `https://${server.grpcAddr}`;
    server.tls = tls;
    server.tlsDir = dir;
    return server;
  }

  async stop() {
    if (this.tlsDir) rmSync(this.tlsDir, { recursive: true, force: true });
    this.connections.close();
    this.integrations.close();
    await this.serve.stop();
    await this.provider.stop();
    rmSync(this.scratch, { recursive: true, force: true });
  }

  async integration(grant = "GRANT_TYPE_CLIENT_CREDENTIALS") {
    if (!this.created[grant]) {
      const reply = await patiently(this.integrations, "CreateIntegration", {
        config: {
          name: `Demo ${Math.random().toString(16).slice(2, 10)}`,
          grant_type: grant,
          token_url: `${this.providerUrl}/token`,
          authorization_url: `${this.providerUrl}/authorize`,
          client_id: "demo",
        },
        client_secret: this.clientSecret,
      }, this.apiKey);
      this.created[grant] = reply.integration_id;
    }
    return this.created[grant];
  }

  async connect() {
    const integration_id = await this.integration();
    return (await patiently(this.connections, "ConnectClientCredentials", { integration_id, tenant: "acme" }, this.apiKey)).connection_id;
  }

  /** An imported connection whose token expired and whose refresh token the provider does not know. */
  async connectWithADeadRefreshToken() {
    const integration_id = await this.integration("GRANT_TYPE_AUTHORIZATION_CODE");
    const reply = await patiently(this.connections, "ImportConnection", {
      integration_id,
      tenant: "acme",
      access_token: "dev-expired",
      refresh_token: "dev-unknown-refresh-token",
      expires_at: { seconds: Math.floor(Date.now() / 1000) - 3600, nanos: 0 },
    }, this.apiKey);
    return reply.connection.connection_id;
  }

  async revoke(connection_id) {
    await patiently(this.connections, "RevokeConnection", { connection_id }, this.apiKey);
  }

  /** GetToken calls the server answered so far, from its /metrics. */
  async getTokenCalls() {
    const text = await (await fetch(`http://${this.adminAddr}/metrics`)).text();
    let total = 0;
    for (const m of text.matchAll(/^latchkey_get_token_seconds_count\{[^}]*\} (\S+)$/gm)) total += Number(m[1]);
    return total;
  }
}

module.exports = { Latchkey };
