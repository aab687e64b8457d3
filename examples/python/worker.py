"""A workflow worker's side of Latchkey, with the Python client (clients/python): ask for a
connection's credential, and act on a refusal by its type (never by parsing the message).

    python worker.py <connection-id>

LATCHKEY_SERVER (default http://127.0.0.1:50051) and LATCHKEY_API_KEY (when the server asks for
one) say where and who. Prints what it would do; never prints the token itself.
"""

import sys

import latchkey

# What a worker does for each refusal (docs/API.md: "Errors callers act on").
ACTIONS = {
    latchkey.ReauthorizationRequired: "ask the customer to connect again",
    latchkey.Revoked: "stop: the connection was revoked",
    latchkey.Deleted: "stop: the connection was deleted",
    latchkey.PendingAuthorization: "wait: the customer has not finished connecting",
    latchkey.Unavailable: "retry later",
}


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with latchkey.Client() as client:
        try:
            token = client.get_token(sys.argv[1], min_ttl=60)
        except latchkey.LatchkeyError as refused:
            action = ACTIONS.get(type(refused), "read the message")
            print(f"refused {refused.code.name} {refused.reason}: {action}", end="")
            if refused.retry_after is not None:
                print(f" (retry in {refused.retry_after:.0f} s)", end="")
            print(f"; connection {refused.connection_id or '?'}")
            return 1
    where = f"header {token.header[0]}" if token.header else f"query {token.query[0]}"
    expires = token.expires_at.replace(tzinfo=None).isoformat() if token.expires_at else "-"
    print(f"credential in {where}, {len(token.access_token)} characters, valid until {expires}Z")
    return 0


if __name__ == "__main__":
    sys.exit(main())
