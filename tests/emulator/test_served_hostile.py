"""The served emulator under hostile connections: raw sockets, so nothing is normalised away."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from dsgit.emulator import Emulator
from dsgit.emulator.server import MAX_BODY_BYTES, ServedEmulator

from .helpers import V1, entries_url, ordered_url

V1_ENTRY = f"{V1}/datastore/entries/entry?datastoreName=S&entryKey=k"


@pytest.fixture
def served(emu: Emulator) -> Iterator[ServedEmulator]:
    # HTTP framing tests send raw requests without x-api-key (test_served_auth.py checks it)
    with emu.serve(host="127.0.0.1", port=0, require_api_key=False) as server:
        yield server


def _connect(served: ServedEmulator) -> socket.socket:
    return socket.create_connection((served.host, served.port), timeout=10)


def _read_all(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def _exchange(served: ServedEmulator, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read until the server closes; the first response's parts."""
    with _connect(served) as sock:
        sock.sendall(data)
        raw = _read_all(sock)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    pairs = (line.split(": ", 1) for line in lines[1:])
    headers = {name.lower(): value for name, value in pairs}
    return int(lines[0].split()[1]), headers, body[: int(headers["content-length"])]


def _request(method: str, target: str, *headers: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "host: emulator", "connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize(
    ("method", "target", "field"),
    [
        ("TRACE", entries_url("S"), "code"),
        ("OPTIONS", V1_ENTRY, "error"),
        ("FOO", ordered_url("O", v1=True), "code"),
        ("CONNECT", "127.0.0.1:80", "code"),
    ],
)
def test_any_method_answers_404_json_in_the_paths_model(
    served: ServedEmulator, method: str, target: str, field: str
) -> None:
    status, headers, body = _exchange(served, _request(method, target))
    assert status == 404 and headers["content-type"].startswith("application/json")
    assert json.loads(body)[field] == "NOT_FOUND"


def test_a_huge_declared_body_is_refused_at_once_not_read(served: ServedEmulator) -> None:
    declared = _request("POST", V1_ENTRY, "content-length: 1000000000000", body=b"1")
    status, _, body = _exchange(served, declared)
    assert status == 400
    assert json.loads(body)["errorDetails"][0]["datastoreErrorCode"] == "ContentTooBig"


def test_expect_continue_with_a_huge_body_is_refused_before_it_is_sent(
    served: ServedEmulator,
) -> None:
    data = _request(
        "POST",
        entries_url("S") + "?id=k",
        f"content-length: {MAX_BODY_BYTES + 1}",
        "expect: 100-continue",
    )
    status, _, body = _exchange(served, data)
    assert status == 400 and json.loads(body)["code"] == "INVALID_ARGUMENT"


def test_a_body_over_the_limit_is_answered_while_the_client_still_sends(
    served: ServedEmulator,
) -> None:
    size = MAX_BODY_BYTES + 1
    with _connect(served) as sock:
        sock.sendall(_request("POST", entries_url("S") + "?id=k", f"content-length: {size}"))
        sent = 0
        chunk = b"x" * 1_048_576
        try:
            while sent < size:
                sent += sock.send(chunk[: size - sent])
        except OSError:
            pass  # the server may stop reading once it has answered
        raw = _read_all(sock)
    assert raw.startswith(b"HTTP/1.1 400 ")
    assert b"INVALID_ARGUMENT" in raw


def test_a_compressed_bomb_is_refused(served: ServedEmulator) -> None:
    bomb = gzip.compress(b'{"value": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}')
    data = _request(
        "POST",
        entries_url("S") + "?id=k",
        "content-encoding: gzip",
        f"content-length: {len(bomb)}",
        body=bomb,
    )
    status, _, body = _exchange(served, data)
    assert status == 400 and "inflated" in json.loads(body)["message"]


