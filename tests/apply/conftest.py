"""Apply tests run the real planner and client against the in-process emulator."""

from __future__ import annotations

from collections.abc import Iterator
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
)
from dsgit.model.entry import Address, EntryData
from dsgit.plan.model import Plan
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client
from support import Live, read_live, seed_live

UNIVERSE = 1


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


def revision_counting_emulator(**options: Any) -> Emulator:
    """The one place apply tests make their in-process emulator. They count revisions to prove a
    write landed at most once, so it keeps every write (``versions="all"``; by default the
    emulator keeps Roblox's one version per key per UTC hour)."""
    return Emulator(db=":memory:", versions="all", **options)


class World:
    """An emulator, a client, a repository folder: everything an apply test needs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.emulator = revision_counting_emulator()
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

    def seed(self, entries: Live) -> None:
        seed_live(self.client, entries)

    def live(self, address: Address) -> EntryData | int | None:
        return read_live(self.client, address)

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
