/**
 * The client: `getToken` with an in-process cache, one call per connection at a time, and
 * retries that honour the server's `RetryInfo` for the reasons that ask for them.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { join } from "node:path";

import { ClientOptions, resolve } from "./config";
import { LatchkeyError, fromServiceError } from "./errors";
import type { ProtoGrpcType } from "./generated/connection";
import type { ConnectionServiceClient } from "./generated/latchkey/v1/ConnectionService";
import { Token } from "./token";

/** The options the package's types were generated with (scripts/generate.mjs). */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [join(__dirname, "..", "proto")],
};

let loaded: ProtoGrpcType | undefined;

/** The API's services and messages, loaded once from the package's protos. */
export function api(): ProtoGrpcType {
  if (!loaded) {
    const definition = protoLoader.loadSync("latchkey/v1/connection.proto", LOADER_OPTIONS);
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loaded;
}

/** Milliseconds before retry `attempt` when the server named no delay: 200 ms doubling to 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(200 * 2 ** (attempt - 1), 5_000);
}

export interface GetTokenOptions {
  /** Seconds the token must stay valid: 30 (the server's own default) unless said. */
  minTtlSeconds?: number;
  /** Milliseconds this call, with its retries, may take. */
  timeoutMs?: number;
}

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void,
) => grpc.ClientUnaryCall;

/** A Latchkey client for workers; share one per process. */
export class Client {
  /** The generated ConnectionService client, for every other RPC. */
  readonly connections: ConnectionServiceClient;
  readonly timeoutMs: number;
  readonly #metadata: grpc.Metadata;
  readonly #tokens = new Map<string, Token>();
  readonly #generations = new Map<string, number>();
  readonly #flights = new Map<string, Promise<Token>>();
  /** Called before each retry (for logs): what was refused and how long the client waits. */
  onRetry?: (method: string, error: LatchkeyError, waitMs: number) => void;

  constructor(options: ClientOptions = {}) {
    const settings = resolve(options);
    this.connections = new (api().latchkey.v1.ConnectionService)(settings.target, settings.credentials);
    this.#metadata = settings.metadata;
    this.timeoutMs = settings.timeoutMs;
  }

  close(): void {
    this.connections.close();
  }

  /**
   * A credential with at least `minTtlSeconds` left: from the cache while it has that much left,
   * else from the server, one call per connection however many callers ask at once. Rejects with
   * a {@link LatchkeyError} subclass.
   */
  async getToken(connectionId: string, options: GetTokenOptions = {}): Promise<Token> {
    const minTtl = options.minTtlSeconds ?? 30;
    if (!(minTtl >= 0)) throw new RangeError(`minTtlSeconds must be zero or more, not ${minTtl}`);
    for (;;) {
      const cached = this.#tokens.get(connectionId);
      if (cached && cached.secondsLeft() >= minTtl) return cached;
      const flight = this.#flights.get(connectionId);
      if (!flight) break;
      // Another caller is asking the server for this connection: its answer may do.
      const token = await flight.catch(() => undefined);
      if (token && token.secondsLeft() >= minTtl) return token;
      if (!token) break;
    }
    const generation = this.#generations.get(connectionId) ?? 0;
    const flight = this.#fetch(connectionId, minTtl, options.timeoutMs).then((token) => {
      if ((this.#generations.get(connectionId) ?? 0) === generation) this.#tokens.set(connectionId, token);
      return token;
    });
    this.#flights.set(connectionId, flight);
    try {
      return await flight;
    } finally {
      if (this.#flights.get(connectionId) === flight) this.#flights.delete(connectionId);
    }
  }

  /**
   * Tells Latchkey the provider refused the connection's token (a 401) and drops the cached one.
   * Resolves to the credential to use now (a new token, or the same if the provider still takes
   * it); rejects when the connection needs its customer.
   */
  async reportTokenRejected(
    connectionId: string,
    httpStatus: number,
    options: { providerError?: string; token?: Token; timeoutMs?: number } = {},
  ): Promise<Token | undefined> {
    const held = options.token ?? this.#tokens.get(connectionId);
    this.invalidate(connectionId);
    const reply = await this.#call(
      "ReportTokenRejected",
      this.connections.ReportTokenRejected.bind(this.connections) as Unary<object, { credential: unknown }>,
      {
        connection_id: connectionId,
        http_status: httpStatus,
        provider_error: options.providerError ?? "",
        token_version: held?.version ?? 0,
      },
      options.timeoutMs,
    );
    return reply.credential ? Token.fromResponse(connectionId, reply.credential as never) : undefined;
  }

  /** Forgets the cached credential of a connection. */
  invalidate(connectionId: string): void {
    this.#generations.set(connectionId, (this.#generations.get(connectionId) ?? 0) + 1);
    this.#tokens.delete(connectionId);
  }

  async #fetch(connectionId: string, minTtl: number, timeoutMs?: number): Promise<Token> {
    const micros = Math.ceil(minTtl * 1e6);
    const reply = await this.#call(
      "GetToken",
      this.connections.GetToken.bind(this.connections) as Unary<object, never>,
      {
        connection_id: connectionId,
        min_ttl: { seconds: Math.floor(micros / 1e6), nanos: (micros % 1e6) * 1000 },
      },
      timeoutMs,
    );
    return Token.fromResponse(connectionId, reply);
  }

  async #call<Res>(method: string, call: Unary<object, Res>, request: object, timeoutMs?: number): Promise<Res> {
    const deadline = Date.now() + (timeoutMs ?? this.timeoutMs);
    for (let attempt = 1; ; attempt++) {
      try {
        return await new Promise<Res>((resolve, reject) => {
          call(request, this.#metadata, { deadline: new Date(Math.max(deadline, Date.now() + 1)) }, (error, response) =>
            error ? reject(error) : resolve(response as Res),
          );
        });
      } catch (failure) {
        const error = fromServiceError(failure as grpc.ServiceError);
        const waitMs = error.retryAfterMs ?? backoffMs(attempt);
        if (!error.retryable || Date.now() + waitMs >= deadline) throw error;
        this.onRetry?.(method, error, waitMs);
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }
}
