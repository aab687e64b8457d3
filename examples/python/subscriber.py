"""A subscriber in Python: the events Latchkey publishes on NATS JetStream, decoded with their
typed payloads (no JSON parsing, no schema guessing).

    python subscriber.py <connection-id>

LATCHKEY_NATS_URL (default nats://127.0.0.1:4222), LATCHKEY_NATS_STREAM (default
LATCHKEY_EVENTS) and LATCHKEY_NATS_SUBJECT_PREFIX (default latchkey.v1) say where. Waits for the
connection's next `refreshed` event (from the start of the stream) and prints what it says; a
stub (an event NATS could not take whole) is named as such, to be read with GetHistory.
"""

import asyncio
import os
import sys

import nats
import nats.js.errors

from latchkey.v1 import audit_pb2  # the client package (clients/python) ships the stubs


async def main(connection_id: str) -> int:
    url = os.environ.get("LATCHKEY_NATS_URL", "nats://127.0.0.1:4222")
    stream = os.environ.get("LATCHKEY_NATS_STREAM", "LATCHKEY_EVENTS")
    prefix = os.environ.get("LATCHKEY_NATS_SUBJECT_PREFIX", "latchkey.v1")
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        # <prefix>.<tenant>.<connection_id>.<type>; the stream is Latchkey's to create, so a
        # subscriber that starts first waits for it.
        for _ in range(100):
            try:
                sub = await js.subscribe(
                    f"{prefix}.*.{connection_id}.refreshed", stream=stream, ordered_consumer=True
                )
                break
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(0.1)
        else:
            print(f"no stream {stream} on {url}")
            return 1
        message = await sub.next_msg(timeout=30)
        event = audit_pb2.Event()
        event.ParseFromString(message.data)
        if event.omitted:
            print(f"stub of {event.type} version {event.version}: {event.omitted}")
            return 1
        if event.WhichOneof("payload") != "refreshed":
            print(f"unexpected payload {event.WhichOneof('payload')} for {event.type}")
            return 1
        tokens = event.refreshed.tokens
        print(
            f"refreshed {event.stream_id} version {event.version}: "
            f"{tokens.token_type} token until {tokens.expires_at.ToJsonString()}, "
            f"scopes {' '.join(tokens.scopes) or '-'}, "
            f"new refresh token {'yes' if tokens.refresh_token_issued else 'no'}"
        )
        return 0
    finally:
        await client.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
