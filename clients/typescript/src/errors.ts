/**
 * Latchkey's refusals as errors, by the `google.rpc.ErrorInfo` reason the server sends. Every
 * refusal is a {@link LatchkeyError} with the gRPC code, the reason, the ErrorInfo metadata
 * (`connection_id`, `error`…) and, when the server gave one, the `RetryInfo` delay. Branch on the
 * class or on `reason`, never on the message.
 */
import { Metadata, ServiceError, status } from "@grpc/grpc-js";
import * as protobuf from "protobufjs";

/** Reasons a call is retried for (after the server's RetryInfo delay, else with backoff). */
export const RETRYABLE_REASONS = new Set(["RATE_LIMITED", "REFRESH_BACKOFF", "PROVIDER_UNAVAILABLE"]);

export class LatchkeyError extends Error {
  constructor(
    /** The gRPC status code. */
    readonly code: status,
    /** Latchkey's stable reason (`REVOKED`…), else the code's name. */
    readonly reason: string,
    message: string,
    /** The ErrorInfo metadata: `connection_id`, `error`… */
    readonly metadata: Record<string, string> = {},
    /** Milliseconds the server asked to wait before trying again, when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(`${status[code]} ${reason}: ${message}`);
    this.name = new.target.name;
  }

  /** The connection the refusal is about, when the server named it. */
  get connectionId(): string | undefined {
    return this.metadata.connection_id;
  }

  /** Whether trying again later can succeed: the server asked to wait, or was unreachable. */
  get retryable(): boolean {
    if (RETRYABLE_REASONS.has(this.reason)) return true;
    return this.code === status.UNAVAILABLE && this.reason === "UNAVAILABLE";
  }
}

/** The grant is gone: send the customer through Connect again (`metadata.error` says why). */
export class ReauthorizationRequired extends LatchkeyError {}
/** The connection was revoked: it has no token to hand out. */
export class Revoked extends LatchkeyError {}
/** The customer has not finished connecting. */
export class PendingAuthorization extends LatchkeyError {}
/** The customer's authorization failed. */
export class AuthorizationFailed extends LatchkeyError {}
/** The connection was deleted (its history stays). */
export class Deleted extends LatchkeyError {}
/** No such connection or integration (or another tenant's). */
export class NotFound extends LatchkeyError {}
/** The provider's tokens do not last the `minTtlSeconds` asked for. */
export class TokenLifetimeTooShort extends LatchkeyError {}
/** The provider refused the request for good: fix the integration. */
export class ProviderRefused extends LatchkeyError {}
/** A field of the request is wrong (the message names it). */
export class InvalidArgument extends LatchkeyError {}
/** No API key or certificate, or one the server does not know. */
export class Unauthenticated extends LatchkeyError {}
/** The caller may not act on this. */
export class PermissionDenied extends LatchkeyError {}
/** Over the caller's rate: retried after `retryAfterMs`. */
export class RateLimited extends LatchkeyError {}
/** The provider or the server is unavailable for now: retried after `retryAfterMs`. */
export class Unavailable extends LatchkeyError {}
/** Another writer changed it first: read again, decide again. */
export class VersionConflict extends LatchkeyError {}

type Kind = new (...args: ConstructorParameters<typeof LatchkeyError>) => LatchkeyError;

const BY_REASON: Record<string, Kind> = {
  REAUTHORIZATION_REQUIRED: ReauthorizationRequired,
  REVOKED: Revoked,
  PENDING_AUTHORIZATION: PendingAuthorization,
  AUTHORIZATION_FAILED: AuthorizationFailed,
  DELETED: Deleted,
  NOT_FOUND: NotFound,
  TOKEN_LIFETIME_TOO_SHORT: TokenLifetimeTooShort,
  PROVIDER_REFUSED: ProviderRefused,
  RATE_LIMITED: RateLimited,
  REFRESH_BACKOFF: Unavailable,
  PROVIDER_UNAVAILABLE: Unavailable,
  VERSION_CONFLICT: VersionConflict,
};

const BY_CODE: Partial<Record<status, Kind>> = {
  [status.INVALID_ARGUMENT]: InvalidArgument,
  [status.UNAUTHENTICATED]: Unauthenticated,
  [status.PERMISSION_DENIED]: PermissionDenied,
  [status.NOT_FOUND]: NotFound,
  [status.RESOURCE_EXHAUSTED]: RateLimited,
  [status.UNAVAILABLE]: Unavailable,
  [status.ABORTED]: VersionConflict,
};

interface Any {
  type_url: string;
  value: Uint8Array;
}

// The google.rpc messages Latchkey puts in the grpc-status-details-bin trailer, as googleapis
// defines them (only the fields read here).
const rpc = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } } },
            Duration: { fields: { seconds: { type: "int64", id: 1 }, nanos: { type: "int32", id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: "int32", id: 1 },
                message: { type: "string", id: 2 },
                details: { rule: "repeated", type: "google.protobuf.Any", id: 3 },
              },
            },
            ErrorInfo: {
              fields: {
                reason: { type: "string", id: 1 },
                domain: { type: "string", id: 2 },
                metadata: { keyType: "string", type: "string", id: 3 } as protobuf.IField,
              },
            },
            RetryInfo: { fields: { retry_delay: { type: "google.protobuf.Duration", id: 1 } } },
          },
        },
      },
    },
  },
});
const Status = rpc.lookupType("google.rpc.Status");
const ErrorInfo = rpc.lookupType("google.rpc.ErrorInfo");
const RetryInfo = rpc.lookupType("google.rpc.RetryInfo");
const plain = { longs: Number, defaults: true } as const;

/** The typed error for a failed call: its ErrorInfo reason and metadata, its RetryInfo. */
export function fromServiceError(error: ServiceError): LatchkeyError {
  const code = error.code ?? status.UNKNOWN;
  let reason = status[code] ?? "UNKNOWN";
  let metadata: Record<string, string> = {};
  let retryAfterMs: number | undefined;
  const details = (error.metadata as Metadata | undefined)?.get("grpc-status-details-bin")?.[0];
  if (Buffer.isBuffer(details)) {
    const decoded = Status.toObject(Status.decode(details), plain) as { details: Any[] };
    for (const any of decoded.details ?? []) {
      if (any.type_url.endsWith("/google.rpc.ErrorInfo")) {
        const info = ErrorInfo.toObject(ErrorInfo.decode(any.value), plain) as {
          reason: string;
          metadata: Record<string, string>;
        };
        reason = info.reason;
        metadata = { ...info.metadata };
      } else if (any.type_url.endsWith("/google.rpc.RetryInfo")) {
        const retry = RetryInfo.toObject(RetryInfo.decode(any.value), plain) as {
          retry_delay?: { seconds: number; nanos: number };
        };
        if (retry.retry_delay) {
          retryAfterMs = Number(retry.retry_delay.seconds) * 1000 + retry.retry_delay.nanos / 1e6;
        }
      }
    }
  }
  const Kind = BY_REASON[reason] ?? BY_CODE[code] ?? LatchkeyError;
  return new Kind(code, reason, error.details ?? error.message, metadata, retryAfterMs);
}
