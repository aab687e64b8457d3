// A workflow worker's side of Latchkey in Node.js, with the TypeScript client
// (clients/typescript, `npm install latchkey-client-0.1.0.tgz`): ask for a connection's
// credential, and act on a refusal by its type (never by parsing the message).
//
//     node worker.js <connection-id>
//
// LATCHKEY_SERVER (default http://127.0.0.1:50051) and LATCHKEY_API_KEY say where and who.
// Prints what it would do; never prints the token itself.
const latchkey = require("@latchkey/client");

const ACTIONS = [
  [latchkey.ReauthorizationRequired, "ask the customer to connect again"],
  [latchkey.Revoked, "stop: the connection was revoked"],
  [latchkey.Deleted, "stop: the connection was deleted"],
  [latchkey.PendingAuthorization, "wait: the customer has not finished connecting"],
  [latchkey.Unavailable, "retry later"],
];

async function main(connectionId) {
  const client = new latchkey.Client();
  try {
    const token = await client.getToken(connectionId, { minTtlSeconds: 60 });
    const where = token.header ? `header ${token.header[0]}` : `query ${token.query[0]}`;
    console.log(`credential in ${where}, ${token.accessToken.length} characters, valid until ${token.expiresAt?.toISOString()}`);
    return 0;
  } catch (error) {
    if (!(error instanceof latchkey.LatchkeyError)) throw error;
    const action = ACTIONS.find(([kind]) => error instanceof kind)?.[1] ?? "read the message";
    console.log(`refused ${error.reason}: ${action}; connection ${error.connectionId ?? "?"}`);
    return 1;
  } finally {
    client.close();
  }
}

if (process.argv.length !== 3) {
  console.error("usage: node worker.js <connection-id>");
  process.exit(2);
}
main(process.argv[2]).then((code) => process.exit(code));
