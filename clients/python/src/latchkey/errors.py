"""Latchkey's refusals as exceptions, by the `google.rpc.ErrorInfo` reason the server sends.

Every refusal is a :class:`LatchkeyError` carrying the gRPC code, the reason, the ErrorInfo
metadata (``connection_id``, ``error``…) and, when the server gave one, the ``RetryInfo`` delay.
Branch on the class or on ``reason``, never on the message.
"""

from __future__ import annotations

from typing import Dict, Optional

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

#: Reasons a call is retried for (after the server's RetryInfo delay, else with backoff).
RETRYABLE_REASONS = frozenset({"RATE_LIMITED", "REFRESH_BACKOFF", "PROVIDER_UNAVAILABLE"})


class LatchkeyError(Exception):
    """A call Latchkey refused, or one that never reached it."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: str,
        message: str,
        metadata: Optional[Dict[str, str]] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        self.code = code
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})
        self.retry_after = retry_after
        super().__init__(f"{code.name} {reason}: {message}")

    @property
    def connection_id(self) -> Optional[str]:
        """The connection the refusal is about, when the server named it."""
        return self.metadata.get("connection_id")

    @property
    def retryable(self) -> bool:
        """Whether trying again later can succeed: the server asked to wait, or was unreachable."""
        if self.reason in RETRYABLE_REASONS:
            return True
        # UNAVAILABLE without a reason of Latchkey's: the server (or the path to it) was down.
        return self.code == grpc.StatusCode.UNAVAILABLE and self.reason == "UNAVAILABLE"


class ReauthorizationRequired(LatchkeyError):
    """The grant is gone: send the customer through Connect again (``metadata['error']`` says why)."""


class Revoked(LatchkeyError):
    """The connection was revoked: it has no token to hand out."""


class PendingAuthorization(LatchkeyError):
    """The customer has not finished connecting."""


class AuthorizationFailed(LatchkeyError):
    """The customer's authorization failed."""


class Deleted(LatchkeyError):
    """The connection was deleted (its history stays)."""


class NotFound(LatchkeyError):
    """No such connection or integration (or another tenant's)."""


class TokenLifetimeTooShort(LatchkeyError):
    """The provider's tokens do not last the ``min_ttl`` asked for."""


class ProviderRefused(LatchkeyError):
    """The provider refused the request for good: fix the integration."""


class InvalidArgument(LatchkeyError):
    """A field of the request is wrong (the message names it)."""


class Unauthenticated(LatchkeyError):
    """No API key or certificate, or one the server does not know."""


class PermissionDenied(LatchkeyError):
    """The caller may not act on this (another tenant's, a missing scope)."""


class RateLimited(LatchkeyError):
    """Over the caller's rate: retried after ``retry_after``."""


class Unavailable(LatchkeyError):
    """The provider or the server is unavailable for now: retried after ``retry_after``."""


class VersionConflict(LatchkeyError):
    """Another writer changed it first: read again, decide again."""


_BY_REASON = {
    "REAUTHORIZATION_REQUIRED": ReauthorizationRequired,
    "REVOKED": Revoked,
    "PENDING_AUTHORIZATION": PendingAuthorization,
    "AUTHORIZATION_FAILED": AuthorizationFailed,
    "DELETED": Deleted,
    "NOT_FOUND": NotFound,
    "TOKEN_LIFETIME_TOO_SHORT": TokenLifetimeTooShort,
    "PROVIDER_REFUSED": ProviderRefused,
    "RATE_LIMITED": RateLimited,
    "REFRESH_BACKOFF": Unavailable,
    "PROVIDER_UNAVAILABLE": Unavailable,
    "VERSION_CONFLICT": VersionConflict,
}

_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RateLimited,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.ABORTED: VersionConflict,
}


def from_rpc_error(error: grpc.RpcError) -> LatchkeyError:
    """The typed error for a failed call: its ErrorInfo reason and metadata, its RetryInfo."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    reason, metadata, retry_after = code.name, {}, None
    try:
        status = rpc_status.from_call(error)
    except ValueError:
        status = None
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_after = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
    kind = _BY_REASON.get(reason) or _BY_CODE.get(code, LatchkeyError)
    return kind(code, reason, message or "", metadata, retry_after)