@pytest.mark.parametrize(
    "framing",
    [
        ["transfer-encoding: chunked"],  # body: a chunk size of 2**48
        ["content-length: 50"],  # body: 12 bytes, then the client stops sending
        ["content-length: -5"],
    ],
)
def test_bad_body_framing_answers_400(served: ServedEmulator, framing: list[str]) -> None:
    body = b"FFFFFFFFFFFF\r\nab" if "chunked" in framing[0] else b'{"value": 1}'
    with _connect(served) as sock:
        sock.sendall(_request("POST", entries_url("S") + "?id=k", *framing, body=body))
        sock.shutdown(socket.SHUT_WR)
        raw = _read_all(sock)
    assert raw.startswith(b"HTTP/1.1 400 ")
    assert b'"code":"INVALID_ARGUMENT"' in raw


def test_oversized_headers_answer_in_the_paths_model(served: ServedEmulator) -> None:
    data = _request("POST", V1_ENTRY, "roblox-entry-attributes: " + "x" * 70_000, body=b"1")
    status, _, body = _exchange(served, data)
    assert status == 431 and json.loads(body)["error"] == "INVALID_ARGUMENT"
    status, _, body = _exchange(served, _request("GET", entries_url("S") + "/" + "k" * 70_000))
    assert status == 414 and json.loads(body)["code"] == "INVALID_ARGUMENT"


def test_slow_clients_do_not_block_others(served: ServedEmulator) -> None:
    slow = [_connect(served) for _ in range(8)]
    try:
        for sock in slow:
            sock.sendall(b"POST " + entries_url("S").encode() + b"?id=s HTTP/1.1\r\nhost: e\r\n")
        started = time.monotonic()
        status, _, _ = _exchange(served, _request("GET", entries_url("S")))
        assert status == 200 and time.monotonic() - started < 5
    finally:
        for sock in slow:
            sock.close()


def test_pipelined_requests_are_answered_in_order(served: ServedEmulator) -> None:
    body = b'{"value": 1}'
    data = b"".join(
        (
            f"POST {entries_url('S')}?id=p{i} HTTP/1.1\r\nhost: e\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for i in range(4)
    )
    data += _request("GET", entries_url("S"))
    with _connect(served) as sock:
        sock.sendall(data)
        raw = _read_all(sock)
    assert raw.count(b"HTTP/1.1 200 OK") == 5
    for i in range(4):
        assert f'"id":"p{i}"'.encode() in raw


def test_many_concurrent_connections_are_all_answered(served: ServedEmulator) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        status, _, _ = _exchange(served, _request("GET", entries_url("S")))
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=one) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 100


def test_raw_crlf_in_header_values_cannot_reach_response_headers(served: ServedEmulator) -> None:
    attributes = json.dumps({"a": "x\r\nInjected: 1", "b\u2028": "\u00e9\U0001f600"})
    data = _request(
        "POST", V1_ENTRY, f"roblox-entry-attributes: {attributes}", "content-length: 1", body=b"1"
    )
    status, _, _ = _exchange(served, data)
    assert status == 200
    status, headers, _ = _exchange(served, _request("GET", V1_ENTRY))
    assert status == 200 and "injected" not in headers
    assert json.loads(headers["roblox-entry-attributes"]) == json.loads(attributes)


def test_an_unreadable_request_line_is_not_answered_in_the_previous_requests_model(
    served: ServedEmulator,
) -> None:
    first = f"GET {V1_ENTRY} HTTP/1.1\r\nhost: e\r\n\r\n".encode()
    second = _request("GET", "/datastores/" + "k" * 70_000)
    with _connect(served) as sock:
        sock.sendall(first + second)
        raw = _read_all(sock)
    assert raw.startswith(b"HTTP/1.1 404 ")  # the v1 entry does not exist
    last = raw[raw.rindex(b"HTTP/1.1 ") :]
    assert last.startswith(b"HTTP/1.1 414 ")
    assert json.loads(last.partition(b"\r\n\r\n")[2])["code"] == "INVALID_ARGUMENT"
