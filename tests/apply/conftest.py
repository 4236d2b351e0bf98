"""Apply tests run the real planner and client against the in-process emulator."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dsgit.apply.result import ApplyResult
from dsgit.apply.run import ApplyDeps, ApplyOptions, apply_plan
from dsgit.config import Environment
from dsgit.crypto import Keyring
from dsgit.emulator import Emulator
from dsgit.model.declaration import (
    Declaration,
    DeclaredEntry,
    SourceInfo,
    StoreDeclaration,
    StorePolicy,
)
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.model import Plan
from dsgit.plan.usecase import PlanRequest, make_plan
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client
from dsgit.repo.digest import declaration_digest

UNIVERSE = 1


def declaration_of(
    entries: Mapping[Address, EntryData | int],
    policies: Mapping[tuple[StoreKind, str], StorePolicy] | None = None,
) -> Declaration:
    """A declaration holding ``entries`` (ints for ordered stores), digest computed as the
    repository loader does."""
    grouped: dict[tuple[StoreKind, str], dict[tuple[str, str], DeclaredEntry]] = {}
    for address, data in entries.items():
        value = EntryData(data) if isinstance(data, int) else data
        grouped.setdefault((address.kind, address.store), {})[(address.scope, address.key)] = (
            DeclaredEntry(address, value, file=f"{address.store}/{address.key}.yaml")
        )
    for key in policies or {}:
        grouped.setdefault(key, {})
    stores = {
        key: StoreDeclaration(key[0], key[1], (policies or {}).get(key, StorePolicy()), found)
        for key, found in grouped.items()
    }
    digest = declaration_digest(stores, {})
    return Declaration(stores=stores, schemas={}, source=SourceInfo(None, True, digest))


def environment(**kw: Any) -> Environment:
    return Environment(name="local", universe_id=UNIVERSE, url="http://emulator.test", **kw)


def plan_for(
    declaration: Declaration,
    api: OpenCloudClient,
    now: datetime | None = None,
    keys: Keyring | None = None,
) -> Plan:
    return make_plan(
        declaration,
        api,
        PlanRequest("local", UNIVERSE, now=now or datetime.now(UTC)),
        keyring=keys,
    )


class World:
    """An emulator, a client, a repository folder: everything an apply test needs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.emulator = Emulator(db=":memory:")
        self.client = emulated_client(self.emulator, universe_id=UNIVERSE, max_workers=8)
        self.env = environment()

    def deps(self, declaration: Declaration | None, **kw: Any) -> ApplyDeps:
        return ApplyDeps(
            root=self.root,
            env=kw.pop("env", self.env),
            api=kw.pop("api", self.client),
            declaration=declaration,
            actor="tester",
            **kw,
        )

    def plan(self, declaration: Declaration, keys: Keyring | None = None) -> Plan:
        return plan_for(declaration, self.client, keys=keys)

    def apply(
        self,
        plan: Plan,
        declaration: Declaration | None,
        options: ApplyOptions | None = None,
        **kw: Any,
    ) -> ApplyResult:
        return apply_plan(plan, self.deps(declaration, **kw), options or ApplyOptions(workers=4))

    def seed(self, entries: Mapping[Address, EntryData | int]) -> None:
        for address, data in entries.items():
            if address.kind is StoreKind.ORDERED:
                assert isinstance(data, int)
                self.client.create_ordered(address.store, address.key, data, address.scope)
            else:
                assert isinstance(data, EntryData)
                self.client.create_entry(address.store, address.key, data, address.scope)

    def live(self, address: Address) -> EntryData | int | None:
        if address.kind is StoreKind.ORDERED:
            found = self.client.get_ordered(address.store, address.key, address.scope)
            return found.value if found is not None else None
        live = self.client.get_entry(address.store, address.key, address.scope)
        return live.data if live is not None and live.state != "DELETED" else None

    def revisions(self, address: Address) -> int:
        return len(list(self.client.list_revisions(address.store, address.key, address.scope)))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    created = World(tmp_path / "repo")
    created.root.mkdir()
    try:
        yield created
    finally:
        created.client.close()


def expired(plan: Plan) -> Plan:
    from dsgit.plan.io import with_digest

    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return with_digest(replace(plan, expires=past))


def keyring() -> Keyring:
    from dsgit.crypto import Key

    return Keyring((Key(bytes(range(32)), "test"),))
