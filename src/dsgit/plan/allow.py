"""``--allow CODE=REASON``: suppress a blocking diagnostic for one plan, from the command line.

A suppression normally lives in the declaration (``_store.yaml``, an entry file, or a key
pattern under ``overrides``), reviewed with the change. Some plans cannot be fixed there:
``dsgit rollback --to COMMIT`` plans an old commit whose files cannot be edited, and ``revert``
and ``restore`` plans have no declaration of their own. ``--allow`` lets every plan-making
command suppress a *suppressible* (blocking) diagnostic for that plan only; the plan records
each allowance and its reason (the digest covers them), the renderers show them, and the
diagnostics it let through carry the reason as any suppression does. Errors (schema failures,
failed listings) are never suppressible, so ``--allow`` refuses them.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dsgit.errors import ConfigError
from dsgit.model.declaration import Suppression
from dsgit.plan.codes import CATALOG, DiagnosticCode, code_named
from dsgit.plan.io import with_digest
from dsgit.plan.model import Allowance, Change, Diagnostic, Plan, Severity
from dsgit.plan.storechecks import suppress

__all__ = ["ALLOW_PREFIX", "allow", "parse_allowance"]

ALLOW_PREFIX = "--allow: "  # how a diagnostic's reason says it came from the command line

_SYNTAX = re.compile(r"^(?P<code>DSP\d{3})(?::(?P<count>\d+))?=(?P<reason>.*)$", re.DOTALL)


def parse_allowance(text: str) -> Allowance:
    """``DSP002=reason`` or ``DSP003:250=reason`` (a mass delete states the count it allows)."""
    match = _SYNTAX.match(text.strip())
    if match is None:
        raise ConfigError(
            f"--allow {text!r}: expected CODE=REASON (e.g. DSP002='leftovers of the 2024 event') "
            "or, for a mass delete, DSP003:COUNT=REASON"
        )
    code, reason = match.group("code"), match.group("reason").strip()
    named = code_named(code)
    known = CATALOG[named] if named is not None else None
    if known is None:
        raise ConfigError(f"--allow {code}: no such diagnostic code (see docs/planning.md)")
    if not known.suppressible:
        raise ConfigError(
            f"--allow {code}: {known.title} is {known.severity.value}, not a blocking "
            "diagnostic: it cannot be suppressed"
        )
    if not reason:
        raise ConfigError(f"--allow {code}: needs a reason after `=` (the plan shows it)")
    count = match.group("count")
    if code == DiagnosticCode.MASS_DELETE and count is None:
        raise ConfigError(
            "--allow DSP003: a mass delete needs the count it allows: DSP003:COUNT=REASON"
        )
    return Allowance(code, reason, int(count) if count is not None else None)


def _let_through(diag: Diagnostic, allowance: Allowance) -> Diagnostic:
    if diag.severity is not Severity.BLOCKING or diag.suppressed_reason is not None:
        return diag
    if diag.code != allowance.code:
        return diag
    suppression = Suppression(allowance.code, ALLOW_PREFIX + allowance.reason, allowance.count)
    count = diag.count if diag.code is DiagnosticCode.MASS_DELETE else None
    return suppress(diag, (suppression,), count=count)


def allow(plan: Plan, allowances: tuple[Allowance, ...]) -> Plan:
    """``plan`` with each allowance applied to the unsuppressed blocking diagnostics of its
    code, recorded in ``plan.allowed`` (with how many it matched), and digested again."""
    if not allowances:
        return plan
    matched = dict.fromkeys(range(len(allowances)), 0)

    def apply(diag: Diagnostic) -> Diagnostic:
        for index, allowance in enumerate(allowances):
            result = _let_through(diag, allowance)
            if result.suppressed_reason is not None and diag.suppressed_reason is None:
                matched[index] += 1
                return result
            diag = result  # a count too small still explains itself in the message
        return diag

    changes: list[Change] = [
        replace(change, diagnostics=tuple(apply(d) for d in change.diagnostics))
        for change in plan.changes
    ]
    diagnostics = tuple(apply(d) for d in plan.diagnostics)
    recorded = tuple(
        replace(allowance, matched=matched[index]) for index, allowance in enumerate(allowances)
    )
    return with_digest(
        replace(
            plan,
            changes=tuple(changes),
            diagnostics=diagnostics,
            allowed=(*plan.allowed, *recorded),
        )
    )
