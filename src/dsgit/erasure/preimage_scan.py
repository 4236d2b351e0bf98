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
import shutil
from collections.abc import Iterable
from fnmatch import fnmatchcase
from pathlib import Path

from dsgit.apply.preimages import PREIMAGE_DIR, PreImageStore, apply_ids
from dsgit.erasure.match import decide
from dsgit.erasure.policy import ErasurePolicy, StoreTemplate, expand
from dsgit.erasure.proof import hashed_address
from dsgit.model.entry import Address, EntryData, StoreKind

__all__ = ["ERASED_FILE", "erased_addresses", "names_user", "preimages_holding", "purge"]

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
    note = apply_folder / ERASED_FILE
    known = set(note.read_text(encoding="ascii").split()) if note.is_file() else set()
    known.update(hashed_address(salt, a) for a in addresses)
    note.write_text("".join(f"{h}\n" for h in sorted(known)), encoding="ascii")


def purge(
    root: Path,
    salt: str,
    paths: Iterable[str],
    own_apply: str | None,
    changed: Iterable[Address] = (),
) -> list[tuple[str, str]]:
    """Delete the pre-images at ``paths``, every pre-image of the ``changed`` addresses (in
    any apply's folder) and the whole pre-image folder of ``own_apply`` (the erasure's own,
    which holds what it just erased); idempotent. The ``(apply id, address)`` of each file
    that went (the own apply's included), for the journal purge."""
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
    removed: list[tuple[str, str]] = []
    by_apply: dict[Path, list[str]] = {}
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
        apply_folder = base / path.relative_to(base).parts[0]
        by_apply.setdefault(apply_folder, []).append(named)
        path.unlink(missing_ok=True)
        removed.append((apply_folder.name, named))
    for apply_folder, addresses in by_apply.items():
        _note_erased(apply_folder, salt, addresses)
    if own_apply:
        own = base / own_apply
        if own.is_dir():
            for path in own.rglob("*.json"):
                try:
                    named = str(json.loads(path.read_text(encoding="utf-8"))["address"])
                except (OSError, ValueError, KeyError, TypeError):
                    continue
                removed.append((own_apply, named))
            shutil.rmtree(own)
    return removed


def erased_addresses(root: Path, apply_id: str) -> frozenset[str]:
    """The salted address hashes whose pre-images an erasure purged from ``apply_id``."""
    note = root / PREIMAGE_DIR / apply_id / ERASED_FILE
    if not note.is_file():
        return frozenset()
    return frozenset(note.read_text(encoding="ascii").split())
