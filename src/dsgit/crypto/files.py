"""Encrypt, decrypt and rotate the encrypted values of entry files in place.

The use cases behind ``dsgit secrets``. Files are edited with ruamel round-trip and minimal
changes (comments and layout survive); every file's new text is computed before any is written,
so one failure changes nothing; each file is replaced whole (temporary file + rename).
Decrypted values reach the disk only through :func:`decrypt_file` with ``in_place``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ruamel.yaml.comments import CommentedMap

from dsgit.crypto.errors import EncryptionError
from dsgit.crypto.keys import Key, Keyring
from dsgit.crypto.walk import decrypt_all, encrypt_paths, find_encrypted, reencrypt_all
from dsgit.errors import ConfigError, Location
from dsgit.model.declaration import StorePolicy
from dsgit.model.entry import Address, JSONValue, StoreKind
from dsgit.model.layout import DATASTORES_DIR, STORE_FILE, address_of_entry_file
from dsgit.model.pointers import expand, resolve
from dsgit.yamlio.atomic import write_atomic
from dsgit.yamlio.document import dump_document, load_document, to_plain
from dsgit.yamlio.merge import set_member

__all__ = [
    "EntryFile",
    "FileUpdate",
    "decrypt_file",
    "edit_entry_text",
    "encrypt_files",
    "entry_files",
    "read_entry_file",
    "rotate_files",
]

Policies = Callable[[StoreKind, str], StorePolicy]


@dataclass(frozen=True)
class EntryFile:
    """An entry file read for editing: where it is, whose it is, its document and value."""

    path: Path
    relative: str
    address: Address
    document: CommentedMap
    value: JSONValue


@dataclass(frozen=True)
class FileUpdate:
    """One file a command changed (or would change): how many values it touched."""

    path: str
    values: int


def _relative(root: Path, path: Path) -> PurePosixPath:
    try:
        return PurePosixPath(path.resolve().relative_to(root.resolve()).as_posix())
    except ValueError:
        raise ConfigError("is outside the repository", Location(str(path))) from None


def entry_files(root: Path, paths: Iterable[Path] = ()) -> list[Path]:
    """Entry files under ``paths`` (files or folders; default: all of ``datastores/``)."""
    chosen = list(paths) or [root / DATASTORES_DIR]
    found: set[Path] = set()
    for path in chosen:
        if path.is_dir():
            candidates = list(path.rglob("*.yaml"))
        elif path.is_file():
            candidates = [path]
        else:
            raise ConfigError("no such file or folder", Location(str(path)))
        for candidate in candidates:
            relative = _relative(root, candidate)
            if candidate.name != STORE_FILE and address_of_entry_file(relative) is not None:
                found.add(candidate)
            elif candidate in chosen:
                raise ConfigError(
                    "is not an entry file (datastores/<store>/<scope>/<key>.yaml)",
                    Location(relative.as_posix()),
                )
    return sorted(found)


def read_entry_file(root: Path, path: Path) -> EntryFile:
    relative = _relative(root, path)
    address = address_of_entry_file(relative)
    name = relative.as_posix()
    if address is None:
        raise ConfigError(
            "is not an entry file (datastores/<store>/<scope>/<key>.yaml)", Location(name)
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {type(exc).__name__}", Location(name)) from None
    document = load_document(text, name)
    if not isinstance(document, CommentedMap) or "value" not in document:
        raise ConfigError("an entry file is a mapping with `value`", Location(name))
    return EntryFile(path, name, address, document, to_plain(document["value"], name))


def _places(document: CommentedMap) -> list[tuple[CommentedMap, bool]]:
    """The mappings holding a ``value`` in an entry file: the file itself, then each
    environment's override (its ``value`` is a merge patch: ``null`` there removes a member).
    Pointers into a patch are pointers into the effective value, so a token sealed there
    decrypts as the effective value's (same entry, same pointer)."""
    places: list[tuple[CommentedMap, bool]] = [(document, False)]
    section = document.get("environments")
    if isinstance(section, CommentedMap):
        for body in section.values():
            if isinstance(body, CommentedMap) and "value" in body:
                places.append((body, True))
    return places


def _sealable(value: JSONValue, patterns: Iterable[str], patch: bool) -> list[str]:
    """What to encrypt in one place: the patterns, or in a patch the concrete pointers they
    match that are not ``null`` (a removal, not a value)."""
    if not patch:
        return list(patterns)
    return [
        pointer
        for pattern in patterns
        for pointer in expand(value, pattern)
        if resolve(value, pointer)[1] is not None
    ]


def _located(error: EncryptionError, entry: EntryFile) -> EncryptionError:
    return error.at(Location(entry.relative))


