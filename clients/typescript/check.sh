#!/usr/bin/env bash
# The TypeScript client's checks: its dependencies from the npm registry (npm ci, the lockfile's
# versions), the generated types checked against proto/, the build, the tests against a real
# server (the workspace's debug binary, or LATCHKEY_BIN), and the package as a user installs it:
# `npm pack`, then `npm install` of the tarball into a fresh project that requires it and
# type-checks a worker against its types. scripts/test runs this.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
npm ci --silent --no-audit --no-fund
npm run --silent generate -- --check
npm run --silent build
npm test
scratch="$(mktemp -d /tmp/latchkey-ts-install.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
tarball="$(npm pack --silent --pack-destination "$scratch" | tail -n 1)"
cd "$scratch"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "./$tarball" "typescript@~5.9.3" "@types/node@^20"
cat >worker.ts <<'TS'
import { Client, LatchkeyError, ReauthorizationRequired, Token } from "@latchkey/client";

export async function headers(client: Client, connectionId: string): Promise<Record<string, string>> {
  try {
    const token: Token = await client.getToken(connectionId, { minTtlSeconds: 60 });
    const [name, value] = token.header ?? ["Authorization", `Bearer ${token.accessToken}`];
    return { [name]: value };
  } catch (error) {
    if (error instanceof ReauthorizationRequired) throw new Error(`reconnect ${error.connectionId}`);
    if (error instanceof LatchkeyError) throw new Error(`${error.reason} (${error.retryAfterMs ?? 0} ms)`);
    throw error;
  }
}
TS
npx tsc --strict --noEmit --module commonjs --moduleResolution node --esModuleInterop --skipLibCheck worker.ts
node -e 'const l = require("@latchkey/client"); const c = new l.Client({ server: "http://127.0.0.1:1" }); c.close(); if (typeof l.api().latchkey.v1.ConnectionService !== "function") process.exit(1)'
echo "clients/typescript: installed from the packed tarball, typed and loaded"
