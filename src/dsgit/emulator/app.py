"""The emulator: one state, one request pipeline, served in process or over HTTP.

``Emulator.handle`` is the pure core every adapter shares: route, authenticate, rate-limit,
inject faults, run the operation, render errors in the called API's error model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType

from dsgit.emulator import routes
from dsgit.emulator.api_error import ApiError, invalid, not_found, render
from dsgit.emulator.auth import Auth, api_key_of
from dsgit.emulator.call import Call, State
from dsgit.emulator.clock import TICKS_PER_SECOND, system_clock, to_ticks
from dsgit.emulator.configs import ConfigsState
from dsgit.emulator.database import Database
from dsgit.emulator.experiments import ExperimentsState
from dsgit.emulator.faults import FaultAction, FaultDecision, FaultInjector, FaultSpec
from dsgit.emulator.limits import INT64_MAX
from dsgit.emulator.ordered import OrderedState
from dsgit.emulator.rate_limits import (
    KEY_READ_KB,
    KEY_WRITE_KB,
    V1_READ_KB,
    V1_WRITE_KB,
    RateLimiter,
    ThroughputLimiter,
    kilobytes,
)
from dsgit.emulator.rtbf import Erased, erase_user
from dsgit.emulator.server import ServedEmulator
from dsgit.emulator.standard import StandardState
from dsgit.emulator.transport import EmulatorTransport
from dsgit.emulator.versions import Versions, versions_from_env
from dsgit.emulator.wire import Disposition, Request, Response

__all__ = ["Emulator"]

_NO_FAULT = FaultDecision()


class Emulator:
    """A faithful local stand-in for Roblox Open Cloud data stores and configs.

    ``db``: ``":memory:"`` or a SQLite file (created with its folder; survives restarts).
    ``ccu``: None turns rate limits off; an int sizes Roblox's budgets for that many players.
    ``faults``: a :class:`FaultSpec` (or None); may be replaced later via ``emu.faults``.
    ``api_keys``: None requires no key; else ``{key: frozenset(scopes)}`` (401/403 otherwise).
    ``clock``: returns the current UTC time (for tests); real time by default.
    ``versions``: ``"hourly"`` keeps versions as Roblox does (the first write to a key in each
    UTC hour, later writes in that hour overwrite it, a snapshot makes the next write keep one);
    ``"all"`` keeps every write (for tests and tools that count writes by revisions); None
    (the default): ``$DSGIT_EMULATOR_VERSIONS``, else ``"hourly"``.
    """

    def __init__(
        self,
        db: str | Path = ":memory:",
        ccu: int | None = None,
        faults: FaultSpec | None = None,
        api_keys: Mapping[str, frozenset[str]] | None = None,
        clock: Callable[[], datetime] | None = None,
        versions: Versions | str | None = None,
    ) -> None:
        retention = versions_from_env() if versions is None else Versions(versions)
        self._db = Database(db)
        configs = ConfigsState(self._db)
        self._state = State(
            StandardState(self._db, retention),
            OrderedState(self._db),
            configs,
            ExperimentsState(self._db, configs),
        )
        self._limiter = RateLimiter(ccu) if ccu is not None else None
        self._throughput = ThroughputLimiter() if ccu is not None else None
        self._auth = Auth(api_keys)
        self._clock = clock or system_clock
        self._injector: FaultInjector | None = None
        self._faults: FaultSpec | None = None
        self.faults = faults

    # --- configuration -------------------------------------------------------------------
    @property
    def faults(self) -> FaultSpec | None:
        return self._faults

    @faults.setter
    def faults(self, spec: FaultSpec | None) -> None:
        self._faults = spec
        self._injector = FaultInjector(spec) if spec is not None and spec.active else None

    @property
    def versions(self) -> Versions:
        return self._state.standard.versions

    @property
    def ccu(self) -> int | None:
        return None if self._limiter is None else self._limiter.ccu

    @property
    def configs(self) -> ConfigsState:
        """Configs repositories, for tests and demos (``stage_from_creator_hub``)."""
        return self._state.configs

    @property
    def experiments(self) -> ExperimentsState:
        """Experiments, for tests and demos (``create``, ``start``, ``complete``)."""
        return self._state.experiments

    def erase_user(self, universe: int, user: int) -> Erased:
        """Roblox's automated deletion for ``user`` (:mod:`dsgit.emulator.rtbf`), now."""
        return erase_user(self._state, universe, user, self.now_ticks())

    def now_ticks(self) -> int:
        """The emulator's clock, in the ticks its state methods take."""
        return to_ticks(self._clock())

    # --- the core ------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one request. Thread-safe; injected latency sleeps here, holding no lock."""
        injector = self._injector
        decision = injector.decide() if injector is not None else _NO_FAULT
        if decision.latency > 0:
            time.sleep(decision.latency)
        path = request.path
        family = routes.family_of(path)
        try:
            found = routes.match(request.method, path)
            if found is None:
                raise not_found(f"no such resource: {request.method} {path}")
            route, params = found
            operation = route.methods.get(request.method)
            if operation is None:
                allowed = ", ".join(sorted(route.methods))
                raise not_found(f"{request.method} is not served on this path (use {allowed})")
            family = operation.family
            granted = self._auth.check(operation, api_key_of(request))
            universe = _universe(params["u"])
            query = _query(request)
            now = to_ticks(self._clock())
            self._throttle(universe, operation.rate, now)
            buckets = self._throughput_buckets(universe, operation, params, request)
            self._check_throughput(buckets, operation, len(request.body), now)
            if decision.action is FaultAction.THROTTLE:
                raise ApiError(
                    429,
                    "too many requests (injected fault)",
                    "TooManyRequests",
                    (("retry-after", "1"),),
                )
            if decision.action is FaultAction.ERROR:
                raise ApiError(decision.status, "injected server error")
            if decision.action is FaultAction.TIMEOUT:
                return Response(504, disposition=Disposition.TIMEOUT, hold=injector_hang(injector))
            call = Call(
                request=request,
                params=params,
                query=query,
                universe=universe,
                now=now,
                state=self._state,
                require_scope=lambda scope: Auth.require(granted, scope),
            )
            response = operation.handler(call)
            if buckets and response.status < 400:
                self._record_throughput(buckets, operation, request, response, now)
        except ApiError as error:
            response = render(family, error)
        except Exception as error:  # a bug must answer 500, never kill a server thread
            response = render(family, ApiError(500, f"{type(error).__name__}: {error}"))
        if decision.lost:
            if decision.status:
                return render(family, ApiError(decision.status, "response lost (injected)"))
            return Response(502, disposition=Disposition.DROP)
        return response

    def _throttle(self, universe: int, rate: routes.RateClass, now: int) -> None:
        if self._limiter is None:
            return
        wait = self._limiter.admit(universe, rate, now / TICKS_PER_SECOND)
        if wait is not None:
            raise ApiError(
                429,
                f"rate limit of the {rate.api} {rate.kind} {rate.name} budget exceeded",
                "TooManyRequests",
                (("retry-after", str(int(wait))),),
            )

    def _throughput_buckets(
        self, universe: int, operation: routes.Operation, params: dict[str, str], request: Request
    ) -> list[tuple[tuple[object, ...], int]]:
        """(bucket, limit in KB) pairs the request's bytes count against."""
        if self._throughput is None or not operation.keyed:
            return []
        reading = operation.rate.name == "read"
        identity = routes.entry_identity(operation, params, request.query)
        buckets: list[tuple[tuple[object, ...], int]] = [
            (("key", universe, *identity, reading), KEY_READ_KB if reading else KEY_WRITE_KB)
        ]
        if operation.rate.api == "v1":
            buckets.append((("v1", universe, reading), V1_READ_KB if reading else V1_WRITE_KB))
        return buckets

    def _check_throughput(
        self,
        buckets: list[tuple[tuple[object, ...], int]],
        operation: routes.Operation,
        body_size: int,
        now: int,
    ) -> None:
        if self._throughput is None:
            return
        adding = kilobytes(body_size) if operation.rate.name == "write" else 0
        for bucket, limit in buckets:
            wait = self._throughput.wait(bucket, limit, adding, now / TICKS_PER_SECOND)
            if wait is not None:
                raise ApiError(
                    429,
                    f"{'read' if adding == 0 else 'write'} throughput limit of {limit} KB a "
                    "minute exceeded",
                    "TooManyRequests",
                    (("retry-after", str(int(wait))),),
                )

    def _record_throughput(
        self,
        buckets: list[tuple[tuple[object, ...], int]],
        operation: routes.Operation,
        request: Request,
        response: Response,
        now: int,
    ) -> None:
        if self._throughput is None:
            return
        size = len(request.body) if operation.rate.name == "write" else len(response.body)
        for bucket, _ in buckets:
            self._throughput.record(bucket, kilobytes(size), now / TICKS_PER_SECOND)

    # --- adapters ------------------------------------------------------------------------
    def transport(self) -> EmulatorTransport:
        """An ``httpx.BaseTransport`` answering in process (no sockets); thread-safe."""
        return EmulatorTransport(self)

    @contextmanager
    def serve(
        self, host: str = "127.0.0.1", port: int = 0, *, require_api_key: bool = True
    ) -> Iterator[ServedEmulator]:
        """Serve over HTTP/1.1 in a background thread until the block ends.

        As Roblox, every request must carry ``x-api-key`` (401 otherwise); without ``api_keys``
        any key passes. ``require_api_key=False`` drops that check, for tests of HTTP framing
        that send raw requests.
        """
        server = ServedEmulator(self, host, port, require_api_key=require_api_key)
        server.start()
        try:
            yield server
        finally:
            server.stop()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def injector_hang(injector: FaultInjector | None) -> float:
    return injector.spec.hang if injector is not None else 0.0


def _query(request: Request) -> dict[str, str]:
    try:
        return request.query
    except UnicodeDecodeError:
        raise invalid("the query string is not valid UTF-8 once percent-decoded") from None


def _universe(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > INT64_MAX:
        raise invalid(f"universe id {text!r} is not a number", "InvalidUniverseId")
    return int(text)
