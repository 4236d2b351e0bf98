"""The ``_store.yaml`` import writes for each store it creates, and the ownership it holds.

A store is *new* when its folder (``datastores/<store>/`` or ``ordered/<store>/``) does not exist
yet. Only new stores get a ``_store.yaml``, and an existing one is never changed: re-import adopts
data, the settings stay the user's. The ownership of a new store is, in order:

1. ``observed`` when its data looks like player data (:func:`player_data_reason`), whatever
   ``--ownership`` says: making player saves git-owned by accident would let the next plan write
   stale values over them;
2. ``--ownership`` (``ImportOptions.ownership``);
3. the answer of ``choose`` (the CLI prompts on a terminal);
4. undecided: the import is refused before anything is written (a dry run reports it).

A store folder that exists without a ``_store.yaml`` is ``owned`` by default and stays so; when
its data looks like player data the import says so in a note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from dsgit.errors import ConfigError
from dsgit.importer.ownership import (
    OwnershipSource,
    SampledEntry,
    StoreOwnership,
    player_data_reason,
)
from dsgit.model.declaration import Ownership
from dsgit.model.entry import StoreKind
from dsgit.model.layout import settings_file

__all__ = [
    "OwnershipChooser",
    "decide_ownership",
    "player_data_note",
    "refuse_undecided",
    "settings_file",
    "settings_text",
]

OwnershipChooser = Callable[[StoreKind, str, int], Ownership | None]
"""Asks who owns a new store (kind, name, entries found); None: no answer."""

_MEANING = {
    Ownership.OWNED: "git wins: a live difference is planned as an update",
    Ownership.SEED: "created when missing, never overwritten",
    Ownership.OBSERVED: "never written; validated and reported only",
}


def decide_ownership(
    root: Path,
    kind: StoreKind,
    store: str,
    samples: Sequence[SampledEntry],
    *,
    declared: Ownership,
    flag: Ownership | None,
    choose: OwnershipChooser | None,
) -> StoreOwnership:
    """The ownership of one store import writes into; see the module doc for the order."""
    relative = settings_file(kind, store)
    path = root.joinpath(*relative.parts)
    count = len(samples)

    def result(
        ownership: Ownership | None, source: OwnershipSource, reason: str, written: bool
    ) -> StoreOwnership:
        return StoreOwnership(
            kind, store, ownership, source, reason, relative.as_posix(), written, count
        )

    if path.exists() or path.is_symlink():
        return result(declared, OwnershipSource.EXISTING, "its _store.yaml, kept as it is", False)
    if path.parent.exists():
        return result(declared, OwnershipSource.DEFAULT, "no _store.yaml: owned by default", False)
    detected = player_data_reason(kind, store, samples)
    if detected is not None:
        return result(Ownership.OBSERVED, OwnershipSource.DETECTED, detected, True)
    if flag is not None:
        return result(flag, OwnershipSource.FLAG, f"--ownership {flag.value}", True)
    chosen = choose(kind, store, count) if choose is not None else None
    if chosen is not None:
        return result(chosen, OwnershipSource.CHOSEN, "chosen at the prompt", True)
    return result(None, OwnershipSource.UNDECIDED, "needs --ownership", True)


def player_data_note(decision: StoreOwnership, samples: Sequence[SampledEntry]) -> str | None:
    """For a store folder without ``_store.yaml`` (owned by default) whose data looks like
    player data: a note saying so, since import does not change what the user declared."""
    if decision.source is not OwnershipSource.DEFAULT:
        return None
    reason = player_data_reason(decision.kind, decision.store, samples)
    if reason is None:
        return None
    return (
        f"{decision.label} has no _store.yaml, so it is owned (git wins), but {reason}: "
        f"if game servers write it, add `ownership: observed` to {decision.settings_file}"
    )


def settings_text(decision: StoreOwnership, header: str) -> str:
    """The new ``_store.yaml``: the schema header, why import chose, the ownership."""
    assert decision.ownership is not None
    meaning = _MEANING[decision.ownership]
    why = decision.reason if decision.source is not OwnershipSource.CHOSEN else "chosen at import"
    return (
        f"# {header}\n"
        f"# Written by `dsgit import`: {_comment(why)}.\n"
        f"# {decision.ownership.value}: {meaning}.\n"
        f"ownership: {decision.ownership.value}\n"
    )


def _comment(text: str) -> str:
    """One comment line: control characters (from store names or keys) escaped."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


def refuse_undecided(decisions: Sequence[StoreOwnership]) -> None:
    """Raise when a new store has no ownership (nothing has been written yet)."""
    undecided = [d for d in decisions if d.ownership is None]
    if not undecided:
        return
    names = ", ".join(
        f"{d.label} ({d.entries} {'entry' if d.entries == 1 else 'entries'})" for d in undecided
    )
    noun = "store" if len(undecided) == 1 else "stores"
    raise ConfigError(
        f"import would create {len(undecided)} new {noun} whose data does not look like player "
        f"data: {names}. Say who owns {'it' if len(undecided) == 1 else 'them'} with "
        "--ownership owned|seed|observed (owned: git wins; seed: created when missing, never "
        "overwritten; observed: never written), or run import on a terminal to choose per "
        "store. Nothing was written."
    )
