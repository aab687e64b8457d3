"""A workflow worker's side of Latchkey: ask for a connection's credential, and act on a refusal
by its google.rpc.ErrorInfo reason (never by parsing the message).

    python worker.py <connection-id>

LATCHKEY_SERVER (host:port, default 127.0.0.1:50051) and LATCHKEY_API_KEY (when the server asks
for one) say where and who. Prints what it would do; never prints the token itself.
"""

import os
import sys

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))
from latchkey.v1 import connection_pb2, connection_pb2_grpc  # noqa: E402

# What a worker does for each reason (README: "Errors callers act on").
ACTIONS = {
    "REAUTHORIZATION_REQUIRED": "ask the customer to connect again",
    "REVOKED": "stop: the connection was revoked",
    "DELETED": "stop: the connection was deleted",
    "PENDING_AUTHORIZATION": "wait: the customer has not finished connecting",
    "PROVIDER_UNAVAILABLE": "retry later",
    "REFRESH_BACKOFF": "retry later",
}


def refusal(error: grpc.RpcError):
    """The ErrorInfo reason and metadata, and the RetryInfo delay, of a refused call."""
    status = rpc_status.from_call(error)
    reason, metadata, retry_after = error.code().name, {}, None
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_after = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
    return reason, metadata, retry_after


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    server = os.environ.get("LATCHKEY_SERVER", "127.0.0.1:50051").removeprefix("http://")
    key = os.environ.get("LATCHKEY_API_KEY")
    metadata = [("authorization", f"Bearer {key}")] if key else []
    with grpc.insecure_channel(server) as channel:
        stub = connection_pb2_grpc.ConnectionServiceStub(channel)
        try:
            token = stub.GetToken(
                connection_pb2.GetTokenRequest(connection_id=sys.argv[1]),
                metadata=metadata,
                timeout=30,
            )
        except grpc.RpcError as error:
            reason, details, retry_after = refusal(error)
            action = ACTIONS.get(reason, "read the message")
            print(f"refused {error.code().name} {reason}: {action}", end="")
            if retry_after is not None:
                print(f" (retry in {retry_after:.0f} s)", end="")
            print(f"; connection {details.get('connection_id', '?')}")
            return 1
    placement = token.WhichOneof("placement")
    credential = getattr(token, placement) if placement else None
    where = f"header {credential.name}" if placement == "header" else f"query {credential.param}"
    expires = token.expires_at.ToDatetime().isoformat()
    print(f"credential in {where}, {len(token.access_token)} characters, valid until {expires}Z")
    return 0


if __name__ == "__main__":
    sys.exit(main())
