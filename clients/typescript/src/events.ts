/**
 * Drop cached credentials when Latchkey says they changed: a NATS subscription to the connection
 * events that make a cached token stale (needs the `nats` package: `npm install nats`).
 *
 * ```ts
 * const listener = await follow(client);   // LATCHKEY_NATS_URL, LATCHKEY_NATS_SUBJECT_PREFIX
 * await listener.close();
 * ```
 *
 * Subjects are `<prefix>.<tenant>.<connection_id>.<type>`; this listens on core NATS (no
 * JetStream consumer to manage): a worker that was away lost nothing but its cache's freshness,
 * and the cache never serves a token past the caller's `minTtlSeconds` anyway.
 */

/** Event types after which a cached token is not to be used again. */
export const STALE_AFTER = [
  "refreshed",
  "token_rejected",
  "revoked",
  "deleted",
  "reauthorization_required",
  "expired",
  "authorized",
  "imported",
] as const;

export interface Listener {
  /** Events heard so far (each dropped a connection's cached token). */
  readonly heard: number;
  close(): Promise<void>;
}

interface Invalidates {
  invalidate(connectionId: string): void;
}

interface NatsModule {
  connect(options: { servers: string }): Promise<{
    subscribe(subject: string, options: { callback: (error: unknown, message: { subject: string }) => void }): unknown;
    flush(): Promise<void>;
    drain(): Promise<void>;
  }>;
}

export async function follow(
  client: Invalidates,
  options: { natsUrl?: string; prefix?: string } = {},
): Promise<Listener> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nats = require("nats") as NatsModule;
  const url = options.natsUrl ?? process.env.LATCHKEY_NATS_URL ?? "nats://127.0.0.1:4222";
  const prefix = options.prefix ?? process.env.LATCHKEY_NATS_SUBJECT_PREFIX ?? "latchkey.v1";
  const connection = await nats.connect({ servers: url });
  let heard = 0;
  for (const kind of STALE_AFTER) {
    connection.subscribe(`${prefix}.*.*.${kind}`, {
      callback: (error, message) => {
        if (error) return;
        const parts = message.subject.split(".");
        if (parts.length >= 3) {
          client.invalidate(parts[parts.length - 2]);
          heard += 1;
        }
      },
    });
  }
  await connection.flush();
  return {
    get heard() {
      return heard;
    },
    close: () => connection.drain(),
  };
}
