/**
 * Latchkey's Node.js client.
 *
 * ```ts
 * import { Client } from "@latchkey/client";
 * const client = new Client();                       // LATCHKEY_SERVER, LATCHKEY_API_KEY…
 * const token = await client.getToken(connectionId, { minTtlSeconds: 60 });
 * const [name, value] = token.header!;               // ["Authorization", "Bearer …"]
 * ```
 */
export { Client, api, backoffMs } from "./client";
export type { GetTokenOptions } from "./client";
export type { ClientOptions } from "./config";
export * from "./errors";
export { Token } from "./token";
export { follow, STALE_AFTER } from "./events";
export type { Listener } from "./events";
