"""Which Open Cloud permission scopes a request needs, from the packaged OpenAPI files.

Each operation of ``openapi/*.min.json`` lists its ``x-roblox-scopes``; a 403 is explained by
naming them (``universe-datastores.objects:list``), so the fix says which scope to add to the
key instead of guessing.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources

__all__ = ["scopes_for"]

_FILES = (
    "openapi-v2-subset.min.json",
    "datastores-v1.min.json",
    "ordered-datastores-v1.min.json",
)
# Paths of the v1 files are relative to their own base URL.
_PREFIX = {
    "datastores-v1.min.json": "/datastores",
    "ordered-datastores-v1.min.json": "/ordered-data-stores",
}


def _pattern(template: str) -> re.Pattern[str]:
    escaped = re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(template))
    return re.compile(f"^{escaped}$")


@functools.cache
def _operations() -> tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...]:
    found: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = []
    folder = resources.files("dsgit") / "openapi"
    for name in _FILES:
        document = json.loads((folder / name).read_text(encoding="utf-8"))
        prefix = _PREFIX.get(name, "")
        for template, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                if not isinstance(operation, dict):
                    continue
                scopes = tuple(
                    str(item["name"])
                    for item in operation.get("x-roblox-scopes", [])
                    if isinstance(item, dict) and "name" in item
                )
                found.append((method.upper(), _pattern(prefix + template), scopes))
    # Longer templates first: ``.../entries/{id}:increment`` before ``.../entries/{id}``.
    found.sort(key=lambda item: -len(item[1].pattern))
    return tuple(found)


def scopes_for(method: str, path: str) -> tuple[str, ...]:
    """The scopes the operation at ``method path`` needs (empty when unknown)."""
    bare = path.split("?", 1)[0]
    for verb, pattern, scopes in _operations():
        if verb == method.upper() and pattern.match(bare):
            return scopes
    return ()
