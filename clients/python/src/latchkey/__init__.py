"""Latchkey's Python client.

    import latchkey

    client = latchkey.Client()                 # LATCHKEY_SERVER, LATCHKEY_API_KEY…
    token = client.get_token(connection_id, min_ttl=60)
    name, value = token.header                 # ("Authorization", "Bearer …")

``latchkey.AsyncClient`` is the asyncio variant; ``latchkey.errors`` the typed refusals;
``latchkey.events`` drops cached tokens on Latchkey's NATS events; ``latchkey.v1`` the generated
stubs of every RPC.
"""

from . import errors
from ._token import Token
from .aio import AsyncClient
from .client import Client
from .errors import (
    Deleted,
    InvalidArgument,
    LatchkeyError,
    NotFound,
    PendingAuthorization,
    RateLimited,
    ReauthorizationRequired,
    Revoked,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "AsyncClient",
    "Client",
    "Deleted",
    "InvalidArgument",
    "LatchkeyError",
    "NotFound",
    "PendingAuthorization",
    "RateLimited",
    "ReauthorizationRequired",
    "Revoked",
    "Token",
    "Unauthenticated",
    "Unavailable",
    "errors",
]
__version__ = "0.1.0"
