import { ChannelCredentials, Metadata, credentials } from "@grpc/grpc-js";
import { readFileSync } from "node:fs";

/** Where the server is and who is asking; unset fields come from the CLI's environment variables. */
export interface ClientOptions {
  /** `LATCHKEY_SERVER`: `http://host:port` (default `http://127.0.0.1:50051`), `https://host:port` or `host:port`. */
  server?: string;
  /** `LATCHKEY_API_KEY`: an API key, sent as `authorization: Bearer …`. */
  apiKey?: string;
  /** `LATCHKEY_API_KEY_FILE`: a file holding the API key. */
  apiKeyFile?: string;
  /** `LATCHKEY_SERVER_CA`: a PEM CA to trust for TLS. */
  serverCa?: string;
  /** `LATCHKEY_CLIENT_CERT` and `LATCHKEY_CLIENT_KEY`: a certificate and key (PEM) for mutual TLS. */
  clientCert?: string;
  clientKey?: string;
  /** Milliseconds a call (with its retries) may take unless told otherwise: 30,000. */
  timeoutMs?: number;
}

export interface Resolved {
  target: string;
  credentials: ChannelCredentials;
  metadata: Metadata;
  timeoutMs: number;
}

export function resolve(options: ClientOptions = {}): Resolved {
  const env = process.env;
  let apiKey = options.apiKey ?? env.LATCHKEY_API_KEY;
  const keyFile = options.apiKeyFile ?? env.LATCHKEY_API_KEY_FILE;
  if (apiKey && keyFile) {
    throw new Error("set either LATCHKEY_API_KEY (apiKey) or LATCHKEY_API_KEY_FILE (apiKeyFile), not both");
  }
  if (keyFile) apiKey = readFileSync(keyFile, "utf8").trim();
  const cert = options.clientCert ?? env.LATCHKEY_CLIENT_CERT;
  const key = options.clientKey ?? env.LATCHKEY_CLIENT_KEY;
  if (Boolean(cert) !== Boolean(key)) {
    throw new Error("LATCHKEY_CLIENT_CERT and LATCHKEY_CLIENT_KEY go together (mutual TLS)");
  }
  const ca = options.serverCa ?? env.LATCHKEY_SERVER_CA;
  const server = options.server ?? env.LATCHKEY_SERVER ?? "http://127.0.0.1:50051";
  let target = server;
  let tls = Boolean(ca || cert);
  if (server.startsWith("https://")) {
    target = server.slice("https://".length);
    tls = true;
  } else if (server.startsWith("http://")) {
    target = server.slice("http://".length);
  } else if (server.includes("://")) {
    throw new Error(`LATCHKEY_SERVER: ${JSON.stringify(server)} is neither http:// nor https://`);
  }
  target = target.replace(/\/+$/, "");
  const read = (path?: string) => (path ? readFileSync(path) : null);
  const metadata = new Metadata();
  if (apiKey) metadata.set("authorization", `Bearer ${apiKey}`);
  return {
    target,
    credentials: tls ? credentials.createSsl(read(ca), read(key), read(cert)) : credentials.createInsecure(),
    metadata,
    timeoutMs: options.timeoutMs ?? 30_000,
  };
}
