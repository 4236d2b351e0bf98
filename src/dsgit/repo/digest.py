"""The digest of a declaration: sha256 over its content (not its comments or layout), so the
same declaration read from the working tree or from a commit has the same digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict

from dsgit.model.declaration import StoreDeclaration
from dsgit.model.entry import JSONValue, StoreKind
from dsgit.model.overrides import EnvironmentOverride
from dsgit.repo.source import FileType, RepoSource

__all__ = ["POLICY_FILES", "declaration_digest", "policy_digests"]

# Files every plan depends on whatever it changes (DESIGN.md §5): a new rule must re-plan.
POLICY_FILES = ("policies/approvals.yaml",)


def _canonical(value: object) -> bytes:
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode("utf-8")


def declaration_digest(
    stores: Mapping[tuple[StoreKind, str], StoreDeclaration],
    schemas: Mapping[str, JSONValue],
) -> str:
    """``sha256:<hex>`` of the stores (policies and entries) and schemas, in sorted order."""
    hasher = hashlib.sha256()
    for path in sorted(schemas):
        hasher.update(_canonical(["schema", path, schemas[path]]) + b"\n")
    for kind, name in sorted(stores):
        store = stores[(kind, name)]
        policy = asdict(store.policy)
        for suppression in policy["suppress"]:
            suppression.pop("file", None)
            suppression.pop("line", None)
        header: list[object] = ["store", str(kind), name, policy]
        if store.environments is not None:  # absent when unset: old digests stay as they were
            header.append(["environments", list(store.environments)])
        hasher.update(_canonical(header) + b"\n")
        for scope, key in sorted(store.entries):
            entry = store.entries[(scope, key)]
            suppress = [[s.code, s.reason, s.count] for s in entry.suppress]
            moved = str(entry.moved_from) if entry.moved_from is not None else None
            data = entry.data
            place = [str(kind), name, scope, key]
            body = [place, data.value, dict(data.attributes), list(data.users)]
            record: list[object] = ["entry", *body, moved, suppress]
            if entry.environments:
                record.append(_overrides(entry.environments))
            hasher.update(_canonical(record) + b"\n")
    return "sha256:" + hasher.hexdigest()


def _overrides(overrides: Mapping[str, EnvironmentOverride]) -> dict[str, object]:
    return {
        name: [
            override.patch if override.has_patch else ["no patch"],
            None if override.attributes is None else dict(override.attributes),
            None if override.users is None else list(override.users),
        ]
        for name, override in overrides.items()
    }


def policy_digests(source: RepoSource) -> dict[str, str]:
    """``sha256:<hex>`` of the bytes of each of :data:`POLICY_FILES`, or ``absent``.

    Bytes, not content: a policy is short and reviewed as text, so any edit counts. A path that
    is not a regular file (a symlink, which validation refuses) counts as its type.
    """
    found: dict[str, str] = {}
    for path in POLICY_FILES:
        kind = source.kind(path)
        if kind is None:
            found[path] = "absent"
        elif kind is FileType.FILE:
            found[path] = "sha256:" + hashlib.sha256(source.read(path)).hexdigest()
        else:
            found[path] = f"not a file ({kind.value})"
    return found
