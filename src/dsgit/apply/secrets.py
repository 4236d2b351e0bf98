"""Turn a plan's ``after`` into the data to write (PLAN-CONTRACT.md, "Secrets in plans").

A plan never holds a sensitive plaintext: a value under a ``sensitive`` pointer is the
placeholder ``{"$sensitive": "sha256:<hex>"}``, and encrypted values stay ``ENC[...]``. Before
a write, each placeholder is replaced by the declared value at the same place, which must hash
to the placeholder's digest (else the declaration changed since the plan: ``StalePlan``), and
every ``ENC[...]`` token is decrypted with the keyring. The result lives in memory only.

Only nodes under the change's ``sensitive`` pointers are placeholders: the same shape anywhere
else (in the value or in attributes) is game data and is written as it is.
"""

from __future__ import annotations

from dsgit.crypto import Keyring, decrypt_all, find_encrypted
from dsgit.crypto.errors import KeyNotAvailable
from dsgit.errors import StalePlan
from dsgit.model.entry import Address, EntryData, JSONValue
from dsgit.model.pointers import format_pointer
from dsgit.plan.digest import sensitive_placeholder
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import SENSITIVE_KEY

__all__ = ["has_encrypted", "has_placeholders", "resolve_placeholders", "writable_data"]


def _is_placeholder(node: JSONValue) -> bool:
    return isinstance(node, dict) and len(node) == 1 and isinstance(node.get(SENSITIVE_KEY), str)


def has_placeholders(value: JSONValue) -> bool:
    if _is_placeholder(value):
        return True
    if isinstance(value, dict):
        return any(has_placeholders(child) for child in value.values())
    if isinstance(value, list):
        return any(has_placeholders(child) for child in value)
    return False


def has_encrypted(data: EntryData) -> bool:
    return bool(find_encrypted(data.value))


_MISSING = object()


def _child(node: object, key: str | int) -> object:
    if isinstance(node, dict) and isinstance(key, str):
        return node.get(key, _MISSING)
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return node[key]
    return _MISSING


def _resolve(
    planned: JSONValue,
    declared: object,
    address: Address,
    path: tuple[str, ...],
    covered: PointerPatterns | None,
) -> JSONValue:
    if covered is not None and not covered.touches(path):
        return planned  # nothing under here is sensitive: no placeholders to resolve
    where = format_pointer(path)
    if _is_placeholder(planned) and (covered is None or covered.covers(path)):
        assert isinstance(planned, dict)
        if declared is _MISSING:
            raise StalePlan(
                f"{address}: the sensitive value at {where or '/'} is no longer declared; "
                "make a new plan"
            )
        if sensitive_placeholder(declared) != planned:  # type: ignore[arg-type]
            raise StalePlan(
                f"{address}: the sensitive value at {where or '/'} changed since the plan; "
                "make a new plan"
            )
        return declared  # type: ignore[return-value]
    if isinstance(planned, dict):
        return {
            name: _resolve(child, _child(declared, name), address, (*path, name), covered)
            for name, child in planned.items()
        }
    if isinstance(planned, list):
        return [
            _resolve(child, _child(declared, index), address, (*path, str(index)), covered)
            for index, child in enumerate(planned)
        ]
    return planned


def resolve_placeholders(
    after: EntryData,
    declared: EntryData | None,
    address: Address,
    sensitive: PointerPatterns | None = None,
) -> EntryData:
    """``after`` with every sensitive placeholder replaced by the declared plaintext.

    ``sensitive`` (the change's pointers) limits placeholders to the value nodes it covers;
    None treats every placeholder-shaped node of the value as one.
    """
    if not has_placeholders(after.value):
        return after
    if sensitive is not None and not sensitive:
        return after
    if declared is None:
        raise StalePlan(
            f"{address}: the plan has sensitive values for this entry but the declaration at "
            "the plan's source no longer has the entry; make a new plan"
        )
    value = _resolve(after.value, declared.value, address, (), sensitive)
    return EntryData(value, after.attributes, after.users)


def writable_data(
    after: EntryData,
    declared: EntryData | None,
    address: Address,
    keyring: Keyring | None,
    sensitive: PointerPatterns | None = None,
) -> EntryData:
    """What to send: placeholders resolved, ``ENC[...]`` decrypted (just before the write)."""
    data = resolve_placeholders(after, declared, address, sensitive)
    if not has_encrypted(data):
        return data
    if keyring is None:
        raise KeyNotAvailable(
            "holds encrypted values and no encryption key is available", address=str(address)
        )
    return EntryData(decrypt_all(data.value, keyring, address), data.attributes, data.users)
