"""The schema header of each file kind the importer writes (paths: :mod:`dsgit.model.layout`)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath

from dsgit.model.layout import EDITOR_SCHEMA_DIR

__all__ = ["schema_header"]

_FALLBACK_IDS = {
    "entry": "https://dsgit.dev/schemas/entry.schema.json",
    "ordered-scope": "https://dsgit.dev/schemas/ordered-scope.schema.json",
    "store": "https://dsgit.dev/schemas/store.schema.json",
    "ordered-store": "https://dsgit.dev/schemas/ordered-store.schema.json",
    "configs": "https://dsgit.dev/schemas/configs.schema.json",
    "erasure": "https://dsgit.dev/schemas/erasure.schema.json",
}


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
