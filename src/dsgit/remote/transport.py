"""A lean HTTP/1.1 transport for httpx: ``http.client`` connections kept on a free list.

httpx's default transport (httpcore over h11) costs 0.5 ms of CPU a request on one thread
and 1.0-1.4 ms with 32-64 threads, because its connection pool looks at every connection
for every queued request, under one lock, on every request and every response close
(docs/performance.md, "Live scans"). A scan at a 1,000-CCU budget sends 336 reads a second
from one interpreter, so that alone took most of a core. This transport does the same job
for plain HTTP/1.1 in about a third of the CPU:

- one ``http.client`` connection per request in flight, taken from and returned to a
  last-in-first-out free list in O(1) (the most recently used connection is the least
  likely to have been closed by the server); at most ``max_connections`` are open, a
  request beyond that waits up to the pool timeout (``httpx.PoolTimeout``);
- a connection idle longer than ``keepalive_expiry`` seconds, or whose socket is readable
  while idle (the server closed it, or sent something unasked), is dropped, not reused;
- the body is read in full before the response is handed back (every caller in dsgit reads
  it), then the connection goes back to the list unless either side asked to close it;
- failures surface as the httpx exceptions the default transport raises for the same
  event, so :class:`~dsgit.remote.session.Session` maps them the same way: a refused or
  unresolvable connection is ``ConnectError``, its timeout ``ConnectTimeout``; a server that
  closes without an answer is ``RemoteProtocolError``; timeouts are ``WriteTimeout`` and
  ``ReadTimeout``; a request that cannot be written (an illegal header value) is
  ``LocalProtocolError``, whose message never quotes the value.

httpx still builds each request and decodes each response (headers, ``content-encoding``,
auth, redirects off), so everything above the socket behaves as before. TLS uses the same
certificates httpx would (``SSL_CERT_FILE`` or ``SSL_CERT_DIR``, else certifi's bundle).
:func:`default_transport` falls back to httpx's own transport where this one does not
reach: when a proxy is configured in the environment.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping

import httpx

__all__ = ["PooledTransport", "default_transport", "proxy_configured"]

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def proxy_configured(environ: Mapping[str, str] | None = None) -> bool:
    """True when the environment names a proxy (httpx would route through it)."""
    env = os.environ if environ is None else environ
    return any(env.get(name) or env.get(name.upper()) for name in _PROXY_VARIABLES)


def default_transport(
    *, connections: int, keepalive_expiry: float = 5.0
) -> httpx.BaseTransport | None:
    """The transport for the network: a :class:`PooledTransport`, or None (httpx's own,
    which honours proxy variables) when a proxy is configured."""
    if proxy_configured():
        return None
    return PooledTransport(max_connections=connections, keepalive_expiry=keepalive_expiry)


def _tls_context() -> ssl.SSLContext:
    """The certificates httpx verifies against (``httpx.create_ssl_context`` with defaults)."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _readable(sock: socket.socket | None) -> bool:
    """An idle connection's socket has something to read: EOF or unasked bytes. Not reusable."""
    if sock is None:
        return True
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


class _Idle:
    __slots__ = ("connection", "since")

    def __init__(self, connection: http.client.HTTPConnection, since: float) -> None:
        self.connection = connection
        self.since = since


_Origin = tuple[str, str, int]