def _commit(updates: list[tuple[EntryFile, int]], dry_run: bool) -> list[FileUpdate]:
    if not dry_run:
        for done, (entry, _count) in enumerate(updates):
            try:
                write_atomic(entry.path, dump_document(entry.document))
            except OSError as exc:
                # each file is replaced whole, so every file is either as it was or finished:
                # running the command again (with both keys, for rotate) completes it
                raise ConfigError(
                    f"cannot write: {exc.strerror or type(exc).__name__} ({done} of "
                    f"{len(updates)} file(s) were already rewritten; run the command again to "
                    "finish)",
                    Location(entry.relative),
                ) from None
    return [FileUpdate(entry.relative, count) for entry, count in updates]


def encrypt_files(
    root: Path,
    paths: Iterable[Path],
    key: Key,
    policies: Policies,
    *,
    dry_run: bool = False,
) -> list[FileUpdate]:
    """Encrypt every plaintext value at its store's ``encrypted`` pointers, in place."""
    updates: list[tuple[EntryFile, int]] = []
    for path in entry_files(root, paths):
        entry = read_entry_file(root, path)
        policy = policies(StoreKind.STANDARD, entry.address.store).for_key(entry.address.key)
        if not policy.encrypted:
            continue
        count, changed = 0, False
        for place, patch in _places(entry.document):
            value = to_plain(place["value"], entry.relative)
            before = len(find_encrypted(value))
            patterns = _sealable(value, policy.encrypted, patch)
            try:
                sealed = encrypt_paths(value, patterns, key, entry.address)
            except EncryptionError as exc:
                raise _located(exc, entry) from None
            if set_member(place, "value", sealed):
                changed = True
                count += len(find_encrypted(sealed)) - before
        if changed:
            updates.append((entry, count))
    return _commit(updates, dry_run)


def rotate_files(
    root: Path, keyring: Keyring, new_key: Key, *, dry_run: bool = False
) -> list[FileUpdate]:
    """Re-encrypt every token of every entry file with ``new_key``."""
    updates: list[tuple[EntryFile, int]] = []
    both = Keyring.of([new_key, *keyring.keys])
    for path in entry_files(root):
        entry = read_entry_file(root, path)
        total = 0
        for place, _patch in _places(entry.document):
            value = to_plain(place["value"], entry.relative)
            if not find_encrypted(value):
                continue
            try:
                rotated, count = reencrypt_all(value, both, new_key, entry.address)
            except EncryptionError as exc:
                raise _located(exc, entry) from None
            if count and set_member(place, "value", rotated):
                total += count
        if total:
            updates.append((entry, total))
    return _commit(updates, dry_run)


def decrypt_file(root: Path, path: Path, keyring: Keyring, *, in_place: bool = False) -> str:
    """The file's text with every token decrypted; written back only with ``in_place``."""
    entry = read_entry_file(root, path)
    for place, _patch in _places(entry.document):
        try:
            plain = decrypt_all(to_plain(place["value"], entry.relative), keyring, entry.address)
        except EncryptionError as exc:
            raise _located(exc, entry) from None
        set_member(place, "value", plain)
    text = dump_document(entry.document)
    if in_place:
        write_atomic(entry.path, text)
    return text


def edit_entry_text(
    entry: EntryFile,
    edited_text: str,
    keyring: Keyring,
    policy: StorePolicy,
) -> str:
    """The file text after an edit of its decrypted form: values under the store's pointers,
    and wherever a token was before, sealed again; unchanged values keep their old token."""
    document: Any = load_document(edited_text, entry.relative)
    if not isinstance(document, CommentedMap) or "value" not in document:
        raise ConfigError("an entry file is a mapping with `value`", Location(entry.relative))
    before = _overrides_of(entry.document)
    for place, patch in _places(document):
        edited = to_plain(place["value"], entry.relative)
        previous = entry.value if place is document else before.get(_name_of(document, place))
        patterns = [*policy.encrypted, *find_encrypted(previous)]
        try:
            sealed = encrypt_paths(
                edited,
                _sealable(edited, patterns, patch),
                keyring.primary,
                entry.address,
                previous=previous,
                keyring=keyring,
            )
        except EncryptionError as exc:
            raise _located(exc, entry) from None
        set_member(place, "value", sealed)
    return dump_document(document)


def _name_of(document: CommentedMap, place: CommentedMap) -> str | None:
    section = document.get("environments")
    if isinstance(section, CommentedMap):
        for name, body in section.items():
            if body is place:
                return str(name)
    return None


def _overrides_of(document: CommentedMap) -> dict[str | None, JSONValue]:
    """Each environment's patch as the file held it before an edit (tokens and all)."""
    return {
        _name_of(document, place): to_plain(place["value"])
        for place, patch in _places(document)
        if patch
    }
