"""The emulator's own request and response values, shared by the transport and the server.

The request handling core is a pure ``handle(Request) -> Response`` function; adapters turn
httpx requests or HTTP server requests into :class:`Request` and back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl

from dsgit.emulator.params import canonical_query

__all__ = ["JSON_TYPE", "Disposition", "Request", "Response", "json_response"]

JSON_TYPE = "application/json; charset=utf-8"
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]*")


class Disposition(Enum):
    """How an adapter delivers a response: normally, or as an injected transport failure."""

    ANSWER = "answer"
    DROP = "drop"  # the connection closes without an answer (lost response)
    TIMEOUT = "timeout"  # no answer until the client gives up


@dataclass(frozen=True)
class Request:
    """One HTTP request: ``target`` is the raw path and query, still percent-encoded."""

    method: str
    target: str
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    @property
    def path(self) -> str:
        """The path, without an absolute-form ``http://host`` prefix or a trailing ``/``
        (kept after ``entries``: ``entries/`` names an empty key, not the collection)."""
        path = _ABSOLUTE.sub("", self.target.split("?", 1)[0].split("#", 1)[0]) or "/"
        if len(path) > 1 and path.endswith("/") and not path.endswith("/entries/"):
            path = path.rstrip("/") or "/"
        return path

    @property
    def query(self) -> dict[str, str]:
        """Query parameters under their spec names (see :mod:`params`), first value wins,
        ``+`` and escapes decoded. ``UnicodeDecodeError`` if an escape is not UTF-8."""
        _, _, text = self.target.partition("?")
        pairs = parse_qsl(text.split("#", 1)[0], keep_blank_values=True, errors="strict")
        return canonical_query(pairs)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Response:
    """One HTTP response; ``disposition`` tells the adapter to fake a transport failure."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    disposition: Disposition = Disposition.ANSWER
    hold: float = 0.0  # TIMEOUT: seconds a server keeps the connection before closing it

    def json(self) -> Any:
        return json.loads(self.body)


def json_response(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(status, body, (("content-type", JSON_TYPE), *headers))