class PooledTransport(httpx.BaseTransport):
    """HTTP/1.1 over ``http.client`` with a free list of keep-alive connections; thread safe.

    See the module docstring. ``clock`` is injectable for the keep-alive expiry in tests.
    """

    def __init__(
        self,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._clock = clock
        self._lock = threading.Condition(threading.Lock())
        self._idle: dict[_Origin, list[_Idle]] = {}
        self._open = 0  # connections idle or in use
        self._closed = False
        self._tls: ssl.SSLContext | None = None

    def __repr__(self) -> str:
        return f"PooledTransport(max_connections={self.max_connections})"

    # --- the free list ------------------------------------------------------------------

    def _take(self, origin: _Origin, pool_timeout: float | None) -> http.client.HTTPConnection:
        """A kept connection to ``origin`` still fit for use, or a new one (not connected)."""
        deadline = None if pool_timeout is None else self._clock() + pool_timeout
        while True:
            victim = None
            with self._lock:
                if self._closed:
                    raise RuntimeError("the transport is closed")
                idle = self._idle.get(origin)
                if idle:
                    kept = idle.pop()
                elif self._open < self.max_connections:
                    self._open += 1
                    return self._new(origin)
                else:
                    victim = self._other_idle(origin)
                    if victim is None:
                        wait = None if deadline is None else deadline - self._clock()
                        if wait is not None and wait <= 0:
                            raise httpx.PoolTimeout("no connection became free in time")
                        self._lock.wait(wait)
                        continue
            if victim is not None:  # its place goes to the new connection
                victim.close()
                return self._new(origin)
            # Checked outside the lock (a system call); a stale one is closed and skipped.
            fresh = self._clock() - kept.since <= self.keepalive_expiry
            if fresh and not _readable(kept.connection.sock):
                return kept.connection
            self._discard(kept.connection)

    def _other_idle(self, origin: _Origin) -> http.client.HTTPConnection | None:
        """An idle connection to another origin, taken off the list (the lock is held)."""
        for other, idle in self._idle.items():
            if other != origin and idle:
                return idle.pop(0).connection
        return None

    def _new(self, origin: _Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        if scheme == "https":
            if self._tls is None:
                self._tls = _tls_context()
            return http.client.HTTPSConnection(host, port, context=self._tls)
        return http.client.HTTPConnection(host, port)

    def _give_back(self, origin: _Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.setdefault(origin, []).append(_Idle(connection, self._clock()))
                self._lock.notify()
                return
        self._discard(connection)

    def _discard(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        with self._lock:
            self._open -= 1
            self._lock.notify()

    # --- one request --------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{scheme}://'.", request=request
            )
        origin = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        timeouts = request.extensions.get("timeout", {})
        body = request.read()
        connection = self._take(origin, timeouts.get("pool"))
        try:
            raw, content = self._exchange(connection, request, body, timeouts)
        except BaseException:
            self._discard(connection)
            raise
        if raw.will_close:
            self._discard(connection)
        else:
            self._give_back(origin, connection)
        return httpx.Response(
            raw.status,
            headers=raw.getheaders(),
            stream=httpx.ByteStream(content),
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (raw.reason or "").encode("latin-1", "replace"),
            },
            request=request,
        )

    @staticmethod
    def _exchange(
        connection: http.client.HTTPConnection,
        request: httpx.Request,
        body: bytes,
        timeouts: Mapping[str, float | None],
    ) -> tuple[http.client.HTTPResponse, bytes]:
        if connection.sock is None:
            connection.timeout = timeouts.get("connect")
            try:
                connection.connect()
            except TimeoutError as exc:
                raise httpx.ConnectTimeout(str(exc) or "timed out", request=request) from exc
            except OSError as exc:  # refused, unresolvable, the TLS handshake failed
                raise httpx.ConnectError(str(exc), request=request) from exc
        sock = connection.sock
        assert sock is not None
        sock.settimeout(timeouts.get("write"))
        try:
            connection.putrequest(
                request.method,
                request.url.raw_path.decode("ascii"),
                skip_host=True,
                skip_accept_encoding=True,
            )
            for name, value in request.headers.raw:
                connection.putheader(name, value)
        except (ValueError, http.client.HTTPException) as exc:
            # http.client quotes the offending value, which may be a secret: not kept.
            raise httpx.LocalProtocolError(
                f"the request could not be written ({type(exc).__name__})", request=request
            ) from None
        try:
            connection.endheaders(body or None)
        except TimeoutError as exc:
            raise httpx.WriteTimeout(str(exc) or "timed out", request=request) from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc), request=request) from exc
        sock.settimeout(timeouts.get("read"))
        try:
            raw = connection.getresponse()
            return raw, raw.read()
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except http.client.RemoteDisconnected as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc
        except http.client.HTTPException as exc:
            raise httpx.RemoteProtocolError(
                f"malformed response ({type(exc).__name__}: {exc})", request=request
            ) from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [kept.connection for kept_list in self._idle.values() for kept in kept_list]
            self._open -= len(idle)
            self._idle.clear()
            self._lock.notify_all()
        for connection in idle:
            connection.close()
