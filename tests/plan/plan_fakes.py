"""Builders and an in-memory ``OpenCloudApi`` (reads only) for planning tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime

from dsgit.errors import RateLimitedError, RemoteError
from dsgit.model.declaration import (
    Declaration,
    DeclaredEntry,
    SourceInfo,
    StoreDeclaration,
    StorePolicy,
)
from dsgit.model.entry import Address, EntryData, JSONValue, LiveEntry, LiveOrderedEntry, StoreKind
from dsgit.plan.build import PlanSettings, build_plan
from dsgit.plan.desired import desired_from_declaration
from dsgit.plan.model import Plan
from dsgit.plan.targets import AddressFilter
from dsgit.planning.read import read_live
from dsgit.remote.api import EntryKey

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
SOURCE = SourceInfo("0123456789abcdef0123456789abcdef01234567", False, "sha256:" + "ab" * 32)


def store(
    name: str,
    entries: Mapping[str, JSONValue] | None = None,
    *,
    policy: StorePolicy | None = None,
    kind: StoreKind = StoreKind.STANDARD,
    scope: str = "global",
    declared: Iterable[DeclaredEntry] = (),
) -> StoreDeclaration:
    found: dict[tuple[str, str], DeclaredEntry] = {}
    for key, value in (entries or {}).items():
        address = Address(kind, name, scope, key)
        found[(scope, key)] = DeclaredEntry(
            address, EntryData(value), f"datastores/{name}/{key}.yaml"
        )
    for entry in declared:
        found[(entry.address.scope, entry.address.key)] = entry
    return StoreDeclaration(
        kind, name, policy or StorePolicy(), found, f"datastores/{name}/_store.yaml"
    )


def declaration(
    *stores: StoreDeclaration, schemas: Mapping[str, JSONValue] | None = None
) -> Declaration:
    return Declaration({(s.kind, s.name): s for s in stores}, dict(schemas or {}), SOURCE)


class FakeApi:
    """Live data in dicts; counts requests; can fail or lie per store."""

    universe_id = 1

    def __init__(self) -> None:
        self.standard: dict[tuple[str, str, str], LiveEntry] = {}
        self.ordered: dict[tuple[str, str, str], int] = {}
        self.calls: Counter[str] = Counter()
        self.fail_list: dict[str, RemoteError] = {}
        self.fail_get: dict[str, RemoteError] = {}
        self.empty_list: set[str] = set()
        self._revision = 0

    def put(
        self,
        store: str,
        key: str,
        value: JSONValue,
        *,
        scope: str = "global",
        attributes: Mapping[str, JSONValue] | None = None,
        users: tuple[int, ...] = (),
    ) -> LiveEntry:
        self._revision += 1
        rev = f"rev-{self._revision}"
        entry = LiveEntry(
            store,
            scope,
            key,
            value,
            dict(attributes or {}),
            users,
            rev,
            rev,
            "2026-11-01T00:00:00Z",
            "2026-10-01T00:00:00Z",
        )
        self.standard[(store, scope, key)] = entry
        return entry

    def put_ordered(self, store: str, key: str, value: int, *, scope: str = "global") -> None:
        self.ordered[(store, scope, key)] = value

    def list_keys(
        self,
        store: str,
        scope: str = "global",
        *,
        prefix: str | None = None,
        show_deleted: bool = False,
    ) -> Iterator[EntryKey]:
        self.calls["list"] += 1
        if store in self.fail_list:
            raise self.fail_list[store]
        if store in self.empty_list:
            return
        for s, sc, key in sorted(self.standard):
            if s == store and sc == scope:
                yield EntryKey(scope, key)

    def get_entry(
        self, store: str, key: str, scope: str = "global", **_: object
    ) -> LiveEntry | None:
        self.calls["get"] += 1
        if store in self.fail_get:
            raise self.fail_get[store]
        return self.standard.get((store, scope, key))

    def get_entries(
        self, requests: Iterable[tuple[str, str, str]]
    ) -> Iterator[tuple[tuple[str, str, str], LiveEntry | None]]:
        for store, scope, key in requests:
            yield (store, scope, key), self.get_entry(store, key, scope)

    def list_ordered(
        self, store: str, scope: str = "global", **_: object
    ) -> Iterator[LiveOrderedEntry]:
        self.calls["list"] += 1
        if store in self.fail_list:
            raise self.fail_list[store]
        if store in self.empty_list:
            return
        for (s, sc, key), value in sorted(self.ordered.items()):
            if s == store and sc == scope:
                yield LiveOrderedEntry(store, scope, key, value)

    def get_ordered(self, store: str, key: str, scope: str = "global") -> LiveOrderedEntry | None:
        self.calls["get"] += 1
        value = self.ordered.get((store, scope, key))
        return None if value is None else LiveOrderedEntry(store, scope, key, value)


def throttled(store: str) -> RateLimitedError:
    return RateLimitedError(
        "GET", f"/v2/universes/1/data-stores/{store}/entries", 429, "RESOURCE_EXHAUSTED"
    )


def failed(store: str) -> RemoteError:
    return RemoteError("GET", f"/v2/universes/1/data-stores/{store}/entries", 500, "INTERNAL")


def plan_of(
    decl: Declaration,
    api: FakeApi,
    *,
    select: AddressFilter | None = None,
    **settings: object,
) -> Plan:
    """Plan ``decl`` against ``api`` through the real reader and builder."""
    select = select or AddressFilter()
    desired = desired_from_declaration(decl)
    live = read_live(api, desired, select)  # type: ignore[arg-type]
    return build_plan(
        desired,
        live,
        PlanSettings(environment="test", universe_id=1, now=NOW, select=select, **settings),  # type: ignore[arg-type]
    )


def codes(plan: Plan) -> list[str]:
    return sorted(d.code for d in plan.all_diagnostics)
