"""Applying plans (DESIGN.md §6; user guide: docs/applying.md).

:func:`apply_plan` runs a saved plan: checks, the environment lock (a lease in the universe),
an optional snapshot, per-entry compare-and-swap writes journaled for resume, pre-images of
everything overwritten or deleted, and audit records. Modules:

- ``checks``: what must hold before anything is written;
- ``lock``: the lease in ``_dsgit/global/lock``; ``lock_admin``: ``dsgit lock status|release``;
- ``journal``: ``.dsgit/journal/<plan digest>.jsonl``, fsync'd, for resume;
- ``execute``: one change with compare-and-swap (and the resume decision);
- ``schedule``: changes in flight concurrently, stopping at the first fault;
- ``preimages``: ``audit/preimages/<apply id>/...`` (the undo commands read them);
- ``secrets``: sensitive placeholders and ``ENC[...]`` values turned into what is written;
- ``audit``: the ledger records of a run; ``progress``: bars and plain lines;
- ``stop_points``: a test-only hook that kills apply at a named point (crash tests);
- ``run``: the use case tying them together, ending atomically: ledger records, then the
  journal's ``end``, then the lease released.
"""

from __future__ import annotations

from dsgit.apply.preimages import PreImage, load, load_preimages
from dsgit.apply.result import ApplyResult, ApplyStatus, ChangeResult
from dsgit.apply.run import ApplyDeps, ApplyOptions, apply_plan

__all__ = [
    "ApplyDeps",
    "ApplyOptions",
    "ApplyResult",
    "ApplyStatus",
    "ChangeResult",
    "PreImage",
    "apply_plan",
    "load",
    "load_preimages",
]
