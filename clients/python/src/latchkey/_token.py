"""A credential as GetToken hands it out."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from google.protobuf import json_format

from .v1 import connection_pb2


@dataclass(frozen=True)
class Token:
    """A connection's credential: how to present it, until when, and the connection's metadata.

    ``repr()`` never shows the token; read ``access_token`` (or ``header``/``query``) to use it.
    """

    connection_id: str
    access_token: str = field(repr=False)
    token_type: str
    expires_at: Optional[_dt.datetime]
    scopes: List[str]
    #: ``(name, value)`` of the header to send (``("Authorization", "Bearer …")``), if any.
    header: Optional[Tuple[str, str]] = field(repr=False)
    #: ``(param, value)`` of the query parameter to send, if the provider takes it there.
    query: Optional[Tuple[str, str]] = field(repr=False)
    base_uri: str
    metadata: Dict[str, Any]
    #: The connection's version this token belongs to (for ``report_token_rejected``).
    version: int

    def seconds_left(self, now: Optional[_dt.datetime] = None) -> float:
        """Seconds until the token expires (infinite when the provider gave no lifetime)."""
        if self.expires_at is None:
            return float("inf")
        now = now or _dt.datetime.now(_dt.timezone.utc)
        return (self.expires_at - now).total_seconds()

    @classmethod
    def from_response(cls, connection_id: str, reply: connection_pb2.GetTokenResponse) -> "Token":
        expires_at = None
        if reply.HasField("expires_at"):
            expires_at = reply.expires_at.ToDatetime(tzinfo=_dt.timezone.utc)
        placement = reply.WhichOneof("placement")
        header = (reply.header.name, reply.header.value) if placement == "header" else None
        query = (reply.query.param, reply.query.value) if placement == "query" else None
        metadata = json_format.MessageToDict(reply.metadata) if reply.HasField("metadata") else {}
        return cls(
            connection_id=connection_id,
            access_token=reply.access_token,
            token_type=reply.token_type,
            expires_at=expires_at,
            scopes=list(reply.scopes),
            header=header,
            query=query,
            base_uri=reply.base_uri,
            metadata=metadata,
            version=reply.version,
        )
