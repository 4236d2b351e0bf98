"""One request to Open Cloud: rate budget, retries, error mapping, paging, parsing.

``Session`` owns the ``httpx.Client`` (with the injected transport) and is what every operation
of :class:`dsgit.remote.client.OpenCloudClient` goes through:

- the rate budget (``budget.py``) grants a permit for the request's class;
- retries (``retry.py``) repeat transient failures and verify writes before repeating them;
- failures (``failures.py``) map an error status, once, into ``dsgit.errors``;
- run-wide bounds (``health.py``) stop the whole run, with one named error, when the service
  cannot be connected to, refuses the key, or answers only 5xx.

The API key travels only in the ``x-api-key`` header, added by an ``httpx.Auth`` whose repr
hides it; errors name the method and URL path, never headers, and any server message that
echoes the key has it replaced by ``***``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any, TypeVar

import httpx

from dsgit import __version__
from dsgit.errors import AuthError, MalformedResponse, RemoteError, TransportError
from dsgit.remote import parse
from dsgit.remote.budget import RateBudget, RequestClass
from dsgit.remote.failures import error_from_response, is_retryable_status, parse_retry_after
from dsgit.remote.health import RunBounds, RunHealth, Target
from dsgit.remote.pace import RequestMeter
from dsgit.remote.retry import Retryable, RetryPolicy, Safety, Unreachable, call_with_retries
from dsgit.remote.transport import default_transport

__all__ = ["MISSING", "Session"]

log = logging.getLogger("dsgit.remote")

T = TypeVar("T")

MISSING: Any = object()  # what ``call(..., allow_404=True)`` returns for a 404
_VERIFIED: Any = object()  # what a verify in ``verified_write`` hands back to the retry loop


class _ApiKeyAuth(httpx.Auth):
    """Adds ``x-api-key`` to each request; its repr never shows the key."""

    def __init__(self, key: str) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-api-key"] = self._key
        yield request

    def __repr__(self) -> str:
        return "_ApiKeyAuth(key=***)"


def _describe(exc: httpx.HTTPError, secrets: tuple[str, ...] = ()) -> str:
    name = type(exc).__name__
    detail = str(exc)
    for secret in secrets:
        if secret and secret in detail:
            detail = detail.replace(secret, "***")
    return f"{name}: {detail}" if detail else name


class _Tries:
    """What one call has seen so far (connect failures, an ambiguous failure, the last kind)."""

    __slots__ = ("connects", "transient", "uncertain")

    def __init__(self) -> None:
        self.connects = 0
        self.uncertain = False
        # the last failure was a 5xx or a timeout (not a 429) without a Retry-After
        self.transient = False


class Session:
    """Sends requests within the budget, retries them, and maps their failures."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        transport: httpx.BaseTransport | None,
        budget: RateBudget,
        retry: RetryPolicy,
        timeout: float,
        connections: int,
        sleep: Callable[[float], None],
        target: Target | None = None,
        bounds: RunBounds | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget
        self.retry_policy = retry
        self._secrets = (api_key,) if api_key else ()
        self._sleep = sleep
        bounds = bounds if bounds is not None else RunBounds()
        # The run as a whole: once the service is unreachable, refuses the key or has answered
        # only 5xx for the bound, every later request fails at once with the same one error.
        self.health = RunHealth(
            base_url, target if target is not None else Target(has_key=bool(api_key)), bounds, clock
        )
        self.meter = RequestMeter()  # requests finished, for progress displays
        if transport is None:
            # The network: plain HTTP/1.1 on a free list of connections (remote/transport.py),
            # a third of the CPU of httpx's pool; httpx's own where a proxy is configured.
            transport = default_transport(connections=connections)
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            auth=_ApiKeyAuth(api_key) if api_key else None,
            timeout=httpx.Timeout(timeout, connect=min(timeout, bounds.connect_timeout)),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"user-agent": f"dsgit/{__version__}"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"Session({str(self._http.base_url)!r})"

    def close(self) -> None:
        self._http.close()

    def _attempt(
        self,
        method: str,
        path: str,
        request_class: RequestClass | None,
        params: Mapping[str, str | int] | None,
        body: Any,
        allow_404: bool,
    ) -> Any:
        started = time.monotonic()
        self.health.check()  # another request may have stopped the run while this one waited
        with self.budget.acquire(request_class):
            self.health.check()
            try:
                response = self._http.request(
                    method,
                    path,
                    params=dict(params) if params else None,
                    content=None if body is None else json.dumps(body).encode("utf-8"),
                    headers=None if body is None else {"content-type": "application/json"},
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never left: no doubt about whether it happened.
                raise Retryable(
                    TransportError(method, path, _describe(exc, self._secrets)),
                    ambiguous=False,
                    connect=True,
                ) from exc
            except (httpx.LocalProtocolError, httpx.UnsupportedProtocol) as exc:
                # The request could not even be built here (an illegal header value, a bad
                # URL scheme): the same every time, so never retried; the detail may quote a
                # header, so it is not shown.
                raise TransportError(
                    method, path, f"the request could not be sent ({type(exc).__name__})"
                ) from None
            except httpx.PoolTimeout as exc:
                raise Retryable(
                    TransportError(method, path, _describe(exc, self._secrets)), ambiguous=False
                ) from exc
            except httpx.TransportError as exc:
                raise Retryable(
                    TransportError(method, path, _describe(exc, self._secrets)), ambiguous=True
                ) from exc
        status = response.status_code
        if not 500 <= status < 600:
            self.health.answered()
            if status != 429:
                self.meter.count(request_class)  # a request done (retried ones count once)
        log.debug("%s %s -> %d in %.3fs", method, path, status, time.monotonic() - started)
        # httpx binds a response and its stream in a reference cycle, so every body would wait
        # for the cyclic garbage collector; unbinding lets it go as soon as it is parsed, which
        # keeps long listings flat in memory. The body was already read in full.
        response.stream = httpx.ByteStream(b"")
        if 200 <= status < 300:
            if not response.content:
                return {}
            try:
                return json.loads(response.content)
            except ValueError:
                raise MalformedResponse(
                    method, path, status, "MALFORMED_RESPONSE", "the body is not JSON"
                ) from None
        if allow_404 and status == 404:
            return MISSING
        error = error_from_response(method, path, response, secrets=self._secrets)
        if is_retryable_status(status):
            raise Retryable(
                error,
                ambiguous=status != 429,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        raise error

    def call(
        self,
        method: str,
        path: str,
        request_class: RequestClass | None,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        allow_404: bool = False,
        safety: Safety = Safety.IDEMPOTENT,
        verify: Callable[[], Any] | None = None,
    ) -> Any:
        self.health.check()
        tries = _Tries()

        def attempt() -> Any:
            try:
                return self._attempt(method, path, request_class, params, body, allow_404)
            except Retryable as failure:
                self._bound(failure, tries, safety)
                raise

        def sleep(seconds: float) -> None:
            # While the service answers only 5xx, a wait never runs past the run's bound
            # (unless the service asked for a longer one with Retry-After).
            if tries.transient:
                seconds = min(seconds, max(0.05, self.health.remaining()))
            self._sleep(seconds)

        try:
            return call_with_retries(
                attempt,
                policy=self.retry_policy,
                sleep=sleep,
                safety=safety,
                verify=verify,
                describe=(method, path),
            )
        except Unreachable as exc:
            raise self.health.unreachable(exc.error, tries.connects) from None
        except AuthError as exc:
            raise self.health.denied(exc) from None

    def _bound(self, failure: Retryable, tries: _Tries, safety: Safety) -> None:
        """Stop retrying (raise the run's fatal error) when a run-wide bound is reached."""
        error = failure.error
        if failure.connect and isinstance(error, TransportError):
            tries.connects += 1
            tries.transient = False
            run_bound = self.health.connect_failed()
            own_bound = tries.connects >= self.health.bounds.connect_attempts
            if (run_bound or own_bound) and not tries.uncertain:
                raise self.health.unreachable(error, tries.connects) from None
            return
        tries.uncertain = tries.uncertain or failure.ambiguous
        is_throttle = isinstance(error, RemoteError) and error.status == 429
        tries.transient = not is_throttle and failure.retry_after is None
        if is_throttle:
            return
        if self.health.failing_too_long() and safety is Safety.IDEMPOTENT:
            raise self.health.unavailable(error) from None

    def verified_write(
        self,
        method: str,
        path: str,
        request_class: RequestClass | None,
        function: Callable[..., T],
        *args: Any,
        verify: Callable[[], T | None],
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> T:
        """A write repeated only when a read (``verify``) shows it did not land.

        Returns the answer parsed with ``function(answer, *args)``, or, when an earlier attempt
        had in fact landed, what ``verify`` read back.
        """
        seen: list[T] = []

        def check() -> Any:
            value = verify()
            if value is None:
                return None
            seen.append(value)
            return _VERIFIED

        answer = self.call(
            method,
            path,
            request_class,
            params=params,
            body=body,
            safety=Safety.VERIFIED,
            verify=check,
        )
        if answer is _VERIFIED:
            return seen[-1]
        return self.parse(method, path, function, answer, *args)

    @staticmethod
    def parse(method: str, path: str, function: Callable[..., T], *args: Any, **kw: Any) -> T:
        try:
            return function(*args, **kw)
        except parse.BodyError as exc:
            raise MalformedResponse(method, path, 200, "MALFORMED_RESPONSE", str(exc)) from None

    def page(
        self,
        path: str,
        request_class: RequestClass,
        params: dict[str, str | int],
        field: str,
        token: str | None = None,
    ) -> tuple[list[Any], str | None]:
        """One page: its items and the token of the next one (None on the last page).

        Scans resume a listing from a saved token (docs/lifecycle.md, "The live scan").
        """
        query = dict(params)
        if token:
            query["pageToken"] = token
        body = self.call("GET", path, request_class, params=query)
        items, following = self.parse("GET", path, parse.page, body, field)
        if following is not None and following == token:
            raise MalformedResponse(
                "GET", path, 200, "MALFORMED_RESPONSE", "the page token repeats"
            )
        return items, following

    def pages(
        self,
        path: str,
        request_class: RequestClass,
        params: dict[str, str | int],
        field: str,
    ) -> Iterator[Any]:
        token: str | None = None
        while True:
            query = dict(params)
            if token:
                query["pageToken"] = token
            body = self.call("GET", path, request_class, params=query)
            previous = token
            items, token = self.parse("GET", path, parse.page, body, field)
            del body  # hold one page, not two, while the caller consumes this one
            yield from items
            if not token:
                return
            # Only the previous token is kept (memory stays flat over millions of keys); a
            # server answering the same token again would otherwise loop forever.
            if token == previous:
                raise MalformedResponse(
                    "GET", path, 200, "MALFORMED_RESPONSE", "the page token repeats"
                )
