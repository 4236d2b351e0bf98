"""The reversible encoding of store names, scopes and keys into path segments (DESIGN.md §1).

Every character outside ``A-Z a-z 0-9 . _ -``, and a leading ``.``, becomes ``%XX`` for each
byte of its UTF-8 form, in upper-case hex. ``%`` itself is therefore always encoded, which is
what makes the mapping reversible.
"""

from __future__ import annotations

import re

__all__ = ["decode_segment", "encode_segment", "is_canonical_segment"]

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_ESCAPE = re.compile(r"%([0-9A-F]{2})")


def encode_segment(name: str) -> str:
    """Encode one store name, scope or key as a file or folder name."""
    out: list[str] = []
    for index, char in enumerate(name):
        if char in _SAFE and not (index == 0 and char == "."):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def decode_segment(segment: str) -> str:
    """Invert :func:`encode_segment`. Raises ``ValueError`` on a segment it could not produce."""
    raw = bytearray()
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "%":
            match = _ESCAPE.match(segment, index)
            if match is None:
                raise ValueError(f"bad escape at position {index} in {segment!r}")
            raw.append(int(match.group(1), 16))
            index += 3
        else:
            raw.extend(char.encode("utf-8"))
            index += 1
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"escapes in {segment!r} are not valid UTF-8") from exc
    if encode_segment(name) != segment:
        raise ValueError(f"{segment!r} is not the canonical encoding of {name!r}")
    return name


def is_canonical_segment(segment: str) -> bool:
    """True when ``segment`` is exactly what :func:`encode_segment` produces for some name."""
    try:
        decode_segment(segment)
    except ValueError:
        return False
    return True
