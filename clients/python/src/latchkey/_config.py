"""Where the server is and who is asking: the CLI's environment variables, or arguments."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

import grpc
from google.protobuf import duration_pb2

DEFAULT_SERVER = "http://127.0.0.1:50051"


@dataclass(frozen=True)
class Settings:
    """``LATCHKEY_SERVER`` (``http://host:port``, ``https://host:port`` or ``host:port``),
    ``LATCHKEY_API_KEY`` or ``LATCHKEY_API_KEY_FILE``, ``LATCHKEY_SERVER_CA`` (a PEM file to trust
    for ``https://``), and for mutual TLS ``LATCHKEY_CLIENT_CERT`` and ``LATCHKEY_CLIENT_KEY``."""

    server: str = DEFAULT_SERVER
    api_key: Optional[str] = None
    server_ca: Optional[str] = None
    client_cert: Optional[str] = None
    client_key: Optional[str] = None

    @classmethod
    def resolve(
        cls,
        server: Optional[str] = None,
        api_key: Optional[str] = None,
        api_key_file: Optional[str] = None,
        server_ca: Optional[str] = None,
        client_cert: Optional[str] = None,
        client_key: Optional[str] = None,
    ) -> "Settings":
        env = os.environ.get
        key = api_key or env("LATCHKEY_API_KEY")
        key_file = api_key_file or env("LATCHKEY_API_KEY_FILE")
        if key and key_file:
            raise ValueError("set either LATCHKEY_API_KEY (api_key) or LATCHKEY_API_KEY_FILE, not both")
        if key_file:
            with open(key_file, encoding="utf-8") as f:
                key = f.read().strip()
        cert = client_cert or env("LATCHKEY_CLIENT_CERT")
        private = client_key or env("LATCHKEY_CLIENT_KEY")
        if bool(cert) != bool(private):
            raise ValueError("LATCHKEY_CLIENT_CERT and LATCHKEY_CLIENT_KEY go together (mutual TLS)")
        return cls(
            server=server or env("LATCHKEY_SERVER") or DEFAULT_SERVER,
            api_key=key or None,
            server_ca=server_ca or env("LATCHKEY_SERVER_CA"),
            client_cert=cert,
            client_key=private,
        )

    def target(self) -> Tuple[str, bool]:
        """The gRPC target and whether it is on TLS."""
        server = self.server
        if server.startswith("https://"):
            return server[len("https://") :].rstrip("/"), True
        if server.startswith("http://"):
            return server[len("http://") :].rstrip("/"), bool(self.server_ca or self.client_cert)
        if "://" in server:
            raise ValueError(f"LATCHKEY_SERVER: {server!r} is neither http:// nor https://")
        return server, bool(self.server_ca or self.client_cert)

    def credentials(self) -> grpc.ChannelCredentials:
        def read(path: Optional[str]) -> Optional[bytes]:
            if not path:
                return None
            with open(path, "rb") as f:
                return f.read()

        return grpc.ssl_channel_credentials(
            root_certificates=read(self.server_ca),
            private_key=read(self.client_key),
            certificate_chain=read(self.client_cert),
        )

    def metadata(self) -> List[Tuple[str, str]]:
        return [("authorization", f"Bearer {self.api_key}")] if self.api_key else []


def duration(seconds: Union[float, int]) -> duration_pb2.Duration:
    """A protobuf Duration of ``seconds``, rounded up to the microsecond."""
    if seconds < 0 or math.isnan(seconds):
        raise ValueError(f"min_ttl must be zero or more seconds, not {seconds}")
    micros = math.ceil(seconds * 1_000_000)
    return duration_pb2.Duration(seconds=micros // 1_000_000, nanos=(micros % 1_000_000) * 1000)


def seconds(value: object) -> float:
    """Seconds from a number or a ``datetime.timedelta``."""
    total = getattr(value, "total_seconds", None)
    return float(total() if callable(total) else value)  # type: ignore[arg-type]
