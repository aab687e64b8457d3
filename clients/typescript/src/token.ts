import type { GetTokenResponse__Output } from "./generated/latchkey/v1/GetTokenResponse";
import type { Struct__Output } from "./generated/google/protobuf/Struct";
import type { Value__Output } from "./generated/google/protobuf/Value";

/** A connection's credential: how to present it, until when, and the connection's metadata. */
export class Token {
  readonly #accessToken: string;

  constructor(
    readonly connectionId: string,
    accessToken: string,
    readonly tokenType: string,
    /** When the token expires; undefined when the provider gave no lifetime. */
    readonly expiresAt: Date | undefined,
    readonly scopes: string[],
    /** `[name, value]` of the header to send (`["Authorization", "Bearer …"]`), if any. */
    readonly header: [string, string] | undefined,
    /** `[param, value]` of the query parameter to send, if the provider takes it there. */
    readonly query: [string, string] | undefined,
    readonly baseUri: string,
    readonly metadata: Record<string, unknown>,
    /** The connection's version this token belongs to (for `reportTokenRejected`). */
    readonly version: number,
  ) {
    this.#accessToken = accessToken;
  }

  /** The token itself (kept out of `JSON.stringify` and `console.log`). */
  get accessToken(): string {
    return this.#accessToken;
  }

  /** Seconds until the token expires (Infinity when the provider gave no lifetime). */
  secondsLeft(now: number = Date.now()): number {
    return this.expiresAt ? (this.expiresAt.getTime() - now) / 1000 : Infinity;
  }

  toJSON(): Record<string, unknown> {
    return {
      connectionId: this.connectionId,
      tokenType: this.tokenType,
      expiresAt: this.expiresAt,
      scopes: this.scopes,
      baseUri: this.baseUri,
      version: this.version,
    };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Token ${JSON.stringify(this.toJSON())}`;
  }

  static fromResponse(connectionId: string, reply: GetTokenResponse__Output): Token {
    const at = reply.expires_at;
    const expiresAt = at ? new Date(Number(at.seconds) * 1000 + Math.floor(at.nanos / 1e6)) : undefined;
    const header = reply.placement === "header" && reply.header ? ([reply.header.name, reply.header.value] as [string, string]) : undefined;
    const query = reply.placement === "query" && reply.query ? ([reply.query.param, reply.query.value] as [string, string]) : undefined;
    return new Token(
      connectionId,
      reply.access_token,
      reply.token_type,
      expiresAt,
      reply.scopes,
      header,
      query,
      reply.base_uri,
      reply.metadata ? structToObject(reply.metadata) : {},
      Number(reply.version),
    );
  }
}

function valueToJs(value: Value__Output): unknown {
  switch (value.kind) {
    case "stringValue":
      return value.stringValue;
    case "numberValue":
      return value.numberValue;
    case "boolValue":
      return value.boolValue;
    case "structValue":
      return value.structValue ? structToObject(value.structValue) : {};
    case "listValue":
      return (value.listValue?.values ?? []).map(valueToJs);
    default:
      return null;
  }
}

function structToObject(struct: Struct__Output): Record<string, unknown> {
  return Object.fromEntries(Object.entries(struct.fields ?? {}).map(([k, v]) => [k, valueToJs(v)]));
}
