"""The HTTP adapter: a threaded HTTP/1.1 server with keep-alive on a background thread.

Each connection gets its own thread (injected latency sleeps there), each response is written
with one ``sendall`` and Nagle off, so keep-alive clients see no delayed-ACK stalls.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import sys
import threading
import zlib
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from dsgit.emulator.api_error import STATUS_CODES
from dsgit.emulator.wire import Disposition, Request, Response, json_response

__all__ = ["ServedEmulator"]


class _Handles(Protocol):
    def handle(self, request: Request) -> Response: ...


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], emulator: _Handles) -> None:
        self.emulator = emulator
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        """A client that hangs up mid-answer is normal under load: no traceback for it."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections close after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a served emulator under load must not spend its time logging."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests and unsupported methods also answer JSON (the v2 error model)."""
        fallback = "INVALID_ARGUMENT" if code < 500 else "INTERNAL"
        payload = {
            "code": STATUS_CODES.get(code, fallback),
            "message": message or _phrase(code),
            "details": [],
        }
        self.close_connection = True
        self._write(json_response(code, payload))

    def _write(self, answer: Response) -> None:
        lines = [f"HTTP/1.1 {answer.status} {_phrase(answer.status)}"]
        lines.extend(f"{name}: {value}" for name, value in answer.headers)
        lines.append(f"content-length: {len(answer.body)}")
        if self.close_connection:
            lines.append("connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # A response to HEAD has headers only (content-length still tells the body's size).
        self.wfile.write(head if self.command == "HEAD" else head + answer.body)

    def _body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        try:
            body = _decoded(self._body(), self.headers.get("content-encoding", ""))
        except (ValueError, OSError, EOFError, zlib.error) as exc:
            self.send_error(400, f"malformed request body: {exc}")
            return
        headers = {name.lower(): _header_text(value) for name, value in self.headers.items()}
        target = _header_text(self.path)  # raw UTF-8 in a path is read as UTF-8 too
        answer = self.server.emulator.handle(Request(self.command, target, headers, body))
        if answer.disposition is Disposition.DROP:
            self.close_connection = True
            return
        if answer.disposition is Disposition.TIMEOUT:
            self.server.stopping.wait(answer.hold)
            self.close_connection = True
            return
        self._write(answer)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


def _header_text(value: str) -> str:
    """http.server reads the request line and headers as Latin-1; clients such as Node's fetch
    send ``roblox-entry-attributes`` JSON as raw UTF-8, so valid UTF-8 is read as UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _decoded(body: bytes, encoding: str) -> bytes:
    """A request body sent with ``content-encoding: gzip`` or ``deflate``, inflated."""
    coding = encoding.strip().lower()
    if not body or coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        return gzip.decompress(body)
    if coding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate, as some clients send
    raise ValueError(f"unsupported content-encoding {encoding!r}")


class ServedEmulator:
    """A running HTTP server for an emulator; ``url`` is where it listens."""

    def __init__(self, emulator: _Handles, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), emulator)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="dsgit-emulator",
            daemon=True,
        )
        address = self._server.server_address
        self.host = str(address[0])
        self.port = int(address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close open keep-alive connections, release the port."""
        server = self._server
        server.stopping.set()
        server.shutdown()
        with server.connections_lock:
            open_connections = list(server.connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        self._thread.join()
