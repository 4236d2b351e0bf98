"""``dsgit import``: adopt live entries into repository files, keeping comments on re-import.

User guide: docs/import.md. Entry point: :func:`import_live`.
"""

from __future__ import annotations

from dsgit.importer.report import FileAction, FileResult, ImportReport
from dsgit.importer.run import (
    ImportOptions,
    PendingImport,
    PolicySource,
    import_live,
    read_import,
    write_import,
)

__all__ = [
    "FileAction",
    "FileResult",
    "ImportOptions",
    "ImportReport",
    "PendingImport",
    "PolicySource",
    "import_live",
    "read_import",
    "write_import",
]
