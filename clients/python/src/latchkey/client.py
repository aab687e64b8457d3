"""The synchronous client: ``get_token`` with an in-process cache, one call per connection at a
time, and retries that honour the server's ``RetryInfo`` for the reasons that ask for them."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Dict, Optional, TypeVar

import grpc

from ._base import DEFAULT_TIMEOUT, _Base, retry_wait
from ._config import seconds
from ._token import Token
from .errors import from_rpc_error

log = logging.getLogger("latchkey")

T = TypeVar("T")


class Client(_Base):
    """A Latchkey client for workers. Thread-safe; share one per process.

    Settings come from the arguments, else the CLI's environment variables (``LATCHKEY_SERVER``,
    ``LATCHKEY_API_KEY``/``LATCHKEY_API_KEY_FILE``, ``LATCHKEY_SERVER_CA``,
    ``LATCHKEY_CLIENT_CERT``/``LATCHKEY_CLIENT_KEY``).
    """

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
            grpc.insecure_channel,
            grpc.secure_channel,
            server,
            api_key,
            api_key_file,
            server_ca,
            client_cert,
            client_key,
            timeout,
        )
        self._flights: Dict[str, threading.Lock] = {}
        self._flights_guard = threading.Lock()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def get_token(
        self, connection_id: str, min_ttl: float = 30.0, *, timeout: Optional[float] = None
    ) -> Token:
        """A credential with at least ``min_ttl`` seconds left (a number or a timedelta; 30 s, the
        server's own default, unless said): from the cache while it has that much left, else from
        the server, one call per connection however many threads ask at once. Raises a
        :class:`~latchkey.errors.LatchkeyError` subclass."""
        ttl = seconds(min_ttl)
        cached = self._cache.good(connection_id, ttl)
        if cached is not None:
            return cached
        with self._flight(connection_id):
            cached = self._cache.good(connection_id, ttl)
            if cached is not None:
                return cached
            generation = self._cache.generation(connection_id)
            request = self._token_request(connection_id, ttl)
            reply = self._call("GetToken", self._connections.GetToken, request, timeout)
            token = Token.from_response(connection_id, reply)
            self._cache.keep(token, generation)
            return token

    def report_token_rejected(
        self,
        connection_id: str,
        http_status: int,
        provider_error: str = "",
        *,
        token: Optional[Token] = None,
        timeout: Optional[float] = None,
    ) -> Optional[Token]:
        """Tells Latchkey the provider refused the connection's token (a 401); drops the cached
        one. Returns the credential to use now when Latchkey has one (a new token, or the same
        one if the provider still takes it); raises when the connection needs its customer."""
        request = self._report_request(connection_id, http_status, provider_error, token)
        reply = self._call(
            "ReportTokenRejected", self._connections.ReportTokenRejected, request, timeout
        )
        return self._credential(connection_id, reply)

    def _flight(self, connection_id: str) -> threading.Lock:
        with self._flights_guard:
            lock = self._flights.get(connection_id)
            if lock is None:
                lock = self._flights[connection_id] = threading.Lock()
            return lock

    def _call(
        self, name: str, method: Callable[..., T], request: object, timeout: Optional[float]
    ) -> T:
        deadline = self._deadline(timeout)
        attempt = 0
        while True:
            left = max(deadline - time.monotonic(), 0.001)
            try:
                return method(request, metadata=self._metadata, timeout=left)
            except grpc.RpcError as failure:
                error = from_rpc_error(failure)
            attempt += 1
            wait = retry_wait(error, attempt, deadline)
            if wait is None:
                raise error
            log.info(
                "latchkey: retrying %s in %.2f s (%s %s)", name, wait, error.code.name, error.reason
            )
            time.sleep(wait)
