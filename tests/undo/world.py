"""A small world for undo tests: an in-process emulator, a client, a repository folder, and
declarations built in code (the repository loader has its own tests)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dsgit.apply.result import ApplyResult
from dsgit.apply.run import ApplyDeps, ApplyOptions, apply_plan
from dsgit.config import Environment
from dsgit.crypto import Keyring
from dsgit.emulator import Emulator
from dsgit.ledger.query import AppliedRun, list_applies
from dsgit.model.declaration import (
    Declaration,
    Suppression,
)
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.model import Plan
from dsgit.planning.usecase import LedgerLookup, PlanRequest, make_plan
from dsgit.remote.testing import emulated_client
from dsgit.undo import RestoreRequest, RevertRequest, plan_restore, plan_revert
from support import Live, read_live, seed_live

UNIVERSE = 7
ENV = Environment(name="local", universe_id=UNIVERSE, url="http://emulator.test")
ALLOW_ALL = (
    Suppression("DSP001", "test: deletes are expected"),
    Suppression("DSP002", "test: prune is expected"),
    Suppression("DSP003", "test: mass deletes are expected", count=10_000),
    Suppression("DSP004", "test: equal values are not renames"),
)


class Clock:
    """A settable clock shared by the emulator and plans (whole seconds apart)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: int = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class World:
    """Everything an undo test needs."""

    def __init__(self, root: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.root = root
        self.emulator = Emulator(db=":memory:", clock=clock, versions="all")  # counts revisions
        self.client = emulated_client(self.emulator, universe_id=UNIVERSE, max_workers=4)

    def close(self) -> None:
        self.client.close()
        self.emulator.close()

    def seed(self, entries: Live) -> None:
        seed_live(self.client, entries)

    def write(self, address: Address, data: EntryData | int) -> None:
        """A game server's write (creates or overwrites)."""
        if address.kind is StoreKind.ORDERED:
            assert isinstance(data, int)
            self.client.update_ordered(
                address.store, address.key, data, address.scope, allow_missing=True
            )
        else:
            assert isinstance(data, EntryData)
            self.client.update_entry(
                address.store, address.key, data, address.scope, allow_missing=True
            )

    def delete(self, address: Address) -> None:
        if address.kind is StoreKind.ORDERED:
            self.client.delete_ordered(address.store, address.key, address.scope)
        else:
            self.client.delete_entry(address.store, address.key, address.scope)

    def live(self, address: Address) -> EntryData | int | None:
        return read_live(self.client, address)

    def snapshot(self, stores: Mapping[StoreKind, tuple[str, ...]]) -> dict[Address, Any]:
        """Every live entry of the stores, comparable (users sorted, attributes as dict)."""
        found: dict[Address, Any] = {}
        for store in stores.get(StoreKind.STANDARD, ()):
            for item in self.client.list_keys(store, "-"):
                address = Address.standard(store, item.key, item.scope)
                data = self.live(address)
                assert isinstance(data, EntryData)
                found[address] = (data.value, dict(data.attributes), tuple(sorted(data.users)))
        for store in stores.get(StoreKind.ORDERED, ()):
            for scope in ("global", "other"):
                for entry in self.client.list_ordered(store, scope):
                    found[entry.address] = entry.value
        return found

    # --- plans and applies ---------------------------------------------------------------------
    def plan(self, declaration: Declaration, keyring: Keyring | None = None) -> Plan:
        return make_plan(
            declaration,
            self.client,
            PlanRequest("local", UNIVERSE),
            ledger=LedgerLookup(self.root),
            keyring=keyring,
        )

    def apply(
        self,
        plan: Plan,
        declaration: Declaration | None,
        keyring: Keyring | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> ApplyResult:
        deps = ApplyDeps(
            root=self.root,
            env=ENV,
            api=self.client,
            declaration=declaration,
            keyring=keyring,
            actor="tester",
        )
        if clock is not None:
            deps = replace(deps, clock=clock)
        return apply_plan(plan, deps, ApplyOptions(workers=4))

    def last_apply(self) -> AppliedRun:
        return list_applies(self.root)[-1]

    def revert(
        self,
        run: AppliedRun,
        declaration: Declaration,
        keyring: Keyring | None = None,
        **kw: Any,
    ) -> Plan:
        request = RevertRequest(run.apply_id, "local", UNIVERSE, **kw)
        return plan_revert(
            self.root, run, self.client, request, declaration=declaration, keyring=keyring
        )

    def restore(
        self,
        at: datetime,
        declaration: Declaration,
        keyring: Keyring | None = None,
        **kw: Any,
    ) -> Plan:
        request = RestoreRequest(at, "local", UNIVERSE, **kw)
        return plan_restore(self.client, request, declaration=declaration, keyring=keyring)
