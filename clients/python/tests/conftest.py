"""A real Latchkey for the client's tests: `latchkey dev-provider` and `latchkey serve` on its
embedded store in a scratch directory, on ports of their own (port 0). The binary is
LATCHKEY_BIN, else the workspace's target/debug/latchkey (scripts/test builds it)."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import grpc
import pytest
from google.protobuf import timestamp_pb2

from latchkey.v1 import (
    connection_pb2,
    connection_pb2_grpc,
    integration_pb2,
    integration_pb2_grpc,
)

ROOT = Path(__file__).resolve().parents[3]


def binary() -> str:
    path = os.environ.get("LATCHKEY_BIN") or str(ROOT / "target" / "debug" / "latchkey")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no latchkey binary at {path}: build it (cargo build -p latchkey) or set LATCHKEY_BIN")
    return path


class Process:
    """A child process whose output is read line by line; waits for a line matching a pattern."""

    def __init__(self, args: List[str], env: Dict[str, str], cwd: str) -> None:
        self.lines: List[str] = []
        self.proc = subprocess.Popen(
            args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()

    def wait_for(self, pattern: str, within: float = 60.0) -> re.Match:
        deadline = time.monotonic() + within
        with self._seen:
            while True:
                for line in self.lines:
                    found = re.search(pattern, line)
                    if found:
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no line matching {pattern!r}:\n" + "\n".join(self.lines))
                self._seen.wait(timeout=min(left, 0.5))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Latchkey:
    """`latchkey serve` with the dev provider, and what the tests set up through it."""

    def __init__(
        self, scratch: str, extra: Optional[Dict[str, str]] = None, keyed: bool = False
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")}
        self.settings = dict(extra or {})
        self.provider = Process(
            [binary(), "dev-provider", "--port", "0", "--secret-file", "demo.secret"], env, scratch
        )
        self.provider_url = self.provider.wait_for(r"dev provider at (http://[0-9.:]+)").group(1)
        with open(Path(scratch) / "demo.secret", encoding="utf-8") as f:
            self.client_secret = f.read().strip()
        env.update(
            {
                "LATCHKEY_DATA_DIR": str(Path(scratch) / "data"),
                "LATCHKEY_GRPC_ADDR": "127.0.0.1:0",
                "LATCHKEY_HTTP_ADDR": "127.0.0.1:0",
                "LATCHKEY_ADMIN_ADDR": "127.0.0.1:0",
                "LATCHKEY_ALLOW_LOOPBACK_PROVIDERS": "true",
                **(extra or {}),
            }
        )
        self.api_key: Optional[str] = None
        if keyed:
            # An admin key made before the server starts; the server then asks every caller for
            # one. The master key is given (`apikeys create` on a new data directory does not
            # write the master key file `serve` would).
            env["LATCHKEY_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
            made = subprocess.run(
                [binary(), "apikeys", "create", "--name", "tests"],
                env=env, cwd=scratch, capture_output=True, text=True, check=True,
            )
            self.api_key = made.stdout.strip().splitlines()[-1]
            env["LATCHKEY_AUTH"] = "api-keys"
        self.server = Process([binary(), "serve"], env, scratch)
        ready = self.server.wait_for(r"latchkey ready grpc=(\S+) http=(\S+) admin=(\S+)")
        self.grpc_addr, self.admin_addr = ready.group(1), ready.group(3)
        self.url = f"http://{self.grpc_addr}"
        self.channel = grpc.insecure_channel(self.grpc_addr)
        self.metadata = [("authorization", f"Bearer {self.api_key}")] if self.api_key else []
        self.connections = connection_pb2_grpc.ConnectionServiceStub(self.channel)
        self.integrations = integration_pb2_grpc.IntegrationServiceStub(self.channel)
        self._integrations: Dict[int, str] = {}

    def stop(self) -> None:
        self.channel.close()
        self.server.stop()
        self.provider.stop()

    def integration(self, grant: int = integration_pb2.GRANT_TYPE_CLIENT_CREDENTIALS) -> str:
        """An integration at the dev provider (one per grant type and server)."""
        if grant not in self._integrations:
            config = integration_pb2.IntegrationConfig(
                name=f"Demo {uuid.uuid4().hex[:8]}",
                grant_type=grant,
                token_url=f"{self.provider_url}/token",
                authorization_url=f"{self.provider_url}/authorize",
                client_id="demo",
            )
            request = integration_pb2.CreateIntegrationRequest(
                config=config, client_secret=self.client_secret
            )
            created = patiently(self.integrations.CreateIntegration, request, self.metadata)
            self._integrations[grant] = created.integration_id
        return self._integrations[grant]

    def connect(self) -> str:
        request = connection_pb2.ConnectClientCredentialsRequest(
            integration_id=self.integration(), tenant="acme"
        )
        return patiently(self.connections.ConnectClientCredentials, request, self.metadata).connection_id

    def connect_with_a_dead_refresh_token(self) -> str:
        """An imported connection whose token expired and whose refresh token the provider does
        not know: the next GetToken refreshes, is refused, and the grant is gone."""
        past = timestamp_pb2.Timestamp()
        past.FromDatetime(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
        request = connection_pb2.ImportConnectionRequest(
            integration_id=self.integration(integration_pb2.GRANT_TYPE_AUTHORIZATION_CODE),
            tenant="acme",
            access_token="dev-expired",
            refresh_token="dev-unknown-refresh-token",
            expires_at=past,
        )
        return patiently(self.connections.ImportConnection, request, self.metadata).connection.connection_id

    def revoke(self, connection_id: str) -> None:
        request = connection_pb2.RevokeConnectionRequest(connection_id=connection_id)
        patiently(self.connections.RevokeConnection, request, self.metadata)

    def get_token_calls(self) -> int:
        """GetToken calls the server answered so far, from its /metrics."""
        with urllib.request.urlopen(f"http://{self.admin_addr}/metrics", timeout=10) as r:
            text = r.read().decode()
        return sum(
            int(float(m.group(1)))
            for m in re.finditer(r"^latchkey_get_token_seconds_count\{[^}]*\} (\S+)$", text, re.M)
        )


def patiently(method, request, metadata=()):
    """A set-up call, retried while the server is rate-limiting (the rate-limit tests' server)."""
    for _ in range(100):
        try:
            return method(request, timeout=10, metadata=list(metadata))
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
            time.sleep(0.2)
    raise AssertionError("still rate-limited after 20 s")


def start(extra: Optional[Dict[str, str]] = None, keyed: bool = False) -> Iterator[Latchkey]:
    with tempfile.TemporaryDirectory(prefix="latchkey-py-") as scratch:
        server = Latchkey(scratch, extra, keyed)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def server() -> Iterator[Latchkey]:
    yield from start()


@pytest.fixture(scope="session")
def limited() -> Iterator[Latchkey]:
    """A server allowing each caller two requests a second."""
    yield from start({"LATCHKEY_CALLER_RATE": "2"})


@pytest.fixture(scope="session")
def keyed() -> Iterator[Latchkey]:
    """A server that asks every caller for an API key (LATCHKEY_AUTH=api-keys)."""
    yield from start(keyed=True)


@pytest.fixture(scope="session")
def with_nats() -> Iterator[Latchkey]:
    """A server publishing on NATS (LATCHKEY_TEST_NATS_URL) to a stream and prefix of its own."""
    url = os.environ.get("LATCHKEY_TEST_NATS_URL")
    if not url:
        pytest.skip("LATCHKEY_TEST_NATS_URL is not set (scripts/test sets it)")
    run = uuid.uuid4().hex[:12]
    yield from start(
        {
            "LATCHKEY_NATS_URL": url,
            "LATCHKEY_NATS_STREAM": f"LK_PYCLIENT_{run}",
            "LATCHKEY_NATS_SUBJECT_PREFIX": f"lkpyclient.{run}",
        }
    )


def certificates(directory: Path) -> Dict[str, str]:
    """A CA of the test's own (openssl), a server certificate for 127.0.0.1, and client
    certificates naming Latchkey roles by SAN URI: an admin and acme's reader."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    def key(name: str) -> None:
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key")

    key("ca")
    openssl("req", "-x509", "-new", "-key", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=latchkey-test-ca")
    for name, san in [
        ("server", "IP:127.0.0.1"),
        ("admin", "URI:urn:latchkey:all:admin"),
        ("reader", "URI:urn:latchkey:tenant:acme:reader"),
    ]:
        key(name)
        openssl("req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        (directory / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
        )
    return {name: str(directory / name) for name in ["ca.pem", "server.pem", "server.key", "admin.pem", "admin.key", "reader.pem", "reader.key"]}


@pytest.fixture(scope="session")
def mutual_tls() -> Iterator[Latchkey]:
    """A server on TLS that names every caller by its client certificate (LATCHKEY_AUTH=mtls)."""
    with tempfile.TemporaryDirectory(prefix="latchkey-py-tls-") as tls:
        files = certificates(Path(tls))
        settings = {
            "LATCHKEY_TLS_CERT": files["server.pem"],
            "LATCHKEY_TLS_KEY": files["server.key"],
            "LATCHKEY_TLS_CLIENT_CA": files["ca.pem"],
            "LATCHKEY_AUTH": "mtls",
        }
        for server in start(settings):
            # The set-up calls go as the admin certificate.
            server.channel.close()
            admin = grpc.ssl_channel_credentials(
                root_certificates=Path(files["ca.pem"]).read_bytes(),
                private_key=Path(files["admin.key"]).read_bytes(),
                certificate_chain=Path(files["admin.pem"]).read_bytes(),
            )
            server.channel = grpc.secure_channel(server.grpc_addr, admin)
            server.connections = connection_pb2_grpc.ConnectionServiceStub(server.channel)
            server.integrations = integration_pb2_grpc.IntegrationServiceStub(server.channel)
            server.url = f"https://{server.grpc_addr}"
            server.settings.update(files)
            yield server
