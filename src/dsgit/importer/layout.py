"""Where entries live in the repository (DESIGN.md §1) and the schema header of each file kind."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath

from dsgit.model.encoding import decode_segment, encode_segment
from dsgit.model.entry import Address, StoreKind

__all__ = [
    "DATASTORES_DIR",
    "EDITOR_SCHEMA_DIR",
    "ORDERED_DIR",
    "STORE_FILE",
    "address_of_entry_file",
    "entry_file",
    "ordered_scope_file",
    "schema_header",
]

DATASTORES_DIR = "datastores"
ORDERED_DIR = "ordered"
STORE_FILE = "_store.yaml"
EDITOR_SCHEMA_DIR = "schemas/dsgit"  # where `dsgit init` puts the file schemas for editors
_FALLBACK_IDS = {
    "entry": "https://dsgit.dev/schemas/entry.schema.json",
    "ordered-scope": "https://dsgit.dev/schemas/ordered-scope.schema.json",
    "store": "https://dsgit.dev/schemas/store.schema.json",
    "ordered-store": "https://dsgit.dev/schemas/ordered-store.schema.json",
    "configs": "https://dsgit.dev/schemas/configs.schema.json",
}


def entry_file(address: Address) -> PurePosixPath:
    """``datastores/<store>/<scope>/<key>.yaml`` of a standard entry (segments path-encoded)."""
    store, scope, key = (
        encode_segment(part) for part in (address.store, address.scope, address.key)
    )
    return PurePosixPath(DATASTORES_DIR, store, scope, f"{key}.yaml")


def ordered_scope_file(store: str, scope: str) -> PurePosixPath:
    """``ordered/<store>/<scope>.yaml``: one scope of an ordered data store."""
    return PurePosixPath(ORDERED_DIR, encode_segment(store), f"{encode_segment(scope)}.yaml")


def address_of_entry_file(path: PurePosixPath) -> Address | None:
    """The address of a repository-relative entry file path, None for anything else."""
    parts = path.parts
    if len(parts) != 4 or parts[0] != DATASTORES_DIR or not parts[3].endswith(".yaml"):
        return None
    try:
        store, scope, key = (decode_segment(part) for part in (parts[1], parts[2], parts[3][:-5]))
    except ValueError:
        return None
    return Address(StoreKind.STANDARD, store, scope, key)


@cache
def _schema_id(kind: str) -> str:
    url = _FALLBACK_IDS[kind]
    try:
        text = resources.files("dsgit.schemas").joinpath(f"{kind}.schema.json").read_text("utf-8")
        found = json.loads(text).get("$id")
    except (FileNotFoundError, ModuleNotFoundError, ValueError):
        found = None
    return found if isinstance(found, str) and found else url


def schema_header(kind: str, root: Path | None = None, file: PurePosixPath | None = None) -> str:
    """The ``yaml-language-server: $schema=…`` line of a file kind (``entry``, ``ordered-scope``,
    ``store``, ``ordered-store``).

    When the repository has the editor copies of the file schemas (``schemas/dsgit/``, written
    by ``dsgit init``), the line points at them relatively, as the files ``init`` writes do, so
    editors validate offline; otherwise it names the schema's ``$id``.
    """
    name = f"{kind}.schema.json"
    if kind == "entry" and root is not None and file is not None:
        from dsgit.repo.entry_schemas import entry_header  # the store's own, when generated

        found = entry_header(root, file)
        if found is not None:
            return found
    if root is not None and file is not None and (root / EDITOR_SCHEMA_DIR / name).is_file():
        up = "../" * (len(file.parts) - 1)
        return f"yaml-language-server: $schema={up}{EDITOR_SCHEMA_DIR}/{name}"
    return f"yaml-language-server: $schema={_schema_id(kind)}"
