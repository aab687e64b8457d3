"""What the synchronous and the asyncio clients share: settings, the cache, the requests they
send, and when a refused call is tried again."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Optional

from ._config import Settings, duration
from ._token import Token
from .errors import LatchkeyError
from .v1 import connection_pb2, connection_pb2_grpc

#: Seconds a call (with its retries) may take unless told otherwise.
DEFAULT_TIMEOUT = 30.0


def backoff(attempt: int) -> float:
    """Seconds before retry ``attempt`` when the server named no delay: 0.2 s doubling to 5 s."""
    return min(0.2 * 2 ** (attempt - 1), 5.0)


def retry_wait(error: LatchkeyError, attempt: int, deadline: float) -> Optional[float]:
    """How long to wait before trying again, or None: not retryable, or past the deadline."""
    if not error.retryable:
        return None
    wait = error.retry_after if error.retry_after is not None else backoff(attempt)
    if time.monotonic() + wait >= deadline:
        return None
    return wait


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


class _Base:
    """Settings (arguments, else the CLI's environment variables), the channel ``make_channel``
    opens, the ConnectionService stub and the token cache."""

    def __init__(
        self,
        make_channel: Callable[..., Any],
        make_secure_channel: Callable[..., Any],
        server: Optional[str],
        api_key: Optional[str],
        api_key_file: Optional[str],
        server_ca: Optional[str],
        client_cert: Optional[str],
        client_key: Optional[str],
        timeout: float,
    ) -> None:
        self.settings = Settings.resolve(
            server, api_key, api_key_file, server_ca, client_cert, client_key
        )
        target, tls = self.settings.target()
        self._channel = (
            make_secure_channel(target, self.settings.credentials())
            if tls
            else make_channel(target)
        )
        self._connections = connection_pb2_grpc.ConnectionServiceStub(self._channel)
        self._metadata = self.settings.metadata()
        self.timeout = timeout
        self._cache = _Cache()

    @property
    def channel(self) -> Any:
        """The gRPC channel, for the generated stubs of the other RPCs (``latchkey.v1``)."""
        return self._channel

    def invalidate(self, connection_id: str) -> None:
        """Forgets the cached credential of a connection (the event helper calls this)."""
        self._cache.drop(connection_id)

    def _deadline(self, timeout: Optional[float]) -> float:
        return time.monotonic() + (self.timeout if timeout is None else timeout)

    def _token_request(self, connection_id: str, ttl: float) -> connection_pb2.GetTokenRequest:
        return connection_pb2.GetTokenRequest(connection_id=connection_id, min_ttl=duration(ttl))

    def _report_request(
        self,
        connection_id: str,
        http_status: int,
        provider_error: str,
        token: Optional[Token],
    ) -> connection_pb2.ReportTokenRejectedRequest:
        """The report, with the version of the token reported; the cached token is dropped."""
        held = token or self._cache.tokens.get(connection_id)
        self.invalidate(connection_id)
        return connection_pb2.ReportTokenRejectedRequest(
            connection_id=connection_id,
            http_status=http_status,
            provider_error=provider_error,
            token_version=held.version if held else 0,
        )

    @staticmethod
    def _credential(
        connection_id: str, reply: connection_pb2.ReportTokenRejectedResponse
    ) -> Optional[Token]:
        if reply.HasField("credential"):
            return Token.from_response(connection_id, reply.credential)
        return None
