"""A canary API key must never show in an error, a repr, a traceback or a log line."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest
import respx

from dsgit.config import Budget, Environment
from dsgit.emulator import Emulator
from dsgit.errors import AuthError, ConfigError, DsgitError, RemoteError, TransportError
from dsgit.model.entry import EntryData
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.connect import open_client
from dsgit.remote.retry import RetryPolicy
from dsgit.remote.testing import emulated_client

CANARY = "CANARY-7f3e9b2c-a-key-that-must-never-leak"
ALL_SCOPES = frozenset(
    {
        "universe-datastores.objects:read",
        "universe-datastores.objects:list",
        "universe-datastores.objects:create",
        "universe-datastores.objects:update",
        "universe-datastores.objects:delete",
    }
)


def leaks(error: BaseException) -> bool:
    text = "".join(traceback.format_exception(error)) + repr(error) + str(error)
    return CANARY in text


def test_good_key_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    emulator = Emulator(db=":memory:", api_keys={CANARY: ALL_SCOPES})
    with caplog.at_level(logging.DEBUG), emulated_client(emulator, api_key=CANARY) as client:
        client.create_entry("S", "k", EntryData(1))
        assert client.get_entry("S", "k") is not None
        assert CANARY not in repr(client)
        assert CANARY not in repr(client._session) + repr(client._session._http.auth)
    assert caplog.records  # the client and httpx did log
    assert all(CANARY not in record.getMessage() for record in caplog.records)


def test_a_rejected_key_is_not_in_the_error() -> None:
    emulator = Emulator(db=":memory:", api_keys={"the-right-key": ALL_SCOPES})
    with emulated_client(emulator, api_key=CANARY) as client, pytest.raises(AuthError) as caught:
        client.get_entry("S", "k")
    assert caught.value.status == 401
    assert not leaks(caught.value)


def test_a_key_without_the_scope_gets_403() -> None:
    emulator = Emulator(
        db=":memory:", api_keys={CANARY: frozenset({"universe-datastores.objects:read"})}
    )
    with emulated_client(emulator, api_key=CANARY) as client:
        assert client.get_entry("S", "k") is None
        with pytest.raises(AuthError) as caught:
            client.create_entry("S", "k", EntryData(1))
    assert caught.value.status == 403
    assert not leaks(caught.value)


def test_a_server_echoing_the_key_is_scrubbed() -> None:
    router = respx.Router()
    router.get(url__regex=r".*").mock(
        return_value=httpx.Response(
            400,
            json={"code": "INVALID_ARGUMENT", "message": f"bad key {CANARY} sent"},
            headers={"x-request-id": f"id-{CANARY}"},
        )
    )
    client = OpenCloudClient(
        1,
        base_url="https://apis.test",
        api_key=CANARY,
        transport=httpx.MockTransport(router.handler),
    )
    with client, pytest.raises(RemoteError) as caught:
        client.get_entry("S", "k")
    assert "bad key *** sent" in str(caught.value)
    assert not leaks(caught.value)


def test_transport_failures_do_not_carry_the_key() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-api-key"] == CANARY  # it is sent, as a header only
        raise httpx.ConnectError("refused", request=request)

    client = OpenCloudClient(
        1,
        base_url="https://apis.test",
        api_key=CANARY,
        transport=httpx.MockTransport(refuse),
        retry=RetryPolicy(attempts=2, initial=0.0, max_wait=0.0, jitter=0.0),
        sleep=lambda _: None,
    )
    with client, pytest.raises(TransportError) as caught:
        client.get_entry("S", "k")
    assert not leaks(caught.value)


def test_open_client_reads_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-api-key", ""))
        return httpx.Response(200, json={"dataStores": []})

    env = Environment("prod", 9, url="https://apis.test", api_key_env="DSGIT_CANARY_KEY")
    monkeypatch.setenv("DSGIT_CANARY_KEY", CANARY)
    with open_client(env, transport=httpx.MockTransport(handle)) as client:
        assert list(client.list_data_stores()) == []
        assert client.budget.enabled
    assert seen == [CANARY]


@pytest.mark.parametrize("value", [None, ""])
def test_open_client_refuses_an_empty_key_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    env = Environment("prod", 9, api_key_env="DSGIT_CANARY_KEY", budget=Budget(10, 0.5))
    if value is None:
        monkeypatch.delenv("DSGIT_CANARY_KEY", raising=False)
    else:
        monkeypatch.setenv("DSGIT_CANARY_KEY", value)
    with pytest.raises(DsgitError, match=r"\$DSGIT_CANARY_KEY, which is unset or empty"):
        open_client(env)


def test_open_client_refuses_roblox_without_a_key_variable() -> None:
    with pytest.raises(DsgitError, match="sets no `api_key_env`"):
        open_client(Environment("prod", 9, url="https://apis.roblox.com"))


def test_a_served_emulator_needs_a_key_too() -> None:
    """Every Open Cloud request needs x-api-key, a served emulator's too (any key passes there):
    an environment without `api_key_env` is refused before any request."""
    env = Environment("served", 9, url="http://127.0.0.1:1")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"dataStores": []}))
    with pytest.raises(ConfigError, match="sets no `api_key_env`"):
        open_client(env, transport=transport)
