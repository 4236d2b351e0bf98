"""Reading ``policies/erasure.yaml``: YAML, its file schema, then Roblox's template rules and
dsgit's own checks of the rules.

:func:`erasure_problems` serves ``dsgit validate`` (each problem at its line, codes
DS871–DS878); :func:`load_erasure` serves ``dsgit erase`` and ``dsgit webhook serve`` (the
problems as one ``ConfigError`` naming file, line and field). A repository without the file
has no templates and no rules.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from yaml.nodes import Node

from dsgit.erasure.policy import (
    TEMPLATES_KEY,
    TEMPLATES_REPOSITORY,
    TOKEN,
    ErasureAction,
    ErasurePolicy,
    ErasureRule,
    KeyTemplate,
    StoreTemplate,
    Template,
)
from dsgit.errors import ConfigError, Location
from dsgit.model.configs import ConfigKey, ConfigsDeclaration, ConfigType
from dsgit.model.entry import JSONValue, StoreKind
from dsgit.repo.file_schemas import FileKind, check_file
from dsgit.repo.problems import Problem, Severity, first_errors
from dsgit.repo.yamlload import locate, parse_yaml

__all__ = [
    "DOCUMENTED_TEMPLATES",
    "ERASURE_FILE",
    "MAX_TEMPLATES",
    "erasure_problems",
    "load_erasure",
    "templates_declaration",
]

ERASURE_FILE = "policies/erasure.yaml"
MAX_TEMPLATES = 100  # Roblox's limit on user_data_templates (the contract's: an error)
# Roblox's current automated-deletion page documents "up to 10 templates": a warning above it
DOCUMENTED_TEMPLATES = 10
_SCHEMA_CODES = {"DS201": "DS871", "DS202": "DS872"}
# {userid}, {UserID}, { UserId }: Roblox's token is case-sensitive, these are plain text there
_NEAR_TOKEN = re.compile(r"\{\s*user\s*_?\s*id\s*\}", re.IGNORECASE)


def _at(
    node: Node | None,
    file: str,
    path: list[str],
    code: str,
    message: str,
    severity: Severity = Severity.ERROR,
) -> Problem:
    place = locate(node, path)
    line, column = place if place is not None else (None, None)
    return Problem(file, line, column, code, f"{message} (`{'.'.join(path)}`)", severity)


def _token_problem(text: str) -> str | None:
    """Why ``text`` does not hold the token as Roblox reads it (None when it does)."""
    near = [m.group(0) for m in _NEAR_TOKEN.finditer(text) if m.group(0) != TOKEN]
    if near:
        return f"{near[0]!r} is not the token: Roblox's {TOKEN} is case-sensitive"
    if TOKEN not in text:
        return f"no {TOKEN} token: the template would name the same data for every user"
    return None


def _template_problems(index: int, raw: dict[str, Any], add: Any) -> None:
    base = ["user_data_templates", str(index)]
    if "key_template" in raw:
        body = raw["key_template"]
        where = [*base, "key_template"]
        fields = [f for f in ("data_store_name", "key_pattern", "scope_pattern") if f in body]
        problems = [_token_problem(str(body[f])) for f in fields]
        miscased = [(f, p) for f, p in zip(fields, problems, strict=True) if p and "case" in p]
        for name, problem in miscased:
            add([*where, name], "DS873", problem)
        if not miscased and all(problems):
            add([*where, "key_pattern"], "DS873", problems[fields.index("key_pattern")])
        return
    body = raw["data_store_template"]
    where = [*base, "data_store_template"]
    if body["data_store_type"] != "STANDARD":
        add(
            [*where, "data_store_type"],
            "DS874",
            "Roblox deletes whole data stores for STANDARD stores only: name the ordered "
            "store's keys with a key_template, or a dsgit rule (kind: ordered)",
        )
    missing = _token_problem(str(body["data_store_pattern"]))
    if missing:
        add([*where, "data_store_pattern"], "DS873", missing)


def _rule_problems(index: int, raw: dict[str, Any], add: Any) -> None:
    base = ["rules", str(index)]
    ordered = raw.get("kind") == "ordered"
    action = raw["action"]
    finds = bool(raw.get("users_metadata")) or bool(raw.get("pointers"))
    for name in ("store", "keys"):
        if name in raw:
            problem = _token_problem(str(raw[name]))
            if problem and "case" in problem:
                add([*base, name], "DS873", problem)
    if not finds:
        if TOKEN not in str(raw["store"]) and TOKEN not in str(raw.get("keys", "")):
            add(
                [*base, "store"],
                "DS877",
                f"a rule that finds the user by name needs {TOKEN} in store or keys (or "
                "users_metadata / pointers): as written it selects every user's entries",
            )
        if action == ErasureAction.REMOVE.value:
            add(
                [*base, "action"],
                "DS877",
                "remove takes the user out of an entry: it needs pointers or users_metadata",
            )
    if ordered and finds:
        add(
            [*base, "kind"],
            "DS877",
            "ordered entries hold one integer and no metadata: users_metadata and pointers "
            "cannot find a user there (name the store or keys with {UserId})",
        )
    if ordered and raw.get("scope") == "-":
        add([*base, "scope"], "DS877", "ordered data stores are read one scope at a time")


def erasure_problems(
    value: JSONValue, node: Node | None, file: str = ERASURE_FILE
) -> list[Problem]:
    """Schema problems (DS871 shape, DS872 unknown field), then: DS873 a missing or miscased
    {UserId} token, DS874 a whole-store template for an ordered store, DS875 more than 100
    templates, DS876 a duplicate template or rule name, DS877 a rule that cannot be run; and
    the warning DS878, more than 10 templates (what Roblox's current page documents)."""
    problems = [
        Problem(p.file, p.line, p.column, _SCHEMA_CODES.get(p.code, p.code), p.message)
        for p in check_file(FileKind.ERASURE, value, node, file)
    ]
    if problems or not isinstance(value, dict):
        return problems

    def add(path: list[str], code: str, message: str) -> None:
        problems.append(_at(node, file, path, code, message))

    templates = value.get("user_data_templates") or []
    assert isinstance(templates, list)
    if len(templates) > MAX_TEMPLATES:
        add(
            ["user_data_templates", str(MAX_TEMPLATES)],
            "DS875",
            f"{len(templates)} templates: Roblox takes at most {MAX_TEMPLATES} (move the rest "
            "to dsgit rules)",
        )
    elif len(templates) > DOCUMENTED_TEMPLATES:
        problems.append(
            _at(
                node,
                file,
                ["user_data_templates", str(DOCUMENTED_TEMPLATES)],
                "DS878",
                f"{len(templates)} templates: Roblox's current page on automated deletion "
                f"documents up to {DOCUMENTED_TEMPLATES}, so Roblox may refuse more than "
                f"{DOCUMENTED_TEMPLATES} (dsgit refuses more than {MAX_TEMPLATES}, DS875); "
                "consider moving the rest to dsgit rules",
                Severity.WARNING,
            )
        )
    seen_templates: dict[str, int] = {}
    for index, raw in enumerate(templates):
        assert isinstance(raw, dict)
        _template_problems(index, raw, add)
        identity = repr(sorted(_normalised(raw).items()))
        if identity in seen_templates:
            add(
                ["user_data_templates", str(index)],
                "DS876",
                f"the same template as template {seen_templates[identity] + 1}",
            )
        seen_templates.setdefault(identity, index)
    seen: dict[str, int] = {}
    rules = value.get("rules") or []
    assert isinstance(rules, list)
    for index, raw in enumerate(rules):
        assert isinstance(raw, dict)
        name = str(raw["name"])
        if name in seen:
            add(
                ["rules", str(index), "name"],
                "DS876",
                f"rule name {name!r} is also rule {seen[name] + 1}'s",
            )
        seen.setdefault(name, index)
        _rule_problems(index, raw, add)
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


def _normalised(raw: dict[str, Any]) -> dict[str, Any]:
    body = dict(raw.get("key_template") or raw.get("data_store_template") or {})
    if "key_template" in raw:
        body.setdefault("scope_pattern", "global")
    return {"kind": next(iter(raw)), **body}


def _line(node: Node | None, path: list[str]) -> int | None:
    place = locate(node, path)
    return place[0] if place is not None else None


def _template(index: int, raw: dict[str, Any], node: Node | None) -> Template:
    line = _line(node, ["user_data_templates", str(index)])
    if "key_template" in raw:
        body = raw["key_template"]
        kind = StoreKind.ORDERED if body["data_store_type"] == "ORDERED" else StoreKind.STANDARD
        return KeyTemplate(
            kind,
            str(body["data_store_name"]),
            str(body["key_pattern"]),
            str(body.get("scope_pattern", "global")),
            line,
        )
    return StoreTemplate(str(raw["data_store_template"]["data_store_pattern"]), line)


def _rule(index: int, raw: dict[str, Any], node: Node | None) -> ErasureRule:
    return ErasureRule(
        name=str(raw["name"]),
        store=str(raw["store"]),
        action=ErasureAction(raw["action"]),
        kind=StoreKind(raw.get("kind", StoreKind.STANDARD.value)),
        scope=str(raw.get("scope", "global")),
        keys=raw.get("keys"),
        users_metadata=bool(raw.get("users_metadata", False)),
        pointers=tuple(str(p) for p in raw.get("pointers") or ()),
        line=_line(node, ["rules", str(index)]),
    )


def templates_declaration(
    value: JSONValue, node: Node | None, file: str = ERASURE_FILE
) -> ConfigsDeclaration | None:
    """The ``DataStoresConfig`` repository the file's ``user_data_templates`` make (None when
    the file has none): its one json key ``user_data_templates``, the templates exactly as
    written, in order (Roblox's own shape), for the configs kind to plan and publish.

    Only for a file :func:`erasure_problems` passes; the rest of the repository's keys are not
    dsgit's (:mod:`dsgit.kinds.configs` keeps them as they are live)."""
    if not isinstance(value, dict) or TEMPLATES_KEY not in value:
        return None
    templates = value[TEMPLATES_KEY]
    if not isinstance(templates, list):
        return None
    key = ConfigKey(
        key=TEMPLATES_KEY,
        type=ConfigType.JSON,
        value=list(templates),
        line=_line(node, [TEMPLATES_KEY]),
    )
    return ConfigsDeclaration(
        repository=TEMPLATES_REPOSITORY, file=file, entries={TEMPLATES_KEY: key}
    )


def load_erasure(root: Path) -> ErasurePolicy:
    """The erasure policy of the repository at ``root`` (``ConfigError`` when it is wrong)."""
    path = root / ERASURE_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ErasurePolicy((), (), False, "", ERASURE_FILE)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the erasure policy: {exc.strerror}", Location(ERASURE_FILE)
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("the erasure policy is not UTF-8", Location(ERASURE_FILE)) from None
    document, problems = parse_yaml(text, ERASURE_FILE)
    if document is not None and not problems:
        problems = erasure_problems(document.value, document.node)
    error = first_errors(problems)
    if error is not None:
        raise error
    assert document is not None and isinstance(document.value, dict)
    value: dict[str, Any] = document.value
    auto = value.get("auto_apply", False)
    return ErasurePolicy(
        tuple(
            _template(i, raw, document.node)
            for i, raw in enumerate(value.get("user_data_templates") or [])
        ),
        tuple(_rule(i, raw, document.node) for i, raw in enumerate(value.get("rules") or [])),
        auto if isinstance(auto, bool) else tuple(str(e) for e in auto),
        "sha256:" + hashlib.sha256(data).hexdigest(),
        ERASURE_FILE,
    )
