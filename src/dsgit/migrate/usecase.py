"""``dsgit migrate plan``: the live scan with the migration's visitor, then the plan.

The scan (:mod:`dsgit.scan`) lists and reads within the budget, streams entries to
:class:`~dsgit.migrate.visitor.MigrationVisitor` and checkpoints (``.dsgit/scans/
migrate-<id>-<env>.json`` from the CLI): a killed plan resumes where it stopped (``restart``
starts again). Once the plan is out, :meth:`MigrationRun.done` removes the checkpoint and its
records, so the next run reads live data afresh (after an apply, it finds the entries
migrated); until then a rerun rebuilds the same plan from the finished checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsgit.crypto import Keyring
from dsgit.migrate.files import MigrationFile
from dsgit.migrate.planner import MigrationRequest, plan_from_records
from dsgit.migrate.visitor import MigrationVisitor, Tally
from dsgit.model.declaration import Declaration
from dsgit.plan.model import Plan
from dsgit.scan import (
    ALL_SCOPES,
    ScanClient,
    ScanObserver,
    ScanOptions,
    ScanResult,
    Selection,
    Shard,
    run_scan,
)

__all__ = ["MigrationRun", "ScanSettings", "plan_migration"]


@dataclass(frozen=True)
class ScanSettings:
    """How the scan runs: where it checkpoints, whether it starts again, which shard."""

    checkpoint: Path | None = None
    restart: bool = False
    shard: Shard | None = None
    every_entries: int = 1000
    every_seconds: float = 30.0


@dataclass(frozen=True)
class MigrationRun:
    """The plan, the counts, and the finished scan behind them: call :meth:`done` once the
    plan is out."""

    plan: Plan
    tally: Tally
    scan: ScanResult

    def done(self) -> None:
        self.scan.discard()


def plan_migration(
    client: ScanClient,
    source: MigrationFile,
    declaration: Declaration,
    request: MigrationRequest,
    *,
    keyring: Keyring | None = None,
    scan: ScanSettings | None = None,
    observer: ScanObserver | None = None,
) -> MigrationRun:
    """Scan the migration's selection and plan it (see the module docstring)."""
    settings = scan or ScanSettings()
    migration = source.migration
    chosen = migration.selection
    scope = ALL_SCOPES if chosen.scope in ("*", ALL_SCOPES) else chosen.scope
    selection = Selection((chosen.store,), scopes=(scope,), keys=chosen.keys, prefix=chosen.prefix)
    visitor = MigrationVisitor(
        migration, declaration, select=request.select, allow_locked=request.allow_locked
    )
    options = ScanOptions(
        shard=settings.shard,
        checkpoint=settings.checkpoint,
        every_entries=settings.every_entries,
        every_seconds=settings.every_seconds,
        # what else decides the result: a resumed scan must be of the same migration and run
        identity={
            "migration": source.digest,
            "declaration": declaration.source.digest,
            "allow_locked": request.allow_locked,
            "targets": list(request.targets),
            "excludes": list(request.excludes),
        },
        restart=settings.restart,
    )
    result = run_scan(client, [selection], visitor, options, observer=observer)
    try:
        plan = plan_from_records(
            source, result.records(), visitor.tally, declaration, request, keyring=keyring
        )
    except BaseException:
        result.close()
        raise
    result.close()
    return MigrationRun(plan, visitor.tally, result)
