"""The served emulator and the HTTP habits of other clients: Node's fetch sending raw UTF-8
header values, compressed bodies, ``Expect: 100-continue``, HTTP/1.0, absolute-form targets."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import zlib
from collections.abc import Callable, Iterator

import pytest

from dsgit.emulator import Emulator, ServedEmulator

from .helpers import V1, entries_url, entry_url

pytestmark = pytest.mark.slow

ENTRY = f"{V1}/datastore/entries/entry"


@pytest.fixture
def served(emu: Emulator) -> Iterator[ServedEmulator]:
    # HTTP framing tests send raw requests without x-api-key (test_served_auth.py checks it)
    with emu.serve(host="127.0.0.1", port=0, require_api_key=False) as server:
        yield server


def _request(
    served: ServedEmulator,
    method: str,
    target: str,
    body: bytes = b"",
    headers: dict[str, str | bytes] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.putheader("content-length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _raw(served: ServedEmulator, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_utf8_header_values_are_read_as_utf8(served: ServedEmulator) -> None:
    attributes = json.dumps({"owner": "ünï-ключ"}, ensure_ascii=False).encode()
    status, _, _ = _request(
        served,
        "POST",
        f"{ENTRY}?datastoreName=S&entryKey=k",
        b"1",
        {"roblox-entry-attributes": attributes, "content-type": "application/json"},
    )
    assert status == 200
    status, headers, body = _request(served, "GET", f"{ENTRY}?datastoreName=S&entryKey=k")
    assert status == 200 and body == b"1"
    assert json.loads(headers["roblox-entry-attributes"]) == {"owner": "ünï-ключ"}
    # a Latin-1 value that is not UTF-8 still arrives as Latin-1 (then fails as JSON: 400)
    status, _, body = _request(
        served,
        "POST",
        f"{ENTRY}?datastoreName=S&entryKey=k2",
        b"1",
        {"roblox-entry-attributes": b"\xe9"},
    )
    assert status == 400 and json.loads(body)["error"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("coding", "pack"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)),
    ],
)
def test_compressed_request_bodies(
    served: ServedEmulator, coding: str, pack: Callable[[bytes], bytes]
) -> None:
    body = pack(json.dumps({"value": {"packed": coding}}).encode())
    status, _, answer = _request(
        served,
        "POST",
        entries_url("S") + "?id=k",
        body,
        {"content-type": "application/json", "content-encoding": coding},
    )
    assert status == 200 and json.loads(answer)["value"] == {"packed": coding}


def test_broken_or_unknown_content_encoding_is_400(served: ServedEmulator) -> None:
    for coding, body in (("gzip", b"not gzip"), ("br", b"{}")):
        status, headers, answer = _request(
            served, "POST", entries_url("S") + "?id=k", body, {"content-encoding": coding}
        )
        assert status == 400, coding
        assert headers["content-type"].startswith("application/json")
        assert json.loads(answer)["code"] == "INVALID_ARGUMENT"


def test_expect_100_continue(served: ServedEmulator) -> None:
    body = json.dumps({"value": "x" * 5000}).encode()
    head = (
        f"POST {entries_url('S')}?id=big HTTP/1.1\r\nHost: emulator\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Expect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        sock.sendall(head)
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100")
        sock.sendall(body)
        chunks = [interim.split(b"\r\n\r\n", 1)[1]]
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    assert answer.startswith(b"HTTP/1.1 200")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["value"] == "x" * 5000


def test_http_1_0_and_absolute_form_targets(served: ServedEmulator) -> None:
    _request(served, "POST", entries_url("S") + "?id=k", b'{"value": 3}')
    answer = _raw(served, f"GET {entry_url('S', 'k')} HTTP/1.0\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and json.loads(body)["value"] == 3
    absolute = f"GET {served.url}{entry_url('S', 'k')} HTTP/1.1\r\nHost: x\r\n"
    answer = _raw(served, (absolute + "Connection: close\r\n\r\n").encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and json.loads(body)["value"] == 3


def test_raw_utf8_in_the_request_target(served: ServedEmulator) -> None:
    _request(served, "POST", entries_url("Ünï") + "?id=%C3%BC", b'{"value": 5}')
    target = "/cloud/v2/universes/1/data-stores/Ünï/scopes/global/entries/ü".encode()
    answer = _raw(served, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and json.loads(body)["id"] == "ü"
