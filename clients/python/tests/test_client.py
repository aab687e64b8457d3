"""The client against a real Latchkey: what a worker sees."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

import latchkey
from latchkey.v1 import connection_pb2

from conftest import Latchkey


def test_a_token_is_served_from_the_cache_until_its_margin(server: Latchkey) -> None:
    connection_id = server.connect()
    with latchkey_client(server) as client:
        before = server.get_token_calls()
        first = client.get_token(connection_id, min_ttl=60)
        again = client.get_token(connection_id, min_ttl=120)
        assert again is first, "served from the cache"
        assert server.get_token_calls() == before + 1
        name, value = first.header
        assert name == "Authorization" and value == f"Bearer {first.access_token}"
        assert first.access_token not in repr(first), "repr never shows the token"
        # Once the cached token has less than a caller asks for, the server is asked (and
        # refreshes: its token has no more left). The dev provider's tokens last an hour.
        deadline = time.monotonic() + 10
        while first.seconds_left() > 3598:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        more = client.get_token(connection_id, min_ttl=3599)
        assert server.get_token_calls() == before + 2
        assert more.access_token != first.access_token
        assert more.seconds_left() >= first.seconds_left()


def test_fifty_threads_asking_at_once_cost_one_call(server: Latchkey) -> None:
    connection_id = server.connect()
    with latchkey_client(server) as client:
        before = server.get_token_calls()
        start = threading.Barrier(50)

        def ask(_: int) -> str:
            start.wait()
            return client.get_token(connection_id).access_token

        with ThreadPoolExecutor(max_workers=50) as pool:
            tokens = set(pool.map(ask, range(50)))
        assert len(tokens) == 1
        assert server.get_token_calls() == before + 1


def test_fifty_tasks_asking_at_once_cost_one_call(server: Latchkey) -> None:
    connection_id = server.connect()
    before = server.get_token_calls()

    async def run() -> set:
        async with aio_client(server) as client:
            tokens = await asyncio.gather(*(client.get_token(connection_id) for _ in range(50)))
            return {t.access_token for t in tokens}

    assert len(asyncio.run(run())) == 1
    assert server.get_token_calls() == before + 1


def test_a_revoked_connection_is_a_typed_error_with_its_id_and_not_retried(
    server: Latchkey, caplog: pytest.LogCaptureFixture
) -> None:
    connection_id = server.connect()
    server.revoke(connection_id)
    caplog.set_level(logging.INFO, logger="latchkey")
    with latchkey_client(server) as client:
        before = server.get_token_calls()
        with pytest.raises(latchkey.errors.Revoked) as refused:
            client.get_token(connection_id)
    assert refused.value.connection_id == connection_id
    assert refused.value.reason == "REVOKED"
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert not refused.value.retryable
    assert server.get_token_calls() == before + 1, "asked once"
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]


def test_a_grant_the_provider_refuses_is_reauthorization_required(server: Latchkey) -> None:
    connection_id = server.connect_with_a_dead_refresh_token()
    with latchkey_client(server) as client:
        with pytest.raises(latchkey.errors.ReauthorizationRequired) as refused:
            client.get_token(connection_id)
    assert refused.value.connection_id == connection_id
    assert refused.value.metadata.get("error") == "invalid_grant"

    async def asynchronously() -> None:
        async with aio_client(server) as client:
            with pytest.raises(latchkey.errors.ReauthorizationRequired):
                await client.get_token(connection_id)

    asyncio.run(asynchronously())


def test_rate_limited_calls_are_retried_after_the_servers_delay(
    limited: Latchkey, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [limited.connect() for _ in range(4)]
    caplog.set_level(logging.INFO, logger="latchkey")
    with latchkey_client(limited) as client:
        started = time.monotonic()
        tokens = [client.get_token(i) for i in ids]
    assert len({t.access_token for t in tokens}) == 4
    retries = [r.getMessage() for r in caplog.records if "retrying GetToken" in r.getMessage()]
    assert retries, "four calls at two a second were refused and retried"
    assert all("RESOURCE_EXHAUSTED RATE_LIMITED" in r for r in retries), retries
    assert time.monotonic() - started >= 0.4, "the retries waited"


def test_a_retry_stops_at_the_callers_deadline(limited: Latchkey) -> None:
    ids = [limited.connect() for _ in range(6)]
    with latchkey_client(limited, timeout=0.3) as client:
        with pytest.raises(latchkey.errors.RateLimited) as refused:
            for i in ids:
                client.get_token(i)
    assert refused.value.retry_after is not None and refused.value.retry_after > 0


def test_a_bad_id_is_invalid_argument_naming_the_field(server: Latchkey) -> None:
    with latchkey_client(server) as client:
        with pytest.raises(latchkey.errors.InvalidArgument) as refused:
            client.get_token("not-a-uuid")
    assert "connection_id" in refused.value.message


def test_a_refresh_heard_on_nats_drops_the_cached_token(with_nats: Latchkey) -> None:
    pytest.importorskip("nats")
    import latchkey.events

    connection_id = with_nats.connect()
    with latchkey_client(with_nats) as client:
        listener = latchkey.events.follow_in_thread(
            client, prefix=with_nats.settings["LATCHKEY_NATS_SUBJECT_PREFIX"]
        )
        try:
            first = client.get_token(connection_id)
            with_nats.connections.RefreshToken(
                connection_pb2.RefreshTokenRequest(connection_id=connection_id), timeout=10
            )
            deadline = time.monotonic() + 10
            while listener.heard == 0:
                assert time.monotonic() < deadline, "the refreshed event never came"
                time.sleep(0.05)
            after = client.get_token(connection_id)
        finally:
            listener.close()
    assert after.access_token != first.access_token, "the refreshed token, not the cached one"
    assert after.version > first.version


def latchkey_client(server: Latchkey, timeout: float = 30.0) -> latchkey.Client:
    return latchkey.Client(server.url, timeout=timeout)


def aio_client(server: Latchkey) -> latchkey.AsyncClient:
    return latchkey.AsyncClient(server.url)


def test_the_api_key_comes_from_the_clis_settings(
    keyed: Latchkey, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    connection_id = keyed.connect()
    monkeypatch.delenv("LATCHKEY_API_KEY", raising=False)
    monkeypatch.delenv("LATCHKEY_API_KEY_FILE", raising=False)
    with latchkey.Client(keyed.url) as client:
        with pytest.raises(latchkey.Unauthenticated):
            client.get_token(connection_id)
    monkeypatch.setenv("LATCHKEY_SERVER", keyed.url)
    monkeypatch.setenv("LATCHKEY_API_KEY", keyed.api_key)
    with latchkey.Client() as client:
        assert client.get_token(connection_id).access_token
    monkeypatch.delenv("LATCHKEY_API_KEY")
    key_file = tmp_path / "key"
    key_file.write_text(keyed.api_key + "\n")
    monkeypatch.setenv("LATCHKEY_API_KEY_FILE", str(key_file))
    with latchkey.Client() as client:
        assert client.get_token(connection_id).access_token


def test_mutual_tls_comes_from_the_clis_settings(
    mutual_tls: Latchkey, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = mutual_tls.settings
    connection_id = mutual_tls.connect()
    for name in ["LATCHKEY_API_KEY", "LATCHKEY_API_KEY_FILE"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LATCHKEY_SERVER", mutual_tls.url)
    monkeypatch.setenv("LATCHKEY_SERVER_CA", files["ca.pem"])
    # acme's reader certificate reads acme's token, sync and async.
    monkeypatch.setenv("LATCHKEY_CLIENT_CERT", files["reader.pem"])
    monkeypatch.setenv("LATCHKEY_CLIENT_KEY", files["reader.key"])
    with latchkey.Client() as client:
        token = client.get_token(connection_id)
        assert token.access_token.startswith("dev-at-")

    async def read() -> str:
        async with latchkey.AsyncClient() as client:
            return (await client.get_token(connection_id)).access_token

    assert asyncio.run(read()) == token.access_token
    # Without a client certificate the server takes no call: the handshake fails.
    monkeypatch.delenv("LATCHKEY_CLIENT_CERT")
    monkeypatch.delenv("LATCHKEY_CLIENT_KEY")
    with latchkey.Client(timeout=5) as client:
        with pytest.raises(latchkey.Unavailable):
            client.get_token(connection_id)
