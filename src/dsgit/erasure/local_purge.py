"""What applying an erasure removes from this checkout besides the live entries.

Once every change of an erasure plan is written (:func:`dsgit.apply.run.apply_plan` and the
segmented apply call :func:`purge_after_erasure`):

1. **Pre-images** (``audit/preimages``): those the plan lists (their data or address holds
   the user), every pre-image of an entry the plan changed (any apply's), and the erasure's
   own; each apply's folder keeps ``_erased.txt``, the salted hashes of the addresses that
   went, so ``dsgit revert`` of that apply says why it cannot bring them back
   (:mod:`dsgit.erasure.preimage_scan`).
2. **Apply journals** (``.dsgit/journal``): the copies of those pre-images in the journals'
   intents, which a rerun of an older plan would otherwise write back
   (:mod:`dsgit.apply.journal_purge`).
3. **Scan checkpoints** (``.dsgit/scans``): a checkpoint and its records hold partial results
   (retention and migration records hold whole values, insight figures hold samples), so every
   checkpoint whose scan lists a store the erasure changed is deleted; that scan starts again
   next run. ``dsgit erase``'s own records hold masked changes only, and its finished
   checkpoint is deleted once the plan is saved.

Idempotent: a rerun of the finished erasure purges again what a journal restored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dsgit.apply.journal_purge import redact_journals
from dsgit.erasure.preimage_scan import purge, purge_targets
from dsgit.model.entry import Address, StoreKind
from dsgit.scan.checkpoint import CHECKPOINT_FORMAT, records_path

__all__ = ["SCANS_DIR", "LocalPurge", "purge_after_erasure", "purge_checkpoints"]

SCANS_DIR = ".dsgit/scans"


@dataclass
class LocalPurge:
    """What went: pre-image files, journal lines (and files), checkpoints; busy journals."""

    preimages: int = 0
    journal_lines: int = 0
    journals: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        found = []
        if self.preimages:
            found.append(f"erasure: purged {self.preimages} pre-image(s) in audit/preimages")
        if self.journal_lines:
            found.append(
                f"erasure: redacted {self.journal_lines} pre-image(s) in "
                f"{len(self.journals)} local apply journal(s)"
            )
        for path in self.busy:
            found.append(
                f"erasure: {path} is held by a running apply and was not redacted, and the "
                "pre-images stay until it is; apply this erasure plan again once it has finished"
            )
        if self.checkpoints:
            found.append(
                f"erasure: deleted {len(self.checkpoints)} scan checkpoint(s) of the stores "
                f"it changed ({', '.join(self.checkpoints)}); those scans start again"
            )
        return found


def purge_checkpoints(root: Path, stores: Iterable[tuple[StoreKind, str]]) -> list[str]:
    """Delete the scan checkpoints (and records) under ``.dsgit/scans`` whose lanes list one
    of ``stores``; their repository-relative paths."""
    folder = root / SCANS_DIR
    wanted = {(kind.value, store) for kind, store in stores}
    if not wanted or not folder.is_dir() or folder.is_symlink():
        return []
    deleted = []
    for path in sorted(folder.rglob("*.json")):
        if path.is_symlink():
            continue
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(raw, dict) or raw.get("format") != CHECKPOINT_FORMAT:
            continue
        lanes = raw.get("lanes") or []
        listed = {(lane.get("kind"), lane.get("store")) for lane in lanes if isinstance(lane, dict)}
        if listed & wanted:
            path.unlink(missing_ok=True)
            records_path(path).unlink(missing_ok=True)
            deleted.append(path.relative_to(root).as_posix())
    return deleted


def purge_after_erasure(
    root: Path,
    salt: str,
    listed: Iterable[str],
    changed: Iterable[Address],
    own_apply: str,
    *,
    held_journal: Path | None = None,
) -> LocalPurge:
    """Purge what the erasure names (see the module docstring)."""
    addresses = list(dict.fromkeys(changed))
    targets = purge_targets(root, listed, own_apply, addresses)
    # Journals first: once a pre-image file is gone, a rerun no longer finds which journal
    # copies to mask, and a rerun of an older plan would write it back from them.
    journals = redact_journals(
        root,
        addresses={str(a) for a in addresses},
        preimages=set(targets.pairs),
        own_apply=own_apply,
        held=held_journal,
    )
    # A journal another apply holds is masked by a rerun of this plan, which needs the files
    # to find its copies: they stay until then (the note says to apply again).
    removed = 0 if journals.busy else purge(root, salt, targets)
    checkpoints = purge_checkpoints(root, {(a.kind, a.store) for a in addresses})
    return LocalPurge(removed, journals.lines, journals.files, journals.busy, checkpoints)
