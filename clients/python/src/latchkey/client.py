"""The synchronous client: ``get_token`` with an in-process cache, one call per connection at a
time, and retries that honour the server's ``RetryInfo`` for the reasons that ask for them."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Dict, Optional, TypeVar

import grpc

from ._config import Settings, duration, seconds
from ._token import Token
from .errors import LatchkeyError, from_rpc_error
from .v1 import connection_pb2, connection_pb2_grpc

log = logging.getLogger("latchkey")

T = TypeVar("T")

#: Seconds a call (with its retries) may take unless told otherwise.
DEFAULT_TIMEOUT = 30.0


def backoff(attempt: int) -> float:
    """Seconds before retry ``attempt`` when the server named no delay: 0.2 s doubling to 5 s."""
    return min(0.2 * 2 ** (attempt - 1), 5.0)


class _Cache:
    """Credentials by connection, good while they have the asked ``min_ttl`` left; a generation
    per connection so a token fetched across an invalidation is not kept."""

    def __init__(self) -> None:
        self.tokens: Dict[str, Token] = {}
        self.generations: Dict[str, int] = {}
        self.guard = threading.Lock()

    def good(self, connection_id: str, min_ttl: float) -> Optional[Token]:
        token = self.tokens.get(connection_id)
        if token is not None and token.seconds_left() >= min_ttl:
            return token
        return None

    def generation(self, connection_id: str) -> int:
        return self.generations.get(connection_id, 0)

    def keep(self, token: Token, generation: int) -> None:
        with self.guard:
            if self.generations.get(token.connection_id, 0) == generation:
                self.tokens[token.connection_id] = token

    def drop(self, connection_id: str) -> None:
        with self.guard:
            self.generations[connection_id] = self.generations.get(connection_id, 0) + 1
            self.tokens.pop(connection_id, None)


class Client:
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
        self.settings = Settings.resolve(
            server, api_key, api_key_file, server_ca, client_cert, client_key
        )
        target, tls = self.settings.target()
        self._channel = (
            grpc.secure_channel(target, self.settings.credentials())
            if tls
            else grpc.insecure_channel(target)
        )
        self._connections = connection_pb2_grpc.ConnectionServiceStub(self._channel)
        self._metadata = self.settings.metadata()
        self.timeout = timeout
        self._cache = _Cache()
        self._flights: Dict[str, threading.Lock] = {}
        self._flights_guard = threading.Lock()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    @property
    def channel(self) -> grpc.Channel:
        """The gRPC channel, for the generated stubs of the other RPCs (``latchkey.v1``)."""
        return self._channel

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
            request = connection_pb2.GetTokenRequest(
                connection_id=connection_id, min_ttl=duration(ttl)
            )
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
        held = token or self._cache.tokens.get(connection_id)
        self.invalidate(connection_id)
        request = connection_pb2.ReportTokenRejectedRequest(
            connection_id=connection_id,
            http_status=http_status,
            provider_error=provider_error,
            token_version=held.version if held else 0,
        )
        reply = self._call(
            "ReportTokenRejected", self._connections.ReportTokenRejected, request, timeout
        )
        if reply.HasField("credential"):
            return Token.from_response(connection_id, reply.credential)
        return None

    def invalidate(self, connection_id: str) -> None:
        """Forgets the cached credential of a connection (the event helper calls this)."""
        self._cache.drop(connection_id)

    def _flight(self, connection_id: str) -> threading.Lock:
        with self._flights_guard:
            lock = self._flights.get(connection_id)
            if lock is None:
                lock = self._flights[connection_id] = threading.Lock()
            return lock

    def _call(
        self, name: str, method: Callable[..., T], request: object, timeout: Optional[float]
    ) -> T:
        budget = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
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


def retry_wait(error: LatchkeyError, attempt: int, deadline: float) -> Optional[float]:
    """How long to wait before trying again, or None: not retryable, or past the deadline."""
    if not error.retryable:
        return None
    wait = error.retry_after if error.retry_after is not None else backoff(attempt)
    if time.monotonic() + wait >= deadline:
        return None
    return wait
