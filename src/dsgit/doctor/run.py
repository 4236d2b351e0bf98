"""Run the checks of ``dsgit doctor`` against one environment.

Against the embedded emulator the answer is known without asking: no key, every scope, no rate
limit; one real read still proves the database opens. Against a remote (Roblox or a served
emulator) doctor checks the key variable, then probes each scope it can test with one cheap
read (first page of a listing, one entry read, in dsgit's own ``_dsgit`` store where a store is
needed): an answer other than 401/403 (a 404 too) proves the scope, a 403 denies it. Scopes
only a write could prove are reported ``not probed``: doctor never writes. Each probe runs on a
fresh client, so one refusal cannot stand in for the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import islice

from dsgit.config import Environment
from dsgit.doctor.needs import (
    COMMAND_OPERATIONS,
    CONFIGS_READ,
    CONFIGS_WRITE,
    command_scopes,
    operation_scopes,
)
from dsgit.doctor.report import Check, CommandScopes, DoctorReport, ScopeState, Status
from dsgit.errors import DsgitError, RemoteError
from dsgit.model.entry import RESERVED_STORE
from dsgit.remote.api import OpenCloudApi
from dsgit.remote.budget import Operation, RequestClass, per_minute

__all__ = ["Connect", "diagnose"]

Connect = Callable[[], AbstractContextManager[OpenCloudApi]]
"""Opens a client for the environment (``open_client(env)``); raises ``DsgitError`` when it
cannot (no key)."""

_PROBE_KEY = "dsgit-doctor-probe"
_PROBE_REPOSITORY = "InExperienceConfig"
_SHOWN_STORES = 5


@dataclass(frozen=True)
class _Probe:
    scope: str
    what: str
    call: Callable[[OpenCloudApi], object]


def _first(items: Iterator[object]) -> object:
    return next(items, None)


_PROBES = (
    _Probe(
        "universe-datastores.objects:list",
        f"list the keys of {RESERVED_STORE}",
        lambda api: _first(api.list_keys(RESERVED_STORE, "global")),
    ),
    _Probe(
        "universe-datastores.objects:read",
        f"read {RESERVED_STORE}/global/{_PROBE_KEY}",
        lambda api: api.get_entry(RESERVED_STORE, _PROBE_KEY),
    ),
    _Probe(
        "universe-datastores.versions:list",
        f"list the revisions of {RESERVED_STORE}/global/{_PROBE_KEY}",
        lambda api: _first(api.list_revisions(RESERVED_STORE, _PROBE_KEY)),
    ),
    _Probe(
        "universe.ordered-data-store.scope.entry:read",
        f"list the ordered store {RESERVED_STORE}",
        lambda api: _first(api.list_ordered(RESERVED_STORE)),
    ),
    _Probe(
        "universe:read",
        f"read the published configs repository {_PROBE_REPOSITORY}",
        lambda api: api.read_published(_PROBE_REPOSITORY),
    ),
)
_LIST_STORES_SCOPE = "universe-datastores.control:list"


def _status(error: DsgitError) -> int | None:
    return error.status if isinstance(error, RemoteError) else None


def _classify(error: DsgitError) -> ScopeState:
    status = _status(error)
    if status == 403:
        return ScopeState.DENIED
    if status is not None and status < 500 and status not in (401, 429):
        return ScopeState.GRANTED  # past the gateway: 400, 404, 409 mean the scope was fine
    return ScopeState.UNKNOWN


def _budget(env: Environment) -> tuple[tuple[str, int], ...]:
    classes = [RequestClass(op) for op in (Operation.READ, Operation.WRITE, Operation.LIST)]
    classes.append(RequestClass(Operation.REMOVE))
    classes += [RequestClass(c.operation, ordered=True) for c in list(classes)]
    classes.append(RequestClass(Operation.SNAPSHOT))
    configs = (Operation.CONFIGS_READ, Operation.CONFIGS_DRAFT, Operation.CONFIGS_PUBLISH)
    classes += [RequestClass(op) for op in configs]
    return tuple((str(c), per_minute(c, env.budget)) for c in classes)


def _budget_check(env: Environment, rows: tuple[tuple[str, int], ...]) -> Check:
    if env.is_embedded:
        return Check("budget", Status.OK, "unlimited: the embedded emulator has no rate limits")
    limits = dict(rows)
    detail = (
        f"ccu {env.budget.ccu}, share {env.budget.share:g}: dsgit may send {limits['read']} "
        f"reads, {limits['write']} writes, {limits['list']} listings and {limits['remove']} "
        f"deletes a minute (ordered stores the same, separately), {limits['snapshot']} "
        f"snapshots; configs: {limits['configs read']} reads, {limits['configs draft']} draft "
        f"writes, {limits['configs publish']} publishes and restores"
    )
    if env.budget.ccu == 0:
        detail += (
            "; with ccu 0 a plan reading N entries takes at least N / "
            f"{max(1, limits['read'] // 60)} seconds: set budget.ccu to your usual peak players"
        )
    return Check("budget", Status.OK, detail)


def _key_check(env: Environment) -> Check:
    if env.is_embedded:
        return Check("key", Status.OK, "not needed: the embedded emulator takes no key")
    if env.api_key_env is None:
        return Check(
            "key", Status.FAIL, "no `api_key_env` in dsgit.yaml: every request needs a key"
        )
    if env.api_key() is None:
        return Check("key", Status.FAIL, f"${env.api_key_env} is unset or empty")
    return Check("key", Status.OK, f"${env.api_key_env} is set")


def _read(connect: Connect) -> tuple[Check, DsgitError | None]:
    """The one real read: the first data stores the universe lists."""
    try:
        with connect() as api:
            names = [info.id for info in islice(api.list_data_stores(), _SHOWN_STORES)]
    except DsgitError as exc:
        reason = " ".join(str(exc).split())  # one line, however the error explains itself
        return Check("read", Status.FAIL, f"listing data stores failed: {reason}"), exc
    if not names:
        return Check("read", Status.OK, "listed data stores: none yet"), None
    more = ", …" if len(names) == _SHOWN_STORES else ""
    return Check("read", Status.OK, f"listed data stores: {', '.join(names)}{more}"), None


def _probe(connect: Connect, probe: _Probe) -> tuple[ScopeState, str, int | None]:
    try:
        with connect() as api:
            probe.call(api)
    except DsgitError as exc:
        status = _status(exc)
        answer = f"HTTP {status}" if status is not None else type(exc).__name__
        return _classify(exc), f"{probe.what}: {answer}", status
    return ScopeState.GRANTED, f"{probe.what}: answered", None


def _all_scopes() -> list[str]:
    return sorted({scope for command in COMMAND_OPERATIONS for scope in command_scopes(command)})


_ORDERED_SCOPE_PREFIX = "universe.ordered-data-store."
_CONFIGS_SCOPES = frozenset(
    scope for op in (*CONFIGS_READ, *CONFIGS_WRITE) for scope in operation_scopes(op)
)
# Commands that read or write only the repository's declared stores and configs repositories:
# without an ordered store declared they never send an ordered-store request, without a configs
# repository (configs/, or templates in policies/erasure.yaml) no configs request (import, ls
# and get list live stores).
_DECLARED_ONLY = frozenset({"plan", "drift", "apply", "rollback", "revert", "restore"})


def _needs(command: str, ordered_stores: bool, configs: bool) -> tuple[str, ...]:
    needed = command_scopes(command)
    if command not in _DECLARED_ONLY:
        return needed
    return tuple(
        scope
        for scope in needed
        if (ordered_stores or not scope.startswith(_ORDERED_SCOPE_PREFIX))
        and (configs or scope not in _CONFIGS_SCOPES)
    )


def diagnose(
    env: Environment, connect: Connect, *, ordered_stores: bool = True, configs: bool = True
) -> DoctorReport:
    """Check ``env``; ``connect`` opens a client for it (called once per request made).
    ``ordered_stores``: the repository declares one (else plan, apply and undo need no
    ordered-store scope); ``configs``: it declares a configs repository (else they need no
    configs scope)."""
    target = (
        f"embedded emulator {env.emulator}"
        if env.emulator is not None
        else (env.url or "https://apis.roblox.com")
    )
    key = _key_check(env)
    rows = () if env.is_embedded else _budget(env)
    checks: list[Check] = [key]
    states: dict[str, tuple[ScopeState, str]] = {}
    if key.status is Status.FAIL:
        checks.append(Check("read", Status.FAIL, "not tried: no key"))
        states = {s: (ScopeState.UNKNOWN, "no key") for s in _all_scopes()}
    else:
        read, failure = _read(connect)
        checks.append(read)
        if env.is_embedded:
            states = {s: (ScopeState.GRANTED, "embedded emulator") for s in _all_scopes()}
        else:
            states = {s: (ScopeState.NOT_PROBED, "only a write would tell") for s in _all_scopes()}
            listed = (
                (ScopeState.GRANTED, "list data stores: answered")
                if failure is None
                else (_classify(failure), f"list data stores: {failure}")
            )
            states[_LIST_STORES_SCOPE] = listed
            refused = _status(failure) == 401 if failure is not None else False
            for probe in _PROBES:
                state, via, status = _probe(connect, probe)
                states[probe.scope] = (state, via)
                refused = refused or status == 401
            if refused:
                refusal = f"${env.api_key_env} is set, but the service refused it (401)"
                checks[0] = Check("key", Status.FAIL, refusal)
    commands = tuple(
        _command(command, _needs(command, ordered_stores, configs), states)
        for command in COMMAND_OPERATIONS
    )
    checks.append(_scopes_check(commands, states))
    checks.append(_budget_check(env, rows))
    scopes = tuple((scope, state, via) for scope, (state, via) in sorted(states.items()))
    return DoctorReport(env.name, env.universe_id, target, tuple(checks), scopes, commands, rows)


def _command(
    command: str, needed: tuple[str, ...], states: dict[str, tuple[ScopeState, str]]
) -> CommandScopes:
    unknown = (ScopeState.NOT_PROBED, ScopeState.UNKNOWN)
    return CommandScopes(
        command,
        needed,
        tuple(s for s in needed if states[s][0] is ScopeState.DENIED),
        tuple(s for s in needed if states[s][0] in unknown),
    )


def _scopes_check(
    commands: tuple[CommandScopes, ...], states: dict[str, tuple[ScopeState, str]]
) -> Check:
    denied = sorted(s for s, (state, _) in states.items() if state is ScopeState.DENIED)
    unknown = sorted(s for s, (state, _) in states.items() if state is ScopeState.UNKNOWN)
    untested = sorted(s for s, (state, _) in states.items() if state is ScopeState.NOT_PROBED)
    blocked = [c.command for c in commands if c.denied]
    plan = next(c for c in commands if c.command == "plan")
    parts: list[str] = []
    if denied:
        parts.append(f"denied (403): {', '.join(denied)}, so {', '.join(blocked)} cannot run")
    if unknown:
        parts.append(f"could not be checked: {', '.join(unknown)}")
    if untested:
        parts.append(f"not probed (only a write would tell): {', '.join(untested)}")
    if not parts:
        return Check("scopes", Status.OK, "every scope dsgit uses is granted")
    # plan is what every other command builds on: a key that cannot plan is not usable
    status = Status.FAIL if plan.denied else Status.WARN
    return Check("scopes", status, "; ".join(parts))
