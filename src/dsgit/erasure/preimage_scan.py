"""Pre-images in ``audit/preimages/`` that hold a user's data, and their purge.

A pre-image holds the user when its entry is one the erasure plans to erase or edit, when a
template or by-name rule names its address for the user, or when its data holds the user
(``users`` metadata, or the id at a rule's pointers). Encrypted pre-images are judged by their
address alone (their data needs a key to read).

The purge deletes those files and leaves ``_erased.txt`` in each apply's folder: the salted
hashes of the addresses whose pre-images an erasure removed, so ``dsgit revert`` of that apply
says why it cannot bring them back (the file is not ``*.json``: pre-image readers skip it).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from dsgit.apply.preimages import PREIMAGE_DIR, PreImageStore, apply_ids
from dsgit.erasure.match import decide
from dsgit.erasure.policy import ErasurePolicy, StoreTemplate, expand
from dsgit.erasure.proof import hashed_address
from dsgit.model.entry import Address, EntryData, StoreKind

__all__ = [
    "ERASED_FILE",
    "PurgeTargets",
    "erased_addresses",
    "names_user",
    "preimages_holding",
    "purge",
    "purge_targets",
]

ERASED_FILE = "_erased.txt"


def names_user(policy: ErasurePolicy, address: Address, user: int) -> bool:
    """True when a template or by-name rule of ``policy`` names ``address`` for ``user``."""
    for template in policy.templates:
        if isinstance(template, StoreTemplate):
            if address.kind is StoreKind.STANDARD and address.store == expand(template.store, user):
                return True
        elif (address.kind, address.store, address.scope, address.key) == (
            template.kind,
            expand(template.store, user),
            expand(template.scope, user),
            expand(template.key, user),
        ):
            return True
    for rule in policy.rules:
        if (
            rule.by_name
            and rule.kind is address.kind
            and fnmatchcase(address.store, rule.store_for(user))
            and rule.scope in ("-", address.scope)
            and rule.selects_key(address.key, user)
        ):
            return True
    return False


def _holds(policy: ErasurePolicy, address: Address, data: EntryData, user: int) -> bool:
    for rule in policy.rules:
        if rule.by_name or rule.kind is not address.kind:
            continue
        if not fnmatchcase(address.store, rule.store_for(user)):
            continue
        if decide(rule, data, user) is not None:
            return True
    return user in data.users


def preimages_holding(
    root: Path, policy: ErasurePolicy, user: int, planned: Iterable[Address] = ()
) -> list[str]:
    """Repository-relative paths of the pre-images holding ``user``'s data, sorted (and,
    with ``planned``, every pre-image of those addresses)."""
    folder = root / PREIMAGE_DIR
    if not folder.is_dir():
        return []
    wanted = set(planned)
    found = []
    for path in sorted(folder.rglob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            address = Address.parse(raw["address"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a pre-image dsgit can read; `audit verify` reports those
        holds = address in wanted or names_user(policy, address, user)
        data = raw.get("data")
        if not holds and isinstance(data, dict):
            entry = EntryData(
                data.get("value"),
                dict(data.get("attributes") or {}),
                tuple(data.get("users") or ()),
            )
            holds = _holds(policy, address, entry, user)
        if holds:
            found.append(path.relative_to(root).as_posix())
    return found


def _note_erased(apply_folder: Path, salt: str, addresses: Iterable[str]) -> None:
    """Add the addresses' salted hashes to the folder's ``_erased.txt`` (atomically: a crash
    leaves the old list or the new one, never a truncated one)."""
    note = apply_folder / ERASED_FILE
    known = set(note.read_text(encoding="ascii").split()) if note.is_file() else set()
    known.update(hashed_address(salt, a) for a in addresses)
    temporary = note.with_name(f".{note.name}.{os.getpid()}.tmp")
    temporary.write_text("".join(f"{h}\n" for h in sorted(known)), encoding="ascii")
    os.replace(temporary, note)


@dataclass(frozen=True)
class PurgeTargets:
    """The pre-image files an erasure removes, found before anything is removed, so the
    journals' copies of each are masked first (a crash between the two must not leave a
    journal that writes a removed pre-image back, with nothing left to say which)."""

    files: tuple[tuple[str, str, str], ...]  # (repository-relative path, apply id, address)
    own: tuple[tuple[str, str], ...]  # (own apply id, address) of the erasure's own folder
    own_folder: Path | None

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """``(apply id, address)`` of every file that goes, for the journal purge."""
        return [(apply_id, named) for _, apply_id, named in self.files] + list(self.own)


def purge_targets(
    root: Path,
    paths: Iterable[str],
    own_apply: str | None,
    changed: Iterable[Address] = (),
) -> PurgeTargets:
    """The pre-images at ``paths``, every pre-image of the ``changed`` addresses (in any
    apply's folder) and the whole pre-image folder of ``own_apply`` (the erasure's own, which
    holds what it just erased)."""
    base = root / PREIMAGE_DIR
    wanted = [path for path in paths if ".." not in Path(path).parts]
    if base.is_dir():
        targets = list(changed)
        for apply_id in apply_ids(root):
            if apply_id == own_apply:
                continue
            store = PreImageStore(root, apply_id, None)
            for address in targets:
                path = store.path_for(address)
                if path.is_file():
                    wanted.append(path.relative_to(root).as_posix())
    files: list[tuple[str, str, str]] = []
    for relative in dict.fromkeys(wanted):
        path = root / relative
        if base not in path.parents:
            continue  # the plan names only pre-images; anything else is not ours to delete
        try:
            named = str(json.loads(path.read_text(encoding="utf-8"))["address"])
        except FileNotFoundError:
            continue
        except (OSError, ValueError, KeyError, TypeError):
            named = relative
        files.append((relative, path.relative_to(base).parts[0], named))
    own: list[tuple[str, str]] = []
    own_folder = base / own_apply if own_apply else None
    if own_apply and own_folder is not None and own_folder.is_dir():
        for path in own_folder.rglob("*.json"):
            try:
                named = str(json.loads(path.read_text(encoding="utf-8"))["address"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            own.append((own_apply, named))
    return PurgeTargets(tuple(files), tuple(own), own_folder)


def purge(root: Path, salt: str, targets: PurgeTargets) -> int:
    """Delete the ``targets`` (after their journal copies were masked), noting each apply
    folder's erased addresses first; idempotent. The number of files that went."""
    base = root / PREIMAGE_DIR
    by_apply: dict[str, list[str]] = {}
    for _, apply_id, named in targets.files:
        by_apply.setdefault(apply_id, []).append(named)
    for apply_id, addresses in by_apply.items():
        _note_erased(base / apply_id, salt, addresses)
    for relative, _, _ in targets.files:
        (root / relative).unlink(missing_ok=True)
    if targets.own_folder is not None and targets.own_folder.is_dir():
        shutil.rmtree(targets.own_folder)
    return len(targets.files) + len(targets.own)


def erased_addresses(root: Path, apply_id: str) -> frozenset[str]:
    """The salted address hashes whose pre-images an erasure purged from ``apply_id``."""
    note = root / PREIMAGE_DIR / apply_id / ERASED_FILE
    if not note.is_file():
        return frozenset()
    return frozenset(note.read_text(encoding="ascii").split())
