"""Counted nouns in messages: ``1 change``, ``2 changes`` (never ``change(s)``)."""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun`` in the right number, with thousands separators."""
    word = noun if count == 1 else (many if many is not None else noun + "s")
    return f"{count:,} {word}"
