"""The asyncio client: the same ``get_token`` cache, single flight and retries as
:class:`latchkey.Client`, on ``grpc.aio``."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict, Optional

import grpc

from ._base import DEFAULT_TIMEOUT, _Base, retry_wait
from ._config import seconds
from ._token import Token
from .errors import from_rpc_error

log = logging.getLogger("latchkey")


class AsyncClient(_Base):
    """A Latchkey client for asyncio workers; share one per event loop.

    Settings as :class:`latchkey.Client`: arguments, else the CLI's environment variables."""

    def __init__(
        self,
        server: Optional[str] = None,
        *,
        api_key: Optional[str] = None,
        api_key_file: Optional[str] = None,
        server_ca: Optional[str] = None,
        client_cert: Optional[str] = None,
        client_key: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(
            grpc.aio.insecure_channel,
            grpc.aio.secure_channel,
            server,
            api_key,
            api_key_file,
            server_ca,
            client_cert,
            client_key,
            timeout,
        )
        self._flights: Dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def get_token(
        self, connection_id: str, min_ttl: float = 30.0, *, timeout: Optional[float] = None
    ) -> Token:
        """As :meth:`latchkey.Client.get_token`: cached, one call per connection at a time."""
        ttl = seconds(min_ttl)
        cached = self._cache.good(connection_id, ttl)
        if cached is not None:
            return cached
        flight = self._flights.setdefault(connection_id, asyncio.Lock())
        async with flight:
            cached = self._cache.good(connection_id, ttl)
            if cached is not None:
                return cached
            generation = self._cache.generation(connection_id)
            request = self._token_request(connection_id, ttl)
            reply = await self._call("GetToken", self._connections.GetToken, request, timeout)
            token = Token.from_response(connection_id, reply)
            self._cache.keep(token, generation)
            return token

    async def report_token_rejected(
        self,
        connection_id: str,
        http_status: int,
        provider_error: str = "",
        *,
        token: Optional[Token] = None,
        timeout: Optional[float] = None,
    ) -> Optional[Token]:
        """As :meth:`latchkey.Client.report_token_rejected`."""
        request = self._report_request(connection_id, http_status, provider_error, token)
        reply = await self._call(
            "ReportTokenRejected", self._connections.ReportTokenRejected, request, timeout
        )
        return self._credential(connection_id, reply)

    async def _call(self, name: str, method: Any, request: object, timeout: Optional[float]) -> Any:
        deadline = self._deadline(timeout)
        attempt = 0
        while True:
            left = max(deadline - time.monotonic(), 0.001)
            try:
                return await method(request, metadata=self._metadata, timeout=left)
            except grpc.RpcError as failure:
                error = from_rpc_error(failure)
            attempt += 1
            wait = retry_wait(error, attempt, deadline)
            if wait is None:
                raise error
            log.info(
                "latchkey: retrying %s in %.2f s (%s %s)", name, wait, error.code.name, error.reason
            )
            await asyncio.sleep(wait)
