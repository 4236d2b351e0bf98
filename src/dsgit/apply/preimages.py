"""Pre-images: what every apply overwrote or deleted, kept so it can be reverted (DESIGN.md §6.6).

Saved (and fsync'd) before the write, one file per entry::

    audit/preimages/<apply id>/<standard|ordered>/<store>/<scope>/<key>.json

(each segment path-encoded; a name too long for a file system becomes ``~<sha256>.json``, the
address is always inside). A file says whether the entry existed, its etag, revision id and
value digest, the action applied and, for an existing entry, its data: in clear, or, for
entries with sensitive or encrypted paths, as one ``ENC[...]`` token from the keyring bound to
the address and apply id, so a pre-image cannot be moved to another entry or apply.

The undo helper reads them back with :func:`load` / :func:`load_preimages`.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsgit.crypto import Keyring, decrypt_value, encrypt_value
from dsgit.crypto.errors import EncryptionError, KeyNotAvailable
from dsgit.errors import ConfigError, Location
from dsgit.model.encoding import encode_segment
from dsgit.model.entry import Address, EntryData, JSONValue
from dsgit.yamlio.safe_paths import safe_path

__all__ = [
    "PREIMAGE_DIR",
    "PreImage",
    "PreImageStore",
    "apply_ids",
    "load",
    "load_preimages",
]

PREIMAGE_DIR = "audit/preimages"
_FORMAT = 1
_MAX_NAME = 200


@dataclass(frozen=True)
class PreImage:
    """One entry as it was just before an apply wrote it. ``data`` is None when it was absent."""

    address: Address
    exists: bool
    data: EntryData | None
    etag: str | None
    revision_id: str | None
    value_digest: str | None
    action: str
    increment: int | None = None
    encrypted: bool = False


def _segment(name: str) -> str:
    encoded = encode_segment(name)
    if len(encoded) <= _MAX_NAME:
        return encoded
    return "~" + hashlib.sha256(name.encode("utf-8")).hexdigest()


def _relative_path(address: Address) -> Path:
    return (
        Path(str(address.kind))
        / _segment(address.store)
        / _segment(address.scope)
        / (_segment(address.key) + ".json")
    )


def _apply_folder(root: Path, apply_id: str) -> Path:
    """``audit/preimages/<apply id>``; an id that is not one plain folder name is refused, so no
    apply id (from a command line or a ledger line) reads or writes outside that folder."""
    if not apply_id or apply_id in (".", "..") or "/" in apply_id or "\\" in apply_id:
        raise ConfigError(f"{apply_id!r} is not an apply id", Location(PREIMAGE_DIR))
    return root / PREIMAGE_DIR / apply_id


def _aad_pointer(apply_id: str) -> str:
    return f"@preimage/{apply_id}"


def _data_to_json(data: EntryData) -> dict[str, JSONValue]:
    return {"value": data.value, "attributes": dict(data.attributes), "users": list(data.users)}


def _data_from_json(raw: Any) -> EntryData:
    return EntryData(raw["value"], dict(raw.get("attributes") or {}), tuple(raw.get("users") or ()))


class PreImageStore:
    """Writes the pre-images of one apply."""

    def __init__(self, root: Path, apply_id: str, keyring: Keyring | None) -> None:
        self.root = root
        self.apply_id = apply_id
        self.folder = safe_path(root, _apply_folder(root, apply_id))  # DS106 before any write
        self.keyring = keyring

    def path_for(self, address: Address) -> Path:
        return self.folder / _relative_path(address)

    def encode(self, image: PreImage, *, encrypt: bool) -> dict[str, Any]:
        """The file body of one pre-image (``encrypt``: entries with sensitive/encrypted paths)."""
        body: dict[str, Any] = {
            "format": _FORMAT,
            "apply_id": self.apply_id,
            "address": str(image.address),
            "exists": image.exists,
            "etag": image.etag,
            "revision_id": image.revision_id,
            "value_digest": image.value_digest,
            "action": image.action,
            "increment": image.increment,
            "data": None,
            "encrypted": None,
        }
        if image.data is not None:
            if encrypt:
                if self.keyring is None:
                    raise KeyNotAvailable(
                        "its pre-image must be encrypted and no encryption key is available",
                        address=str(image.address),
                    )
                body["encrypted"] = encrypt_value(
                    _data_to_json(image.data),
                    self.keyring.primary,
                    image.address,
                    _aad_pointer(self.apply_id),
                )
            else:
                body["data"] = _data_to_json(image.data)
        return body

    def write(self, body: dict[str, Any], *, durable: bool = False) -> Path:
        """Write one encoded pre-image atomically (temp file + rename).

        Apply journals the body (fsync'd) before calling this, so the file itself need not be
        fsync'd on the hot path: :meth:`restore` rewrites any file a crash lost.
        """
        path = self.path_for(Address.parse(body["address"]))
        new_folder = not path.parent.exists()
        safe_path(self.root, path, parents=True)  # its folders made, never through a symlink
        temp = path.with_name(path.name + f".tmp{os.getpid()}-{threading.get_ident()}")
        with temp.open("w", encoding="utf-8") as handle:
            json.dump(body, handle, sort_keys=True, ensure_ascii=False, indent=1)
            handle.write("\n")
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
        if durable and new_folder:
            _fsync_dir(path.parent)
        return path

    def save(self, image: PreImage, *, encrypt: bool) -> Path:
        """Encode and write one pre-image durably (fsync'd)."""
        return self.write(self.encode(image, encrypt=encrypt), durable=True)

    def restore(self, bodies: Iterable[dict[str, Any]]) -> int:
        """Rewrite the pre-images among ``bodies`` (from the journal) whose file is missing or
        unreadable; returns how many were rewritten."""
        count = 0
        for body in bodies:
            path = self.path_for(Address.parse(body["address"]))
            try:
                if json.loads(path.read_text(encoding="utf-8")) == body:
                    continue
            except (OSError, ValueError):
                pass
            self.write(body, durable=True)
            count += 1
        return count


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def apply_ids(root: Path) -> tuple[str, ...]:
    """Apply ids that have pre-images, sorted (apply ids start with their UTC time)."""
    folder = root / PREIMAGE_DIR
    if not folder.is_dir():
        return ()
    return tuple(sorted(path.name for path in folder.iterdir() if path.is_dir()))


def load_preimages(
    root: Path, apply_id: str, keyring: Keyring | None = None
) -> dict[Address, PreImage]:
    """Every pre-image of one apply, decrypted with ``keyring`` where encrypted.

    Raises ``ConfigError`` for an unknown apply, a malformed file, or an encrypted pre-image
    without a key that opens it.
    """
    folder = _apply_folder(root, apply_id)
    if not folder.is_dir():
        raise ConfigError(f"no pre-images for apply {apply_id!r}", Location(str(folder)))
    images: dict[Address, PreImage] = {}
    for path in sorted(folder.rglob("*.json")):
        where = str(path.relative_to(root))
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            address = Address.parse(raw["address"])
            data: EntryData | None = None
            if raw.get("encrypted") is not None:
                if keyring is None:
                    raise KeyNotAvailable(
                        "this pre-image is encrypted and no encryption key is available",
                        address=str(address),
                    )
                plain = decrypt_value(raw["encrypted"], keyring, address, _aad_pointer(apply_id))
                data = _data_from_json(plain)
            elif raw.get("data") is not None:
                data = _data_from_json(raw["data"])
            images[address] = PreImage(
                address=address,
                exists=bool(raw["exists"]),
                data=data,
                etag=raw.get("etag"),
                revision_id=raw.get("revision_id"),
                value_digest=raw.get("value_digest"),
                action=str(raw["action"]),
                increment=raw.get("increment"),
                encrypted=raw.get("encrypted") is not None,
            )
        except EncryptionError as exc:
            raise exc.at(Location(where)) from None
        except ConfigError as exc:
            raise ConfigError(exc.message, Location(where)) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"malformed pre-image: {exc}", Location(where)) from None
    return images


def load(
    root: Path, apply_id: str, keyring: Keyring | None = None
) -> Mapping[Address, EntryData | None]:
    """What each entry an apply touched held before it: its data, or None when it was absent."""
    return {
        address: image.data for address, image in load_preimages(root, apply_id, keyring).items()
    }
