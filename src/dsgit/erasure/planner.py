"""``dsgit erase --user ID``: one plan, of kind ``erasure``, of every deletion and edit.

:func:`dsgit.erasure.collect.collect` finds the user's entries (key templates read directly,
everything else one live scan, checkpointed and shardable); each becomes a ``delete``
(carrying DSP001, suppressed by the reviewed erasure policy) or an ``update`` writing the entry
without the user, with the live etag as precondition. Diff lines show where the user was, never
what they held: old values are masked, so the plan can be pasted into a pull request.

An entry held by a game server's session lock (ProfileService / ProfileStore
``MetaData.ActiveSession``) is left out and reported (DSP095) unless ``allow_locked``
(``--allow DSP005=REASON``): then it is planned carrying DSP005, which that allowance
suppresses. The plan's ``context`` holds the salted user hash, the policy digest, the
webhook's notification id, and the pre-images to purge (DSP097) once it is applied: those
whose data or address holds the user, found in ``audit/preimages`` alone, so every shard of a
``--shard K/N`` run lists the same ones and ``dsgit plan combine`` joins their plans (the
pre-images of the entries the plan changes are purged too, found at apply time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dsgit import __version__
from dsgit.erasure.collect import ErasureClient, ErasureScan, Found, ScanSettings, collect
from dsgit.erasure.ledger_scan import ledger_holding
from dsgit.erasure.policy import ErasurePolicy
from dsgit.erasure.preimage_scan import preimages_holding
from dsgit.erasure.proof import hashed_user, repository_salt
from dsgit.errors import ConfigError, Location
from dsgit.ledger.redact import Redaction
from dsgit.model.declaration import SourceInfo, StorePolicy
from dsgit.model.entry import StoreKind
from dsgit.plan.build import DEFAULT_EXPIRY, change_order
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.compare import active_session, delete_change, live_data, precondition_of
from dsgit.plan.io import change_from_dict, with_digest
from dsgit.plan.jsondiff import diff_data
from dsgit.plan.ledger import NoLedger
from dsgit.plan.model import (
    MASK,
    PLAN_FORMAT_VERSION,
    Change,
    Diagnostic,
    DiffLine,
    Plan,
    PlanKind,
    UpdateChange,
    format_precise_time,
    format_time,
    summarize,
)
from dsgit.scan import ScanObserver, Shard

__all__ = ["ErasureRequest", "ErasureRun", "plan_erasure"]

_EXAMPLES = 5
POLICY_REASON = "erasure: policies/erasure.yaml"


@dataclass(frozen=True)
class ErasureRequest:
    """Whose data, where, and the overrides given."""

    environment: str
    universe_id: int
    user: int
    allow_locked: bool = False  # --allow DSP005=REASON was given (it suppresses their DSP005)
    notification_id: str | None = None
    expires_in: timedelta = DEFAULT_EXPIRY
    # the declaration the plan was made beside (apply checks it has not changed since)
    source: SourceInfo = field(default_factory=lambda: SourceInfo(None, True, ""))
    scan: ScanSettings = field(default_factory=ScanSettings)  # checkpoint, --shard

    @property
    def shard(self) -> Shard | None:
        return self.scan.shard


@dataclass(frozen=True)
class ErasureRun:
    """The plan, and the finished scan behind it: call :meth:`done` once the plan is saved
    (until then a rerun rebuilds the same plan from the finished checkpoint, reading nothing)."""

    plan: Plan
    survey: ErasureScan
    locked: int
    preimages: tuple[str, ...]

    def done(self) -> None:
        self.survey.done()


def _masked(lines: tuple[DiffLine, ...] | list[DiffLine]) -> tuple[DiffLine, ...]:
    return tuple(
        DiffLine(line.pointer, line.op, MASK if line.old is not None else None, line.new)
        for line in lines
    )


def _change(found: Found, held: bool) -> Change:
    extra: list[Diagnostic] = []
    if held:  # blocking until --allow DSP005=REASON suppresses it (finish_plan does)
        extra.append(
            diagnostic(
                DiagnosticCode.SESSION_LOCKED,
                "a game server holds this profile (MetaData.ActiveSession): its next save "
                "may write the user's data back",
                address=str(found.address),
            )
        )
    if found.decision.after is None:
        extra.insert(
            0,
            diagnostic(
                DiagnosticCode.ENTRY_DELETE,
                "the user's entry is deleted",
                address=str(found.address),
                suppressed_reason=POLICY_REASON,
            ),
        )
        change = delete_change(
            found.address, found.live, StorePolicy(), found.decision.why, extra, NoLedger()
        )
        # delete_change adds its own DSP005 for a held profile: keep one of each code
        unique = {d.code: d for d in reversed(change.diagnostics)}
        kept = tuple(d for d in change.diagnostics if unique[d.code] is d)
        return replace(change, diff=_masked(change.diff), diagnostics=kept)
    lines, _ = diff_data(live_data(found.live), found.decision.after)
    return UpdateChange(
        address=found.address,
        reason=found.decision.why,
        precondition=precondition_of(found.address.kind, found.live),
        diff=_masked(lines),
        sensitive=(),
        encrypted=(),
        diagnostics=tuple(extra),
        after=found.decision.after,
    )


def plan_erasure(
    client: ErasureClient,
    policy: ErasurePolicy,
    request: ErasureRequest,
    root: Path,
    *,
    observer: ScanObserver | None = None,
) -> ErasureRun:
    """Read, decide and plan (see the module docstring). An interrupted scan keeps its
    checkpoint for the next run; a finished one is removed by :meth:`ErasureRun.done`."""
    if policy.empty:
        raise ConfigError(
            "no erasure templates or rules: policies/erasure.yaml is missing or empty "
            "(docs/erasure.md shows one)",
            Location(policy.source),
        )
    salt = repository_salt(root)
    survey = collect(
        client,
        policy,
        request.user,
        salt=salt,
        environment=request.environment,
        settings=request.scan,
        change_of=_change,
        allow_locked=request.allow_locked,
        observer=observer,
    )
    changes: list[Change] = []
    locked: list[str] = list(survey.visitor.locked_examples)
    held_count = survey.visitor.locked
    for address, found in survey.direct.items():
        held = address.kind is StoreKind.STANDARD and active_session(found.live.value)
        if held and not request.allow_locked:
            locked.append(str(address))
            held_count += 1
            continue
        changes.append(_change(found, held))
    for record in survey.records():
        changes.append(change_from_dict(record["change"], "the erase scan's records", "change"))
    changes.sort(key=lambda change: change_order(change.address))
    survey.close()  # the checkpoint stays until done(): a rerun rebuilds from it
    preimages = preimages_holding(root, policy, request.user)
    redactions = ledger_holding(root, policy, request.user, [c.address for c in changes])
    diagnostics = _diagnostics(
        survey, changes, sorted(locked)[:_EXAMPLES], held_count, preimages, request.shard
    )
    if redactions:
        diagnostics.insert(-1, _redacts(redactions))
    context = {
        "erasure_user": hashed_user(salt, request.user),
        "erasure_policy": policy.digest,
        "purge_preimages": json.dumps(preimages),
        "redact_ledger": json.dumps([item.to_json() for item in redactions], sort_keys=True),
    }
    if request.notification_id:
        context["notification_id"] = request.notification_id
    created = datetime.now(UTC)
    plan = Plan(
        format_version=PLAN_FORMAT_VERSION,
        dsgit_version=__version__,
        kind=PlanKind.ERASURE,
        created=format_precise_time(created),
        expires=format_time(created + request.expires_in),
        environment=request.environment,
        universe_id=request.universe_id,
        source=request.source,
        changes=tuple(changes),
        diagnostics=tuple(diagnostics),
        summary=summarize(tuple(changes)),
        digest="",
        context=context,
    )
    return ErasureRun(with_digest(plan), survey, held_count, tuple(preimages))


LISTED_REDACTIONS = 10  # records DSP098 names for the reviewer (the plan file lists all)


def _redacts(redactions: list[Redaction]) -> Diagnostic:
    fields = sum(len(item.fields) for item in redactions)
    chains = sorted({item.chain or "the archived ledger" for item in redactions})
    named = "; ".join(
        f"{item.file} seq {item.seq} ({', '.join(item.fields)})"
        for item in redactions[:LISTED_REDACTIONS]
    )
    more = len(redactions) - LISTED_REDACTIONS
    if more > 0:
        named += f"; and {more} more (the plan file's context.redact_ledger lists all)"
    return diagnostic(
        DiagnosticCode.ERASURE_REDACTS_LEDGER,
        f"applying this plan redacts {fields} field(s) of {len(redactions)} earlier ledger "
        f"record(s) holding the user (in {', '.join(chains)}): their addresses, diffs or "
        "conflicts become salted digests; the chain and its signatures stay valid, and a "
        f"later revert of those applies cannot bring the user's entries back. Records: {named}",
        count=len(redactions),
    )


def _diagnostics(
    survey: ErasureScan,
    changes: list[Change],
    locked: list[str],
    held: int,
    preimages: list[str],
    shard: Shard | None,
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    part = f" (shard {shard})" if shard is not None and shard.count > 1 else ""
    if held:
        more = f" and {held - len(locked)} more" if held > len(locked) else ""
        found.append(
            diagnostic(
                DiagnosticCode.ERASURE_LEFT_LOCKED,
                f"{held} of the user's entries{part} left out, held by a game server's "
                f"session lock: {', '.join(locked)}{more}; run `dsgit erase` "
                "again once the player has left",
                count=held,
            )
        )
    if preimages:
        found.append(
            diagnostic(
                DiagnosticCode.ERASURE_PURGES_PREIMAGES,
                f"applying this plan purges {len(preimages)} pre-image(s) in audit/preimages "
                "holding the user's data (and its own, and every pre-image of the entries it "
                "changes, with their copies in local apply journals): a later revert of those "
                "applies cannot bring the user's data back",
                count=len(preimages),
            )
        )
    deletes = sum(1 for c in changes if c.action.value == "delete")
    edits = len(changes) - deletes
    read = ", ".join(f"{label}: {count} read" for label, count in survey.read.items())
    found.append(
        diagnostic(
            DiagnosticCode.ERASURE_SUMMARY,
            f"erasure{part}: {deletes} deletion(s) and {edits} edit(s) planned ({read})",
            count=len(changes),
        )
    )
    return found
