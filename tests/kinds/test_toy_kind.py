"""A fourth resource kind needs its own module and one registration line, nothing else.

``NotesKind`` below is that module: notice boards kept in ``notes/<board>/<key>.yaml`` (one
string value per file), held live by a toy service of its own. The test registers it with one
line, then drives the real loader, planner, plan file, renderers, approvals-free apply and a
second plan through it: none of them names the kind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from dsgit.apply.execute import ChangeExecutor
from dsgit.apply.result import ChangeResult
from dsgit.apply.run import ApplyDeps, apply_plan
from dsgit.apply.step import ABSENT, Step
from dsgit.config import Environment
from dsgit.emulator import Emulator
from dsgit.kinds import kind_of, register, registered, unregister
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.model.declaration import DeclaredEntry, StoreDeclaration, StorePolicy
from dsgit.model.encoding import decode_segment
from dsgit.model.entry import Address, EntryData, LiveEntry, StoreKind
from dsgit.plan.digest import entry_digest
from dsgit.plan.io import plan_from_json, plan_to_json
from dsgit.plan.live import ScopeListing
from dsgit.plan.model import Action, Diagnostic, PlanKind
from dsgit.plan.targets import AddressFilter
from dsgit.planning.reading import Reading
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.remote.testing import emulated_client
from dsgit.render.markdown import render_markdown
from dsgit.render.text import render_text
from dsgit.repo import load_declaration
from dsgit.repo.loader import RepositoryReader
from dsgit.repo.source import SourceFile
from support import LOCAL_CONFIG, write_files

# --- the kind's module (what a contributor writes) ---------------------------------------------

NOTES = StoreKind.define("notes")


@dataclass
class NoticeBoards:
    """The toy service holding the notes live: (board, key) -> (text, version)."""

    notes: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)

    def get(self, board: str, key: str) -> LiveEntry | None:
        found = self.notes.get((board, key))
        if found is None:
            return None
        text, version = found
        revision = str(version)
        return LiveEntry(board, "", key, text, {}, (), revision, revision, "t", "t")


@dataclass(frozen=True)
class NotesKind:
    service: NoticeBoards
    name: StoreKind = NOTES
    directory: str = "notes"

    def load(self, loader: RepositoryReader) -> Iterator[StoreDeclaration]:
        for segment, files in sorted(
            loader.group(self.directory, 2, "notes/<board>/<key>.yaml").items()
        ):
            board = decode_segment(segment)
            entries = {}
            for parts, item in files.entries:
                document = loader.yaml(SourceFile(item.path, item.type))
                if document is None or not isinstance(document.value, str):
                    loader.add(item.path, "DS108", "a note is one string")
                    continue
                key = decode_segment(parts[0][: -len(".yaml")])
                address = Address(NOTES, board, "", key)
                entries[("", key)] = DeclaredEntry(address, EntryData(document.value), item.path)
            yield StoreDeclaration(NOTES, board, StorePolicy(), entries)

    def read_live(self, api: object, reading: Reading) -> None:
        for (kind, board, scope), keys in reading.wanted.items():
            if kind is NOTES:
                reading.listings[(kind, board, scope)] = ScopeListing(ok=True, keys=frozenset(keys))
                for key in keys:
                    reading.entries[Address(NOTES, board, "", key)] = self.service.get(board, key)

    def read_current(
        self, api: object, addresses: Sequence[Address], into: dict[Address, Any]
    ) -> Diagnostic | None:
        for address in addresses:
            into[address] = self.service.get(address.store, address.key)
        return None

    def execute(
        self, run: ChangeExecutor, step: Step, intent: Mapping[str, Any] | None
    ) -> ChangeResult:
        address = step.change.address
        live = self.service.get(address.store, address.key)
        before = (
            EntryState(True, None, live.revision_id, entry_digest(live.data)) if live else ABSENT
        )
        run.record_intent(step, live is not None, live.data if live else None, before)
        assert step.data is not None and isinstance(step.data.value, str)
        version = int(live.revision_id) + 1 if live else 1
        self.service.notes[(address.store, address.key)] = (step.data.value, version)
        after = EntryState(True, None, str(version), step.after_digest)
        return run.done(step, ChangeOutcome.WRITTEN, before, after)


# --- the test --------------------------------------------------------------------------------


@pytest.fixture
def boards() -> Iterator[NoticeBoards]:
    service = NoticeBoards()
    kind = register(NotesKind(service))  # the one registration line
    try:
        yield service
    finally:
        unregister(kind)


def test_a_fourth_kind_plans_applies_and_replans_through_its_own_module(
    boards: NoticeBoards, tmp_path: Path
) -> None:
    assert kind_of(NOTES).directory == "notes" and len(registered()) == 4
    with pytest.raises(ValueError, match="registered already"):
        register(NotesKind(NoticeBoards()))
    write_files(tmp_path, {"dsgit.yaml": LOCAL_CONFIG, "notes/Lobby/motd.yaml": "Welcome!\n"})
    declaration = load_declaration(tmp_path)
    address = Address(NOTES, "Lobby", "", "motd")
    assert str(address) == "notes:Lobby/motd" and Address.parse(str(address)) == address
    assert declaration.data(address) == EntryData("Welcome!")

    client = emulated_client(Emulator(db=":memory:"), universe_id=1)
    env = Environment(name="local", universe_id=1, url="http://emulator.test")
    request = PlanRequest("local", 1)
    plan = make_plan(declaration, client, request)
    (change,) = plan.changes
    assert change.address == address and change.action is Action.CREATE
    assert "notes:Lobby/motd" in render_text(plan) and "notes:Lobby/motd" in render_markdown(plan)
    saved = plan_from_json(plan_to_json(plan), source="plan.json")
    assert saved == plan and saved.kind is PlanKind.PLAN

    result = apply_plan(saved, ApplyDeps(tmp_path, env, client, declaration, "t"))
    assert result.exit_code == 0, result
    assert boards.notes[("Lobby", "motd")] == ("Welcome!", 1)

    again = make_plan(declaration, client, request)
    assert not again.has_changes
    write_files(tmp_path, {"notes/Lobby/motd.yaml": "Server restarts at 5\n"})
    edited = make_plan(load_declaration(tmp_path), client, request)
    assert [c.action for c in edited.changes] == [Action.UPDATE]
    assert AddressFilter(("notes:Lobby/*",)).may_select_store(NOTES, "Lobby")
    assert not AddressFilter(("notes:Lobby/*",)).may_select_store(NOTES, "Other")
    for pattern, count in (("notes:Lobby/*", 1), ("notes:Other/*", 0), ("Lobby/*", 0)):
        select = replace(request, targets=(pattern,))
        targeted = make_plan(load_declaration(tmp_path), client, select)
        assert len(targeted.changes) == count, pattern


def test_an_unregistered_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="not a resource kind"):
        Address.parse("nosuchkind:Board/key")
    with pytest.raises(ValueError, match="no resource kind 'notes' is registered"):
        kind_of(NOTES)
