"""The network transport (remote/transport.py) against a real socket on 127.0.0.1."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest

from dsgit.remote.transport import PooledTransport, default_transport, proxy_configured


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Each client connection by its source port: id() of a closed socket object can be
    # reused by the next one, which made two connections look like one.
    connections: ClassVar[set[int]] = set()

    def log_message(self, format: str, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        _Handler.connections.add(self.client_address[1])
        if self.path == "/drop":
            self.close_connection = True
            return
        if self.path == "/slow":
            threading.Event().wait(1.0)
        body = b'{"ok": true}'
        if self.path == "/gzip":
            body = gzip.compress(body)
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        if self.path == "/gzip":
            self.send_header("content-encoding", "gzip")
        if self.path == "/close":
            self.send_header("connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        self.send_response(201)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.connections = set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, transport=PooledTransport(), timeout=5.0)


def test_requests_reuse_one_kept_connection(server: str) -> None:
    with _client(server) as client:
        for _ in range(5):
            response = client.get("/x")
            assert response.status_code == 200 and response.json() == {"ok": True}
        posted = client.post("/echo", content=b"hello")
        assert posted.status_code == 201 and posted.content == b"hello"
    assert len(_Handler.connections) == 1


def test_bodies_are_decoded_and_a_closing_answer_drops_its_connection(server: str) -> None:
    with _client(server) as client:
        assert client.get("/gzip").json() == {"ok": True}
        assert client.get("/close").json() == {"ok": True}
        assert client.get("/x").json() == {"ok": True}
    assert len(_Handler.connections) == 2  # a new one after "connection: close"


def test_an_expired_idle_connection_is_not_reused(server: str) -> None:
    now = [0.0]
    client = httpx.Client(
        base_url=server, transport=PooledTransport(keepalive_expiry=5.0, clock=lambda: now[0])
    )
    with client:
        client.get("/x")
        now[0] = 6.0
        client.get("/x")
    assert len(_Handler.connections) == 2


def test_a_server_that_closes_without_answering_is_a_protocol_error(server: str) -> None:
    with _client(server) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/drop")
        assert client.get("/x").status_code == 200  # the pool goes on


def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with _client(f"http://127.0.0.1:{port}") as client, pytest.raises(httpx.ConnectError):
        client.get("/x")


def test_a_slow_answer_is_a_read_timeout(server: str) -> None:
    client = httpx.Client(base_url=server, transport=PooledTransport(), timeout=0.2)
    with client, pytest.raises(httpx.ReadTimeout):
        client.get("/slow")


def test_an_illegal_header_value_is_a_local_error_that_does_not_quote_it(server: str) -> None:
    with _client(server) as client, pytest.raises(httpx.LocalProtocolError) as caught:
        client.get("/x", headers={"x-api-key": "canary-secret\r\nx: y"})
    assert "canary" not in str(caught.value)


def test_a_full_pool_waits_then_times_out(server: str) -> None:
    transport = PooledTransport(max_connections=1)
    holder = httpx.Client(base_url=server, transport=transport, timeout=5.0)
    started = threading.Event()

    def slow() -> None:
        started.set()
        holder.get("/slow")

    thread = threading.Thread(target=slow)
    thread.start()
    started.wait()
    threading.Event().wait(0.2)
    waiting = httpx.Client(
        base_url=server, transport=transport, timeout=httpx.Timeout(5.0, pool=0.1)
    )
    with pytest.raises(httpx.PoolTimeout):
        waiting.get("/x")
    thread.join()
    assert waiting.get("/x").status_code == 200  # the connection came back
    holder.close()


def test_other_schemes_are_refused() -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        PooledTransport().handle_request(httpx.Request("GET", "ftp://example.test/x"))


def test_a_configured_proxy_keeps_httpx_own_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert not proxy_configured()
    assert isinstance(default_transport(connections=4), PooledTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    assert proxy_configured() and default_transport(connections=4) is None
