"""Where the ledger lives under ``audit/`` (docs/ledger.md).

::

    audit/ledger/<environment>/<apply id>.jsonl   one file per apply (or other batch), one chain
                                                  per environment across the files
    audit/ledger-v1.jsonl                         the single-file ledger of earlier releases,
                                                  after `dsgit audit migrate`: frozen, the
                                                  common first part of every environment's chain
    audit/ledger.jsonl                            that file before migration (read, never
                                                  appended to)

Each apply writes only its own file, so two branches that applied never edit the same file and
git merges them without conflicts; the order is in the records (``seq``, ``prev``), not in the
files. Environment names and batch names are path-encoded, so neither can leave the folder.
"""

from __future__ import annotations

from pathlib import Path

from dsgit.errors import ConfigError, Location
from dsgit.model.encoding import decode_segment, encode_segment
from dsgit.yamlio.safe_paths import safe_path

__all__ = [
    "ARCHIVE_FILE",
    "CHAINS_DIR",
    "LEGACY_FILE",
    "batch_path",
    "chain_dir",
    "chain_files",
    "environments",
]

CHAINS_DIR = "audit/ledger"
LEGACY_FILE = "audit/ledger.jsonl"
ARCHIVE_FILE = "audit/ledger-v1.jsonl"
SUFFIX = ".jsonl"


def chain_dir(root: Path, environment: str) -> Path:
    if not environment:
        raise ConfigError("an environment name is needed for the ledger", Location(CHAINS_DIR))
    return root / CHAINS_DIR / encode_segment(environment)


def batch_path(root: Path, environment: str, batch: str) -> Path:
    """``audit/ledger/<env>/<batch>.jsonl``; a batch name that is not one plain file name is
    refused (it comes from an apply id, which a command line or a plan could carry)."""
    if not batch or batch in (".", "..") or "/" in batch or "\\" in batch or "\0" in batch:
        raise ConfigError(f"{batch!r} is not an apply id", Location(CHAINS_DIR))
    return chain_dir(root, environment) / (batch + SUFFIX)


def environments(root: Path) -> list[str]:
    """The environments that have a chain in this checkout, sorted."""
    folder = root / CHAINS_DIR
    if not folder.is_dir():
        return []
    names = []
    for child in folder.iterdir():
        if not child.is_dir():
            continue
        try:
            names.append(decode_segment(child.name))
        except ValueError:
            continue  # not a folder dsgit made; verify lists only what it can name
    return sorted(names)


def chain_files(root: Path, environment: str) -> list[Path]:
    """The files of one environment's chain, sorted by name (apply ids sort by time)."""
    folder = chain_dir(root, environment)
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX))
    for path in files:
        safe_path(root, path)  # DS106: a ledger file committed as a symlink is never read
    return [p for p in files if p.is_file()]


def relative(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
