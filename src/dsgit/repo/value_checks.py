"""Checks of one entry's value: its schema, encrypted and sensitive pointers, size.

Messages never show what sits under a ``sensitive`` or ``encrypted`` pointer: a schema error
there names the path and the rule it breaks, not the value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from referencing.exceptions import Unresolvable
from yaml.nodes import Node

from dsgit.crypto import (
    EncryptionError,
    Keyring,
    decrypt_value,
    expand,
    find_encrypted,
    is_encrypted,
)
from dsgit.model.declaration import StorePolicy
from dsgit.model.entry import Address, JSONValue
from dsgit.model.limits import MAX_VALUE_CHARS, encoded_length
from dsgit.model.pointers import format_pointer, parse_pointer, resolve, set_at
from dsgit.repo.fast_schema import Predicate
from dsgit.repo.limits import bounded_length
from dsgit.repo.problems import Problem
from dsgit.repo.schema_messages import safe_message
from dsgit.repo.yamlload import locate

__all__ = ["ValueFindings", "check_value"]

_MAX_SCHEMA_ERRORS = 20  # per entry: the first ones locate the problem well enough


@dataclass
class ValueFindings:
    """Problems of one value, and which of the store's pointer patterns it matched."""

    problems: list[Problem] = field(default_factory=list)
    matched: set[str] = field(default_factory=set)
    tokens: int = 0  # encrypted values found
    pointers: list[str] = field(default_factory=list)  # where in the value each problem is


def _under(pointer: str, prefixes: Iterable[str]) -> bool:
    return any(pointer == p or pointer.startswith(p + "/") or p == "" for p in prefixes)


def _expand_all(value: JSONValue, patterns: Iterable[str], matched: set[str]) -> list[str]:
    """The pointers the patterns match in ``value``; adds each pattern that matched to
    ``matched`` (a pattern matching nothing anywhere is reported per store)."""
    pointers: list[str] = []
    for pattern in patterns:
        found = expand(value, pattern)
        if found:
            matched.add(pattern)
        pointers.extend(found)
    return pointers


def check_value(
    value: JSONValue,
    *,
    address: Address,
    policy: StorePolicy,
    validator: Validator | None,
    predicate: Predicate | None = None,
    keyring: Keyring | None,
    file: str,
    node: Node | None,
    base: tuple[str, ...] = ("value",),
    size_hint: tuple[int, bool] | None = None,
    may_hold_tokens: bool = True,
) -> ValueFindings:
    """Check one value. ``size_hint`` is ``(characters of the file, aliases used)``: a small
    file without aliases cannot hold a value over the size limit, so it is not encoded."""
    findings = ValueFindings()

    def problem(pointer: str, code: str, message: str) -> None:
        position = locate(node, [*base, *parse_pointer(pointer)])
        line, column = position if position is not None else (None, None)
        findings.problems.append(Problem(file, line, column, code, message))
        findings.pointers.append(pointer)

    # JSON needs at most 6 characters per YAML character (an escape like \u0001)
    small = size_hint is not None and not size_hint[1] and size_hint[0] * 6 <= MAX_VALUE_CHARS
    aliased = size_hint is not None and size_hint[1]
    size = 0
    if not small:
        size = bounded_length(value, MAX_VALUE_CHARS) if aliased else encoded_length(value)
    if size > MAX_VALUE_CHARS:
        shown = f"{size:,}" if not aliased else f"more than {MAX_VALUE_CHARS:,}"
        problem("", "DS402", f"value is {shown} characters as JSON (at most {MAX_VALUE_CHARS:,})")

    secret = _expand_all(value, policy.sensitive, findings.matched)
    encrypted_at = _expand_all(value, policy.encrypted, findings.matched)
    for pointer in encrypted_at:
        if any(other != pointer and _under(pointer, [other]) for other in encrypted_at):
            continue  # an encrypted ancestor covers it
        _present, node_value = resolve(value, pointer)
        if not is_encrypted(node_value):
            problem(
                pointer,
                "DS602",
                f"{pointer or '/'} must be encrypted (it is an `encrypted` pointer of this store); "
                "run `dsgit secrets encrypt`",
            )
    # a token anywhere counts (plan decrypts every token), so without a key it is DS604
    tokens = (
        find_encrypted(value) if (keyring is not None or encrypted_at or may_hold_tokens) else []
    )
    findings.tokens = len(tokens)
    plain = value
    if keyring is not None and tokens:
        for pointer in tokens:
            _present, token = resolve(value, pointer)
            assert isinstance(token, str)
            try:
                clear = decrypt_value(token, keyring, address, pointer)
            except EncryptionError as exc:
                problem(pointer, "DS601", f"{pointer}: {exc.reason}")
                continue
            plain = set_at(plain, pointer, clear)

    if validator is not None:
        try:
            _schema_problems(
                validator,
                predicate,
                plain,
                problem,
                keyring=keyring,
                hidden=[*secret, *tokens, *encrypted_at],
                unchecked=[*tokens, *encrypted_at],
            )
        except (RecursionError, Unresolvable):
            # a $ref cycle that only this value reaches (check_documents finds the others)
            problem(
                "",
                "DS207",
                "the store's schema cannot be applied: its $refs loop or do "
                "not resolve for this value",
            )
    return findings


def _schema_problems(
    validator: Validator,
    predicate: Predicate | None,
    plain: JSONValue,
    problem: Callable[[str, str, str], None],
    *,
    keyring: Keyring | None,
    hidden: list[str],
    unchecked: list[str],
) -> None:
    if predicate is not None and predicate(plain):
        return
    count = 0
    said: set[tuple[str, str]] = set()
    for error in validator.iter_errors(plain):
        pointer = format_pointer([str(part) for part in error.absolute_path])
        if keyring is None and _under(pointer, unchecked):
            continue  # ciphertext cannot be checked against the plaintext's schema
        message = _describe(error, pointer, mask=_masked(pointer, hidden))
        if (pointer, message) in said:
            continue  # `required` fails once per missing field; the message names them all
        said.add((pointer, message))
        count += 1
        if count > _MAX_SCHEMA_ERRORS:
            problem("", "DS301", f"more than {_MAX_SCHEMA_ERRORS} schema errors; first ones shown")
            break
        problem(pointer, "DS301", message)


def _masked(pointer: str, hidden: list[str]) -> bool:
    return _under(pointer, hidden) or any(_under(h, [pointer]) for h in hidden)


def _describe(error: ValidationError, pointer: str, *, mask: bool) -> str:
    field = f"`value{pointer}`" if pointer else "`value`"
    message = safe_message(error, field)
    if message is not None:
        return message
    if mask:
        return f"{field} does not satisfy `{error.validator}` (value hidden: sensitive)"
    text = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    return f"{field}: {text}"
