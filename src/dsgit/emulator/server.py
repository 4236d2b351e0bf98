"""The HTTP adapter: a threaded HTTP/1.1 server with keep-alive on a background thread.

Each connection gets its own thread (injected latency sleeps there), each response is written
with one ``sendall`` and Nagle off, so keep-alive clients see no delayed-ACK stalls.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import zlib
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from dsgit.emulator import routes
from dsgit.emulator.api_error import ApiError, GatewayError, render
from dsgit.emulator.auth import MISSING_KEY, api_key_of
from dsgit.emulator.wire import Disposition, Request, Response

__all__ = ["MAX_BODY_BYTES", "ServedEmulator"]

MAX_BODY_BYTES = 64 * 1024 * 1024
"""The largest request body read, also once inflated: far above any valid write (a 4 MB value
even with every character escaped), low enough that a hostile length cannot exhaust memory."""

_LINGER_BYTES = 2 * MAX_BODY_BYTES
_LINGER_SECONDS = 5.0


class _BodyTooLarge(Exception):
    """The request body is over :data:`MAX_BODY_BYTES`."""


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

    def __init__(
        self, address: tuple[str, int], emulator: _Handles, require_api_key: bool = True
    ) -> None:
        self.emulator = emulator
        self.require_api_key = require_api_key
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

    def handle_one_request(self) -> None:
        self.path = ""  # an error before the request line is read must not name the last path
        super().handle_one_request()

    def __getattr__(self, name: str) -> Any:
        """Every method reaches the emulator (``do_TRACE``, ``do_OPTIONS``, ``do_FOO``, ...), which
        answers one it does not serve in the error model of the API the path points into."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests (a bad request line, too long a URL or header) also answer JSON,
        in the error model of the API the path points into (v2 when it cannot be told)."""
        path = getattr(self, "path", "") or ""
        family = routes.family_of(Request("GET", _header_text(path)).path if path else "/")
        self.close_connection = True
        self._write(render(family, ApiError(code, message or _phrase(code))))

    def handle_expect_100(self) -> bool:
        """A body too large to read is refused before the client sends it."""
        try:
            self._declared_length()
        except _BodyTooLarge as error:
            self._refuse_body(error)
            return False
        except ValueError:
            pass  # answered 400 by _serve
        return super().handle_expect_100()

    def _write(self, answer: Response) -> None:
        lines = [f"HTTP/1.1 {answer.status} {_phrase(answer.status)}"]
        lines.extend(f"{name}: {value}" for name, value in answer.headers)
        lines.append(f"content-length: {len(answer.body)}")
        if self.close_connection:
            lines.append("connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # A response to HEAD has headers only (content-length still tells the body's size).
        self.wfile.write(head if self.command == "HEAD" else head + answer.body)

    def _declared_length(self) -> int:
        """``content-length`` (0 when absent); ``ValueError`` if it is not a number."""
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            return 0
        text = (self.headers.get("content-length") or "0").strip()
        if not text.isascii() or not text.isdigit():
            raise ValueError(f"content-length {text[:40]!r} is not a non-negative integer")
        if len(text) > 12 or int(text) > MAX_BODY_BYTES:
            raise _BodyTooLarge(f"the request body is over {MAX_BODY_BYTES} bytes")
        return int(text)

    def _body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024).split(b";")[0].strip()
                if len(line) > 12:
                    raise _BodyTooLarge(f"the request body is over {MAX_BODY_BYTES} bytes")
                size = int(line or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    raise _BodyTooLarge(f"the request body is over {MAX_BODY_BYTES} bytes")
                chunk = self.rfile.read(size)
                if len(chunk) < size:
                    raise EOFError("the chunked body ended early")
                chunks.append(chunk)
                self.rfile.readline(1024)
        length = self._declared_length()
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            raise EOFError("the body ended before content-length bytes")
        return body

    def _refuse_body(self, error: _BodyTooLarge) -> None:
        """Answer 400 (``ContentTooBig`` on v1) and close; the unread body is drained for a few
        seconds first, so the client is not reset while still sending and sees the answer."""
        family = routes.family_of(Request("GET", _header_text(self.path)).path)
        self.close_connection = True
        self._write(render(family, ApiError(400, str(error), "ContentTooBig")))
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_LINGER_SECONDS)
            drained = 0
            while drained < _LINGER_BYTES:
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)

    def _serve(self) -> None:
        try:
            body = _decoded(self._body(), self.headers.get("content-encoding", ""))
        except _BodyTooLarge as error:
            self._refuse_body(error)
            return
        except (ValueError, OSError, EOFError, zlib.error) as exc:
            self.send_error(400, f"malformed request body: {exc}")
            return
        headers = {name.lower(): _header_text(value) for name, value in self.headers.items()}
        target = _header_text(self.path)  # raw UTF-8 in a path is read as UTF-8 too
        request = Request(self.command, target, headers, body)
        if self.server.require_api_key and api_key_of(request) is None:
            # Roblox's gateway refuses a request without a key before anything else, even where
            # any key would do (the emulator without configured keys).
            self._write(render(routes.family_of(request.path), GatewayError(401, MISSING_KEY)))
            return
        answer = self.server.emulator.handle(request)
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
        return _inflate(body, 16 + zlib.MAX_WBITS)
    if coding == "deflate":
        try:
            return _inflate(body, zlib.MAX_WBITS)
        except zlib.error:
            return _inflate(body, -zlib.MAX_WBITS)  # raw deflate, as some clients send
    raise ValueError(f"unsupported content-encoding {encoding!r}")


def _inflate(body: bytes, wbits: int) -> bytes:
    """Inflate at most :data:`MAX_BODY_BYTES` (a small compressed body can be a bomb)."""
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(body, MAX_BODY_BYTES + 1)
    if len(out) > MAX_BODY_BYTES:
        raise _BodyTooLarge(f"the request body is over {MAX_BODY_BYTES} bytes once inflated")
    if not inflater.eof:
        raise ValueError("the compressed body is truncated")
    return out


class ServedEmulator:
    """A running HTTP server for an emulator; ``url`` is where it listens.

    ``require_api_key``: every request must carry ``x-api-key`` (or ``Authorization: Bearer``),
    401 otherwise, as on Roblox; which keys pass is the emulator's business (any, without keys).
    """

    def __init__(
        self,
        emulator: _Handles,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        require_api_key: bool = True,
    ) -> None:
        self._server = _Server((host, port), emulator, require_api_key)
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
