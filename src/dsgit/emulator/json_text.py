"""Request JSON as the service reads it: standard JSON only, storable as UTF-8.

Python's :func:`json.loads` is more lenient than the JSON the service accepts: it reads
``NaN``/``Infinity``, turns ``1e400`` into ``inf``, accepts lone UTF-16 surrogates (``"\\ud800"``,
which no UTF-8 store can hold) and overflows the stack on deeply nested input. Each of those is a
``ValueError`` here, so handlers answer 400 instead of storing or echoing something invalid.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["loads"]

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text[:40]} is out of range")
    return number


def loads(raw: bytes | str) -> Any:
    """Parse strict JSON; ``ValueError`` for anything the service would reject."""
    try:
        # UTF-16/32 bodies are detected as json.loads does; invalid byte sequences are errors.
        text = raw.decode(json.detect_encoding(raw)) if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError("JSON is nested too deeply") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("JSON contains an unpaired UTF-16 surrogate") from None
    return value
