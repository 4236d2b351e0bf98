"""The diagnostic catalogue: every code planning emits, its severity and its suggested fix.

Codes are stable: a code is never reused for another meaning. docs/planning.md lists them all
(a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass

from dsgit.plan.model import Diagnostic, Severity

__all__ = ["CATALOG", "READ_FAILURES", "Code", "diagnostic"]


@dataclass(frozen=True)
class Code:
    """One diagnostic kind: a stable code, its severity, a title and the usual fix."""

    code: str
    severity: Severity
    title: str
    fix: str | None

    @property
    def suppressible(self) -> bool:
        return self.severity is Severity.BLOCKING


_B, _E, _W, _I = Severity.BLOCKING, Severity.ERROR, Severity.WARNING, Severity.INFO

_CODES = (
    # destructive: block apply until suppressed in the declaration with a reason
    Code("DSP001", _B, "entry delete", "suppress DSP001 on the store (or entry) with a reason"),
    Code(
        "DSP002",
        _B,
        "prune delete",
        "add a file for the key to keep it, or suppress DSP002 in _store.yaml with a reason",
    ),
    Code(
        "DSP003",
        _B,
        "mass delete",
        "check the listing and the declaration; to proceed, suppress DSP003 in _store.yaml "
        "with a reason and `count:` at least the number of deletions",
    ),
    Code(
        "DSP004",
        _B,
        "rename without moved_from",
        "add `moved_from: <old address>` to the new entry's file, or suppress DSP004",
    ),
    Code(
        "DSP005",
        _B,
        "write to a profile holding an active session lock",
        "wait until the player leaves (the game releases the lock), or suppress DSP005",
    ),
    # never suppressible
    Code("DSP010", _E, "declared value fails its schema", "fix the value or the schema"),
    Code("DSP011", _E, "listing failed", "retry the plan; the message says what failed"),
    Code("DSP012", _E, "listing throttled", "retry later or lower `budget.share`"),
    Code(
        "DSP013",
        _E,
        "listing inconsistent with reads",
        "retry: Open Cloud listed no keys although entries exist",
    ),
    Code("DSP014", _E, "entry read failed", "retry the plan; the message says what failed"),
    Code(
        "DSP015",
        _E,
        "invalid moved_from",
        "point moved_from at an undeclared entry of the same kind",
    ),
    Code(
        "DSP016",
        _E,
        "value over the 4 MB limit",
        "make the value smaller than 4,194,304 characters",
    ),
    Code(
        "DSP017",
        _E,
        "encrypted value cannot be compared",
        "provide the encryption key (DSGIT_ENCRYPTION_KEY or the key file)",
    ),
    Code("DSP018", _E, "entry not read", "retry the plan"),
    # warnings: shown prominently, never block
    Code(
        "DSP020",
        _W,
        "overwrites a change made outside git",
        "import the live value first if it should be kept (`dsgit import`)",
    ),
    Code(
        "DSP021", _W, "type change", "check that game code reading this path handles the new type"
    ),
    Code(
        "DSP022",
        _W,
        "live entries fail the schema",
        "migrate the live data (`dsgit migrate plan`) or relax the schema",
    ),
    Code("DSP023", _W, "value near the 4 MB limit", "split the value before it reaches the limit"),
    Code(
        "DSP024",
        _W,
        "counter is not an integer",
        "counters must hold integers live and in git; planned as a plain update",
    ),
    # information
    Code("DSP030", _I, "rename", None),
    Code("DSP031", _I, "seed entries differ live (kept)", None),
    Code("DSP032", _I, "observed entries differ from the declaration", None),
    Code("DSP033", _I, "observed entries missing live", None),
    # undo plans (rollback, revert, restore; docs/undo.md)
    Code(
        "DSP040",
        _B,
        "changed since the apply being reverted",
        "keep the later value with `--exclude ADDRESS`, or overwrite it on purpose with "
        "`--overwrite-changed REASON`",
    ),
    Code(
        "DSP041",
        _E,
        "no pre-image for a change the apply wrote",
        "restore this entry with `dsgit restore --at TIME --target ADDRESS` instead",
    ),
    Code(
        "DSP042",
        _W,
        "restored value fails the current schema",
        "check that the game reads the old shape, or fix the value after the undo",
    ),
    Code("DSP043", _I, "increment reverted as an opposite increment", None),
    Code(
        "DSP044",
        _I,
        "ordered data stores cannot be restored to a time",
        "ordered data stores keep no revisions; use `dsgit revert APPLY` for their changes",
    ),
    Code(
        "DSP045",
        _I,
        "entries declared now but not at the rollback commit are left live",
        "delete them with `dsgit revert APPLY` (the apply that created them), or prune",
    ),
    Code(
        "DSP046",
        _I,
        "seed or observed entry not deleted by an undo plan",
        "game servers own these entries once created; delete one by hand if it must go",
    ),
    Code(
        "DSP047",
        _I,
        "restore: how long before TIME the values found were written",
        "for the exact values an apply overwrote, revert it from its pre-images: "
        "`dsgit revert APPLY`",
    ),
    Code(
        "DSP048",
        _W,
        "restore: a delete of an entry created before TIME, which may have existed then",
        "check its history (`dsgit history STORE KEY`); keep it with `--exclude ADDRESS`",
    ),
    # live-data scans: retention (docs/lifecycle.md)
    Code(
        "DSP070",
        _W,
        "entries left out: a game server holds their session lock (retried by a later run)",
        "plan again once the players have left; `--allow DSP005=REASON` plans them anyway",
    ),
    Code(
        "DSP071",
        _E,
        "retention rule over its max_deletes guard",
        "check the rule selects what you mean, then raise its max_deletes",
    ),
    Code(
        "DSP072",
        _W,
        "entries kept: no readable timestamp where the rule looks",
        "check the rule's `timestamp` pointer (RFC 3339, unix seconds or milliseconds)",
    ),
    Code("DSP073", _I, "retention rule summary", None),
    # migrations (dsgit migrate plan; docs/lifecycle.md)
    Code(
        "DSP080",
        _E,
        "migrated value fails the store's schema",
        "fix the migration's steps (or the store's schema) so that migrated values satisfy it",
    ),
    Code(
        "DSP081",
        _E,
        "migration step failed on an entry",
        "make the step fit every selected value, or narrow `select` / `select.match`",
    ),
    Code(
        "DSP082",
        _E,
        "migration not idempotent",
        "add a `select.match` schema that migrated values do not satisfy, or guard the JSON "
        "Patch with a `test` operation",
    ),
    Code("DSP083", _I, "selected entries that do not match the migration", None),
    Code("DSP084", _I, "migration summary", None),
)

CATALOG: dict[str, Code] = {code.code: code for code in _CODES}

# The plan could not read what it needed: such a plan is shown but never saved to a file.
READ_FAILURES = frozenset({"DSP011", "DSP012", "DSP013", "DSP014", "DSP018"})


def diagnostic(
    code: str,
    message: str,
    *,
    address: str | None = None,
    count: int | None = None,
    store: str | None = None,
    file: str | None = None,
    line: int | None = None,
    fix: str | None = None,
    suppressed_reason: str | None = None,
) -> Diagnostic:
    """A diagnostic of catalogue ``code`` (its severity, and its fix unless ``fix`` is given)."""
    entry = CATALOG[code]
    return Diagnostic(
        code=code,
        severity=entry.severity,
        message=message,
        fix=fix if fix is not None else entry.fix,
        address=address,
        count=count,
        store=store,
        file=file,
        line=line,
        suppressed_reason=suppressed_reason,
    )
