"""Drop cached credentials when Latchkey says they changed: a NATS subscription to the
connection events that make a cached token stale (needs ``pip install latchkey-client[nats]``).

    listener = await latchkey.events.follow(client)            # asyncio
    listener = latchkey.events.follow_in_thread(client)        # a synchronous worker

``LATCHKEY_NATS_URL`` and ``LATCHKEY_NATS_SUBJECT_PREFIX`` (the server's settings) say where.
Subjects are ``<prefix>.<tenant>.<connection_id>.<type>``; this listens on core NATS (no
JetStream consumer to manage): a worker that was away lost nothing but its cache's freshness,
and the cache never serves a token past its own ``min_ttl`` anyway.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, List, Optional, Protocol

#: Event types after which a cached token is not to be used again.
STALE_AFTER = (
    "refreshed",
    "token_rejected",
    "revoked",
    "deleted",
    "reauthorization_required",
    "expired",
    "authorized",
    "imported",
)


class _Invalidates(Protocol):
    def invalidate(self, connection_id: str) -> None: ...


class Listener:
    """A running subscription; ``close()`` (or ``await aclose()``) stops it."""

    def __init__(self, nc: Any, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self._nc = nc
        self._loop = loop
        self.heard = 0

    async def aclose(self) -> None:
        await self._nc.drain()

    def close(self) -> None:
        if self._loop is None:
            raise RuntimeError("an asyncio listener: await aclose()")
        asyncio.run_coroutine_threadsafe(self.aclose(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)


async def follow(
    client: _Invalidates, nats_url: Optional[str] = None, prefix: Optional[str] = None
) -> Listener:
    """Subscribes on the running loop; each stale-making event drops that connection's token."""
    import nats  # the optional dependency

    url = nats_url or os.environ.get("LATCHKEY_NATS_URL", "nats://127.0.0.1:4222")
    prefix = prefix or os.environ.get("LATCHKEY_NATS_SUBJECT_PREFIX", "latchkey.v1")
    nc = await nats.connect(url)
    listener = Listener(nc, None)

    async def heard(message: Any) -> None:
        parts: List[str] = message.subject.split(".")
        if len(parts) >= 3:
            client.invalidate(parts[-2])
            listener.heard += 1

    for kind in STALE_AFTER:
        await nc.subscribe(f"{prefix}.*.*.{kind}", cb=heard)
    await nc.flush()
    return listener


def follow_in_thread(
    client: _Invalidates, nats_url: Optional[str] = None, prefix: Optional[str] = None
) -> Listener:
    """As :func:`follow`, for a synchronous worker: the subscription runs on a daemon thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="latchkey-events", daemon=True)
    thread.start()
    listener = asyncio.run_coroutine_threadsafe(follow(client, nats_url, prefix), loop).result(
        timeout=30
    )
    listener._loop = loop
    return listener
