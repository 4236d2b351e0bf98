"""Plan files: canonical JSON out, validated and digest-checked JSON in (docs/plan-format.md).

``plan_to_json`` writes the canonical form (sorted keys, no insignificant whitespace, UTF-8, one
final newline). ``plan_from_json`` accepts only that exact form: any edited byte, even
whitespace, makes the plan stale (exit 4), as does a digest that does not match the body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

from dsgit.errors import ConfigError, Location, StalePlan
from dsgit.model.declaration import SourceInfo
from dsgit.model.entry import Address, EntryData, JSONValue
from dsgit.plan.codes import code_named
from dsgit.plan.digest import canonical_json, sha256_digest
from dsgit.plan.model import (
    PLAN_FORMAT_VERSION,
    Action,
    Allowance,
    Change,
    Diagnostic,
    DiffLine,
    DiffOp,
    Plan,
    PlanKind,
    Severity,
    change_of,
    increment_of,
    precondition_from_json,
    precondition_to_json,
    written_data,
)
from dsgit.plan.slice import DeclarationSlice, InputKind, SliceInput

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = [
    "change_from_dict",
    "change_to_dict",
    "check_exact",
    "plan_body",
    "plan_digest",
    "plan_from_dict",
    "plan_from_json",
    "plan_schema",
    "plan_to_dict",
    "plan_to_json",
    "with_digest",
]


# --- out ---------------------------------------------------------------------------------------


def _diagnostic_to_dict(diag: Diagnostic) -> dict[str, JSONValue]:
    return {
        "code": diag.code,
        "severity": diag.severity.value,
        "message": diag.message,
        "fix": diag.fix,
        "address": diag.address,
        "count": diag.count,
        "suppressed_reason": diag.suppressed_reason,
        "store": diag.store,
        "file": diag.file,
        "line": diag.line,
    }


def _entry_to_dict(data: EntryData) -> dict[str, JSONValue]:
    return {"value": data.value, "attributes": dict(data.attributes), "users": list(data.users)}


def _change_to_dict(change: Change) -> dict[str, JSONValue]:
    after = written_data(change)
    return {
        "address": str(change.address),
        "actions": [change.action.value],
        "reason": change.reason,
        "precondition": precondition_to_json(change.precondition),
        "after": _entry_to_dict(after) if after is not None else None,
        "increment": increment_of(change),
        "diff": [
            {"pointer": line.pointer, "op": line.op, "old": line.old, "new": line.new}
            for line in change.diff
        ],
        "sensitive": list(change.sensitive),
        "encrypted": list(change.encrypted),
        "diagnostics": [_diagnostic_to_dict(diag) for diag in change.diagnostics],
        "moved_from": str(change.moved_from) if change.moved_from is not None else None,
        "ownership": change.ownership,
    }


def plan_body(plan: Plan) -> dict[str, JSONValue]:
    """The plan as a JSON object without ``digest``: what the digest covers."""
    body: dict[str, JSONValue] = {
        "format_version": plan.format_version,
        "dsgit_version": plan.dsgit_version,
        "kind": str(plan.kind),
        "created": plan.created,
        "expires": plan.expires,
        "environment": plan.environment,
        "universe_id": plan.universe_id,
        "source": _source_to_dict(plan),
        "context": dict(plan.context),
        "changes": [_change_to_dict(change) for change in plan.changes],
        "diagnostics": [_diagnostic_to_dict(diag) for diag in plan.diagnostics],
        "summary": dict(plan.summary),
    }
    if plan.allowed:  # absent when empty, so plans without --allow keep their digests
        body["allowed"] = [
            {"code": a.code, "reason": a.reason, "count": a.count, "matched": a.matched}
            for a in plan.allowed
        ]
    return body


def _source_to_dict(plan: Plan) -> dict[str, JSONValue]:
    source: dict[str, JSONValue] = {
        "commit": plan.source.commit,
        "dirty": plan.source.dirty,
        "digest": plan.source.digest,
    }
    inputs = plan.declaration_slice
    if inputs is not None:  # absent from plans that do not come from a declaration
        source["slice"] = {
            "digest": inputs.digest,
            "inputs": [
                {
                    "kind": item.kind.value,
                    "name": item.name,
                    "file": item.file,
                    "digest": item.digest,
                }
                for item in inputs.inputs
            ],
        }
    return source


def _slice_from_dict(raw: Mapping[str, Any] | None) -> DeclarationSlice | None:
    if raw is None:
        return None
    inputs = tuple(
        SliceInput(InputKind(item["kind"]), item["name"], item["file"], item["digest"])
        for item in raw["inputs"]
    )
    return DeclarationSlice(inputs, raw["digest"])


def plan_digest(plan: Plan) -> str:
    """``sha256:<hex>`` of the canonical body (everything but ``digest``)."""
    return sha256_digest(canonical_json(plan_body(plan)))


def with_digest(plan: Plan) -> Plan:
    """The same plan with ``digest`` computed from its body (builders call this last)."""
    return replace(plan, digest=plan_digest(plan))


def plan_to_dict(plan: Plan) -> dict[str, JSONValue]:
    """The whole plan file as a JSON object (``digest`` as stored in the plan)."""
    body = plan_body(plan)
    body["digest"] = plan.digest
    return body


def plan_to_json(plan: Plan) -> bytes:
    """The canonical plan file bytes, ending with one newline."""
    return canonical_json(plan_to_dict(plan)) + b"\n"


# --- in ----------------------------------------------------------------------------------------


@cache
def plan_schema() -> dict[str, Any]:
    """``dsgit/schemas/plan.schema.json``, shipped as package data."""
    text = resources.files("dsgit").joinpath("schemas/plan.schema.json").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


@cache
def _validator() -> Draft202012Validator:
    # Loaded when a plan file is read, not when the core is imported: jsonschema pulls in
    # pathlib and threads, which the planning core does without.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(plan_schema())


def _looks_like_plan(data: bytes) -> bool:
    # A canonical plan starts with its first sorted key and carries a digest: bytes like these
    # that no longer parse were damaged or edited after dsgit wrote them.
    return data.startswith(b'{"changes":') or b'"digest":"sha256:' in data


def plan_from_json(data: bytes, *, source: str) -> Plan:
    """Read a plan file. ``source`` names it in errors.

    Raises ``StalePlan`` when the bytes are not exactly what dsgit wrote (digest mismatch, any
    edit, even of whitespace) and ``ConfigError`` when they are not a plan at all.
    """
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if _looks_like_plan(data):
            raise StalePlan(
                f"{source}: the plan file was damaged or edited after it was made ({exc}); "
                "make a new plan"
            ) from None
        raise ConfigError(f"not a plan file: {exc}", Location(source)) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("digest"), str):
        if _looks_like_plan(data):
            raise StalePlan(f"{source}: the plan file was damaged or edited after it was made")
        raise ConfigError(
            "not a plan file: expected a JSON object with format_version and digest",
            Location(source),
        )
    check_exact(data, raw, source)
    errors = sorted(_validator().iter_errors(raw), key=lambda err: list(err.absolute_path))
    if errors:
        first = errors[0]
        pointer = "/" + "/".join(str(part) for part in first.absolute_path)
        raise ConfigError(f"invalid plan: {first.message}", Location(source, field=pointer))
    return _plan_from_dict(raw, source)


def check_exact(data: bytes, raw: Mapping[str, Any], source: str) -> None:
    """The bytes are exactly what dsgit wrote for ``raw``: its digest, canonical form, format.

    Shared by plan files and segmented plans' manifests (:mod:`dsgit.plan.segments`).
    """
    stored = raw.get("digest")
    body = {name: value for name, value in raw.items() if name != "digest"}
    actual = sha256_digest(canonical_json(body))
    if actual != stored:
        raise StalePlan(
            f"{source}: plan digest mismatch (file says {stored}, body is {actual}): the plan "
            "was edited after it was made; make a new plan"
        )
    if canonical_json(raw) + b"\n" != data:
        raise StalePlan(
            f"{source}: the plan file is not in the canonical form dsgit writes (it was edited, "
            "reformatted or re-encoded); make a new plan"
        )
    if raw.get("format_version") != PLAN_FORMAT_VERSION:
        raise ConfigError(
            f"unsupported plan format_version {raw.get('format_version')!r} "
            f"(this dsgit reads {PLAN_FORMAT_VERSION})",
            Location(source, field="format_version"),
        )


def _address(text: str, source: str, where: str) -> Address:
    try:
        return Address.parse(text)
    except ValueError as exc:
        raise ConfigError(f"invalid address: {exc}", Location(source, field=where)) from None


def _diagnostic(raw: Mapping[str, Any], source: str) -> Diagnostic:
    code = code_named(raw["code"])
    if code is None:
        raise ConfigError(
            f"unknown diagnostic code {raw['code']!r} (was the plan made by a newer dsgit?)",
            Location(source, field="diagnostics"),
        )
    return Diagnostic(
        code=code,
        severity=Severity(raw["severity"]),
        message=raw["message"],
        fix=raw["fix"],
        address=raw["address"],
        count=raw["count"],
        suppressed_reason=raw["suppressed_reason"],
        store=raw["store"],
        file=raw["file"],
        line=raw["line"],
    )


def _entry(raw: Mapping[str, Any]) -> EntryData:
    return EntryData(
        value=raw["value"], attributes=dict(raw["attributes"]), users=tuple(raw["users"])
    )


def _change(raw: Mapping[str, Any], source: str, where: str) -> Change:
    pre = raw["precondition"]
    moved = raw["moved_from"]
    (action,) = raw["actions"]
    address = _address(raw["address"], source, f"{where}/address")
    fields = dict(
        address=address,
        reason=raw["reason"],
        precondition=precondition_from_json(address.kind, pre),
        diff=tuple(
            DiffLine(
                pointer=line["pointer"],
                op=cast(DiffOp, line["op"]),
                old=line["old"],
                new=line["new"],
            )
            for line in raw["diff"]
        ),
        sensitive=tuple(raw["sensitive"]),
        encrypted=tuple(raw["encrypted"]),
        diagnostics=tuple(_diagnostic(diag, source) for diag in raw["diagnostics"]),
        moved_from=(_address(moved, source, f"{where}/moved_from") if moved is not None else None),
        ownership=raw["ownership"],
    )
    after = _entry(raw["after"]) if raw["after"] is not None else None
    try:
        return change_of(Action(action), after=after, amount=raw["increment"], **fields)
    except ValueError as exc:
        raise ConfigError(f"invalid change: {exc}", Location(source, field=where)) from None


def _plan_from_dict(raw: Mapping[str, Any], source: str) -> Plan:
    src = raw["source"]
    return Plan(
        format_version=raw["format_version"],
        dsgit_version=raw["dsgit_version"],
        kind=PlanKind(raw["kind"]),
        created=raw["created"],
        expires=raw["expires"],
        environment=raw["environment"],
        universe_id=raw["universe_id"],
        source=SourceInfo(commit=src["commit"], dirty=src["dirty"], digest=src["digest"]),
        changes=tuple(
            _change(change, source, f"/changes/{index}")
            for index, change in enumerate(raw["changes"])
        ),
        diagnostics=tuple(_diagnostic(diag, source) for diag in raw["diagnostics"]),
        summary=dict(raw["summary"]),
        digest=raw["digest"],
        context=dict(raw["context"]),
        allowed=tuple(
            Allowance(item["code"], item["reason"], item["count"], item["matched"])
            for item in raw.get("allowed", ())
        ),
        declaration_slice=_slice_from_dict(src.get("slice")),
    )


# --- one change, for JSON Lines segments (dsgit.plan.segments) ---------------------------------


def change_to_dict(change: Change) -> dict[str, JSONValue]:
    """One change as the JSON object a plan's ``changes`` (or a segment's line) holds."""
    return _change_to_dict(change)


def change_from_dict(raw: Mapping[str, Any], source: str, where: str) -> Change:
    """Invert :func:`change_to_dict`; ``raw`` must already be valid against the schema."""
    return _change(raw, source, where)


def plan_from_dict(raw: Mapping[str, Any], source: str) -> Plan:
    """A plan from a schema-valid body (digest and canonical form checked by the caller)."""
    return _plan_from_dict(raw, source)
