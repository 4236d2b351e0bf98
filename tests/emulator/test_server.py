"""The served emulator: real HTTP/1.1 on 127.0.0.1, keep-alive, many connections, faults."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from dsgit.emulator import Emulator, FaultSpec, ServedEmulator
from openapi_check import check_response

from .conftest import FakeClock, validated_client
from .helpers import entries_url, entry_url

pytestmark = pytest.mark.slow


@pytest.fixture
def served(emu: Emulator) -> Iterator[ServedEmulator]:
    # HTTP framing tests send raw requests without x-api-key (test_served_auth.py checks it)
    with emu.serve(host="127.0.0.1", port=0, require_api_key=False) as server:
        yield server


def test_serves_real_http_with_keep_alive(served: ServedEmulator) -> None:
    assert served.url.startswith("http://127.0.0.1:") and served.port > 0
    with validated_client(base_url=served.url) as client:
        created = client.post(entries_url("DATA/1"), params={"id": "user/1"}, json={"value": 1})
        assert created.status_code == 200
        assert created.headers["content-type"].startswith("application/json")
        assert int(created.headers["content-length"]) == len(created.content)
        for _ in range(5):
            assert client.get(entry_url("DATA/1", "user/1")).json()["value"] == 1
        raw = client.get("/cloud/v2/universes/1/data-stores/DATA/1/scopes/global/entries/user/1")
        assert raw.status_code == 200
        deleted = client.delete(entry_url("DATA/1", "user/1"))
        assert deleted.status_code == 200 and deleted.json() == {}
        v1_delete = client.post(
            "/datastores/v1/universes/1/standard-datastores/datastore/entries/entry",
            params={"datastoreName": "A", "entryKey": "k"},
            content=b"1",
        )
        assert v1_delete.status_code == 200
        gone = client.delete(
            "/datastores/v1/universes/1/standard-datastores/datastore/entries/entry",
            params={"datastoreName": "A", "entryKey": "k"},
        )
        assert gone.status_code == 204 and gone.content == b""


def test_one_connection_carries_many_requests(served: ServedEmulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
    try:
        for index in range(20):
            body = json.dumps({"value": index})
            connection.request(
                "PATCH",
                entry_url("S", "k") + "?allowMissing=true",
                body=body,
                headers={"content-type": "application/json"},
            )
            response = connection.getresponse()
            body = response.read()
            check_response(
                "PATCH", entry_url("S", "k"), response.status, body, dict(response.getheaders())
            )
            assert json.loads(body)["value"] == index
    finally:
        connection.close()


def test_chunked_request_bodies(served: ServedEmulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
    try:
        chunks = iter([b'{"value":', b' "chunked"}'])
        connection.request(
            "POST",
            entries_url("S") + "?id=c",
            body=chunks,
            headers={"content-type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        body = response.read()
        check_response("POST", entries_url("S"), response.status, body, dict(response.getheaders()))
        assert json.loads(body)["value"] == "chunked"
    finally:
        connection.close()


def test_dozens_of_concurrent_connections(served: ServedEmulator) -> None:
    failures: list[str] = []

    def worker(index: int) -> None:
        with validated_client(base_url=served.url) as client:
            for step in range(12):
                response = client.patch(
                    entry_url("S", f"w{index}"),
                    params={"allowMissing": "true"},
                    json={"value": step},
                )
                if response.status_code != 200:
                    failures.append(response.text)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with validated_client(base_url=served.url) as client:
        listed = client.get(entries_url("S"), params={"maxPageSize": 100}).json()
        assert len(listed["dataStoreEntries"]) == 24
        revisions = client.get(
            entry_url("S", "w7", suffix=":listRevisions"), params={"maxPageSize": 100}
        ).json()
        assert len(revisions["dataStoreEntries"]) == 12


def test_lost_answers_drop_the_connection_after_committing(
    emu: Emulator, served: ServedEmulator
) -> None:
    emu.faults = FaultSpec.parse("lost=1")
    with validated_client(base_url=served.url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(entries_url("S"), params={"id": "k"}, json={"value": 1})
        emu.faults = None
        assert client.get(entry_url("S", "k")).json()["value"] == 1


def test_timeouts_hold_the_connection(emu: Emulator, served: ServedEmulator) -> None:
    emu.faults = FaultSpec.parse("timeout=1,hang=5s")
    with (
        validated_client(base_url=served.url, timeout=0.3) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post(entries_url("S"), params={"id": "k"}, json={"value": 1})
    emu.faults = None
    with validated_client(base_url=served.url) as client:
        assert client.get(entry_url("S", "k")).status_code == 404


def test_stop_closes_idle_keep_alive_connections(clock: FakeClock) -> None:
    emulator = Emulator(clock=clock, versions="all")
    client = httpx.Client(timeout=5, headers={"x-api-key": "any"})
    with emulator.serve() as server:
        assert client.get(server.url + entries_url("S")).status_code == 200
    with pytest.raises(httpx.TransportError):
        client.get(server.url + entries_url("S"))
    client.close()
    emulator.close()


def test_unsupported_methods_and_malformed_requests_answer_json(served: ServedEmulator) -> None:
    with httpx.Client(base_url=served.url) as client:
        # Served like in process: a method a path does not serve is 404 in its API's model.
        options = client.request("OPTIONS", entries_url("S"))
        assert options.status_code == 404
        assert options.json()["code"] == "NOT_FOUND"
        assert options.headers["content-type"].startswith("application/json")
        head = client.head(entries_url("S"))
        assert head.status_code == 404 and head.content == b""
        assert client.get(entries_url("S")).status_code == 200  # the connection is still fine
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
    try:
        connection.putrequest("POST", entries_url("S") + "?id=x")
        connection.putheader("transfer-encoding", "chunked")
        connection.endheaders(b"zz\r\nnot hex\r\n")
        response = connection.getresponse()
        assert response.status == 400
        assert json.loads(response.read())["code"] == "INVALID_ARGUMENT"
    finally:
        connection.close()
