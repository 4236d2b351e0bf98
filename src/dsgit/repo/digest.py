"""The digest of a declaration: sha256 over its content (not its comments or layout), so the
same declaration read from the working tree or from a commit has the same digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict

from dsgit.model.declaration import StoreDeclaration
from dsgit.model.entry import JSONValue, StoreKind

__all__ = ["declaration_digest"]


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
        hasher.update(_canonical(["store", str(kind), name, policy]) + b"\n")
        for scope, key in sorted(store.entries):
            entry = store.entries[(scope, key)]
            suppress = [[s.code, s.reason, s.count] for s in entry.suppress]
            moved = str(entry.moved_from) if entry.moved_from is not None else None
            data = entry.data
            place = [str(kind), name, scope, key]
            body = [place, data.value, dict(data.attributes), list(data.users)]
            hasher.update(_canonical(["entry", *body, moved, suppress]) + b"\n")
    return "sha256:" + hasher.hexdigest()
