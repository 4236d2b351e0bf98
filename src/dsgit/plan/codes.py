"""The diagnostic catalogue: every code planning emits, its severity and its suggested fix.

Codes are stable: a code is never reused for another meaning. docs/planning.md lists them all
(a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dsgit.plan.model import Diagnostic, Severity

__all__ = ["CATALOG", "READ_FAILURES", "Code", "DiagnosticCode", "code_named", "diagnostic"]


class DiagnosticCode(StrEnum):
    """Every code planning emits, by what it means. Logic compares members
    (``diag.code is DiagnosticCode.PRUNE_DELETE``), never strings; each member has exactly one
    entry in :data:`CATALOG`, and docs/planning.md documents each by its value."""

    ENTRY_DELETE = "DSP001"
    PRUNE_DELETE = "DSP002"
    MASS_DELETE = "DSP003"
    RENAME_WITHOUT_MOVED_FROM = "DSP004"
    SESSION_LOCKED = "DSP005"
    SCHEMA_INVALID = "DSP010"
    LISTING_FAILED = "DSP011"
    LISTING_THROTTLED = "DSP012"
    LISTING_INCONSISTENT = "DSP013"
    READ_FAILED = "DSP014"
    INVALID_MOVED_FROM = "DSP015"
    VALUE_TOO_LARGE = "DSP016"
    ENCRYPTED_UNCOMPARABLE = "DSP017"
    NOT_READ = "DSP018"
    OUTSIDE_CHANGE_OVERWRITTEN = "DSP020"
    TYPE_CHANGE = "DSP021"
    LIVE_FAILS_SCHEMA = "DSP022"
    VALUE_NEAR_LIMIT = "DSP023"
    COUNTER_NOT_INTEGER = "DSP024"
    RENAME = "DSP030"
    SEED_DIFFERS = "DSP031"
    OBSERVED_DIFFERS = "DSP032"
    OBSERVED_MISSING = "DSP033"
    CHANGED_SINCE_APPLY = "DSP040"
    NO_PREIMAGE = "DSP041"
    RESTORED_FAILS_SCHEMA = "DSP042"
    INCREMENT_REVERTED = "DSP043"
    ORDERED_NOT_RESTORABLE = "DSP044"
    LEFT_LIVE_BY_ROLLBACK = "DSP045"
    UNDO_KEEPS_SEED_OR_OBSERVED = "DSP046"
    RESTORE_VALUE_AGE = "DSP047"
    RESTORE_DELETE_MAY_HAVE_EXISTED = "DSP048"
    ERASURE_LEFT_LOCKED = "DSP095"
    ERASURE_SUMMARY = "DSP096"
    ERASURE_PURGES_PREIMAGES = "DSP097"
    ERASURE_REDACTS_LEDGER = "DSP098"
    CONFIGS_DRAFT_STAGED = "DSP060"
    CONFIGS_KEY_LOCKED = "DSP061"
    CONFIGS_KEY_REMOVED = "DSP062"
    CONFIGS_PUBLISH = "DSP063"
    CONFIGS_DESCRIPTION_NOT_PUBLISHED = "DSP064"
    CONFIGS_KEYS_KEPT = "DSP065"
    CONFIGS_TEMPLATES = "DSP066"
    # live-data scans (docs/lifecycle.md)
    LEFT_OUT_SESSION_LOCKED = "DSP070"
    RETENTION_OVER_MAX_DELETES = "DSP071"
    RETENTION_NO_TIMESTAMP = "DSP072"
    RETENTION_SUMMARY = "DSP073"
    # migrations (docs/lifecycle.md#migrations)
    MIGRATED_FAILS_SCHEMA = "DSP080"
    MIGRATION_STEP_FAILED = "DSP081"
    MIGRATION_NOT_IDEMPOTENT = "DSP082"
    MIGRATION_NOT_MATCHING = "DSP083"
    MIGRATION_SUMMARY = "DSP084"


@dataclass(frozen=True)
class Code:
    """One diagnostic kind: a stable code, its severity, a title and the usual fix."""

    code: DiagnosticCode
    severity: Severity
    title: str
    fix: str | None

    @property
    def suppressible(self) -> bool:
        return self.severity is Severity.BLOCKING


_D = DiagnosticCode
_B, _E, _W, _I = Severity.BLOCKING, Severity.ERROR, Severity.WARNING, Severity.INFO

_CODES = (
    # destructive: block apply until suppressed in the declaration with a reason
    Code(
        _D.ENTRY_DELETE, _B, "entry delete", "suppress DSP001 on the store (or entry) with a reason"
    ),
    Code(
        _D.PRUNE_DELETE,
        _B,
        "prune delete",
        "add a file for the key to keep it, or suppress DSP002 in _store.yaml with a reason",
    ),
    Code(
        _D.MASS_DELETE,
        _B,
        "mass delete",
        "check the listing and the declaration; to proceed, suppress DSP003 in _store.yaml "
        "with a reason and `count:` at least the number of deletions",
    ),
    Code(
        _D.RENAME_WITHOUT_MOVED_FROM,
        _B,
        "rename without moved_from",
        "add `moved_from: <old address>` to the new entry's file, or suppress DSP004",
    ),
    Code(
        _D.SESSION_LOCKED,
        _B,
        "write to a profile holding an active session lock",
        "wait until the player leaves (the game releases the lock), or suppress DSP005",
    ),
    Code(
        _D.CONFIGS_DRAFT_STAGED,
        _B,
        "configs: a draft staged in Creator Hub or Studio would be overwritten",
        "publish or discard the staged draft in Creator Hub and plan again, or suppress DSP060 "
        "with `--allow DSP060=REASON` to overwrite it",
    ),
    Code(
        _D.CONFIGS_KEY_REMOVED,
        _B,
        "configs: removal of a published key game code may read",
        "keep the key in configs/<repository>.yaml, or, once no game code reads it, suppress "
        "DSP062 with `--allow DSP062=REASON`",
    ),
    # never suppressible
    Code(
        _D.CONFIGS_KEY_LOCKED,
        _E,
        "configs: change of a key locked by a running experiment",
        "complete or discard the experiment first, or leave the key as it is live",
    ),
    Code(_D.SCHEMA_INVALID, _E, "declared value fails its schema", "fix the value or the schema"),
    Code(_D.LISTING_FAILED, _E, "listing failed", "retry the plan; the message says what failed"),
    Code(_D.LISTING_THROTTLED, _E, "listing throttled", "retry later or lower `budget.share`"),
    Code(
        _D.LISTING_INCONSISTENT,
        _E,
        "listing inconsistent with reads",
        "retry: Open Cloud listed no keys although entries exist",
    ),
    Code(_D.READ_FAILED, _E, "entry read failed", "retry the plan; the message says what failed"),
    Code(
        _D.INVALID_MOVED_FROM,
        _E,
        "invalid moved_from",
        "point moved_from at an undeclared entry of the same kind",
    ),
    Code(
        _D.VALUE_TOO_LARGE,
        _E,
        "value over the 4 MB limit",
        "make the value smaller than 4,194,304 characters",
    ),
    Code(
        _D.ENCRYPTED_UNCOMPARABLE,
        _E,
        "encrypted value cannot be compared",
        "provide the encryption key (DSGIT_ENCRYPTION_KEY or the key file)",
    ),
    Code(_D.NOT_READ, _E, "entry not read", "retry the plan"),
    # warnings: shown prominently, never block
    Code(
        _D.OUTSIDE_CHANGE_OVERWRITTEN,
        _W,
        "overwrites a change made outside git",
        "import the live value first if it should be kept (`dsgit import`)",
    ),
    Code(
        _D.TYPE_CHANGE,
        _W,
        "type change",
        "check that game code reading this path handles the new type",
    ),
    Code(
        _D.LIVE_FAILS_SCHEMA,
        _W,
        "live entries fail the schema",
        "migrate the live data (`dsgit migrate plan`) or relax the schema",
    ),
    Code(
        _D.VALUE_NEAR_LIMIT,
        _W,
        "value near the 4 MB limit",
        "split the value before it reaches the limit",
    ),
    Code(
        _D.COUNTER_NOT_INTEGER,
        _W,
        "counter is not an integer",
        "counters must hold integers live and in git; planned as a plain update",
    ),
    # information
    Code(_D.RENAME, _I, "rename", None),
    Code(_D.SEED_DIFFERS, _I, "seed entries differ live (kept)", None),
    Code(_D.OBSERVED_DIFFERS, _I, "observed entries differ from the declaration", None),
    Code(_D.OBSERVED_MISSING, _I, "observed entries missing live", None),
    # undo plans (rollback, revert, restore; docs/undo.md)
    Code(
        _D.CHANGED_SINCE_APPLY,
        _B,
        "changed since the apply being reverted",
        "keep the later value with `--exclude ADDRESS`, or overwrite it on purpose with "
        "`--overwrite-changed REASON`",
    ),
    Code(
        _D.NO_PREIMAGE,
        _E,
        "no pre-image for a change the apply wrote",
        "restore this entry with `dsgit restore --at TIME --target ADDRESS` instead, unless a "
        "right-to-erasure request removed it (it must then stay gone)",
    ),
    Code(
        _D.RESTORED_FAILS_SCHEMA,
        _W,
        "restored value fails the current schema",
        "check that the game reads the old shape, or fix the value after the undo",
    ),
    Code(_D.INCREMENT_REVERTED, _I, "increment reverted as an opposite increment", None),
    Code(
        _D.ORDERED_NOT_RESTORABLE,
        _I,
        "ordered data stores cannot be restored to a time",
        "ordered data stores keep no revisions; use `dsgit revert APPLY` for their changes",
    ),
    Code(
        _D.LEFT_LIVE_BY_ROLLBACK,
        _I,
        "entries declared now but not at the rollback commit are left live",
        "delete them with `dsgit revert APPLY` (the apply that created them), or prune",
    ),
    Code(
        _D.UNDO_KEEPS_SEED_OR_OBSERVED,
        _I,
        "seed or observed entry not deleted by an undo plan",
        "game servers own these entries once created; delete one by hand if it must go",
    ),
    Code(
        _D.RESTORE_VALUE_AGE,
        _I,
        "restore: how long before TIME the values found were written",
        "for the exact values an apply overwrote, revert it from its pre-images: "
        "`dsgit revert APPLY`",
    ),
    Code(
        _D.RESTORE_DELETE_MAY_HAVE_EXISTED,
        _W,
        "restore: a delete of an entry created before TIME, which may have existed then",
        "check its history (`dsgit history STORE KEY`); keep it with `--exclude ADDRESS`",
    ),
    # erasure (dsgit erase, docs/erasure.md)
    Code(
        _D.ERASURE_LEFT_LOCKED,
        _W,
        "erasure: entries left out, held by a game server's session lock",
        "run `dsgit erase` again once the player has left, or plan them with "
        "`--allow DSP005=REASON`",
    ),
    Code(_D.ERASURE_SUMMARY, _I, "erasure: what was read and what is planned", None),
    Code(
        _D.ERASURE_PURGES_PREIMAGES,
        _W,
        "erasure: pre-images holding the user's entries are purged when applied; a later "
        "revert cannot bring the user's data back",
        None,
    ),
    Code(
        _D.ERASURE_REDACTS_LEDGER,
        _W,
        "erasure: fields of earlier ledger records holding the user are redacted when applied "
        "(the chain stays valid); a later revert of those applies cannot bring them back",
        None,
    ),
    Code(
        _D.CONFIGS_DESCRIPTION_NOT_PUBLISHED,
        _W,
        "configs: a declared description differs from the live one (the API cannot write it)",
        "edit the description in Creator Hub, or run `dsgit import --configs` to take Creator "
        "Hub's into the file",
    ),
    Code(
        _D.CONFIGS_PUBLISH,
        _I,
        "configs: the publish this plan makes (configVersion and deployment strategy)",
        None,
    ),
    Code(
        _D.CONFIGS_KEYS_KEPT,
        _I,
        "configs: live keys dsgit does not own, kept as they are by the publish",
        None,
    ),
    Code(
        _D.CONFIGS_TEMPLATES,
        _I,
        "configs: the right-to-erasure templates the publish adds or removes",
        None,
    ),
    # live-data scans: retention (docs/lifecycle.md)
    Code(
        _D.LEFT_OUT_SESSION_LOCKED,
        _W,
        "entries left out: a game server holds their session lock (retried by a later run)",
        "plan again once the players have left; `--allow DSP005=REASON` plans them anyway",
    ),
    Code(
        _D.RETENTION_OVER_MAX_DELETES,
        _E,
        "retention rule over its max_deletes guard",
        "check the rule selects what you mean, then raise its max_deletes",
    ),
    Code(
        _D.RETENTION_NO_TIMESTAMP,
        _W,
        "entries kept: no readable timestamp where the rule looks",
        "check the rule's `timestamp` pointer (RFC 3339, unix seconds or milliseconds)",
    ),
    Code(_D.RETENTION_SUMMARY, _I, "retention rule summary", None),
    # migrations (dsgit migrate plan; docs/lifecycle.md)
    Code(
        _D.MIGRATED_FAILS_SCHEMA,
        _E,
        "migrated value fails the store's schema",
        "fix the migration's steps (or the store's schema) so that migrated values satisfy it",
    ),
    Code(
        _D.MIGRATION_STEP_FAILED,
        _E,
        "migration step failed on an entry",
        "make the step fit every selected value, or narrow `select` / `select.match`",
    ),
    Code(
        _D.MIGRATION_NOT_IDEMPOTENT,
        _E,
        "migration not idempotent",
        "add a `select.match` schema that migrated values do not satisfy, or guard the JSON "
        "Patch with a `test` operation",
    ),
    Code(_D.MIGRATION_NOT_MATCHING, _I, "selected entries that do not match the migration", None),
    Code(_D.MIGRATION_SUMMARY, _I, "migration summary", None),
)

CATALOG: dict[DiagnosticCode, Code] = {code.code: code for code in _CODES}

# The plan could not read what it needed: such a plan is shown but never saved to a file.
READ_FAILURES = frozenset(
    {_D.LISTING_FAILED, _D.LISTING_THROTTLED, _D.LISTING_INCONSISTENT, _D.READ_FAILED, _D.NOT_READ}
)


def code_named(text: str) -> DiagnosticCode | None:
    """The code written as ``text`` (``"DSP002"``), None when no diagnostic has it."""
    try:
        return DiagnosticCode(text)
    except ValueError:
        return None


def diagnostic(
    code: DiagnosticCode,
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
