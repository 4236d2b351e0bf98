"""What a route handler gets: the request, its decoded path parameters, the time, the state."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dsgit.emulator import json_text
from dsgit.emulator.api_error import invalid
from dsgit.emulator.configs import ConfigsState
from dsgit.emulator.experiments import ExperimentsState
from dsgit.emulator.ordered import OrderedState
from dsgit.emulator.standard import StandardState
from dsgit.emulator.wire import Request, Response

__all__ = ["UTF8_BOM", "Call", "Handler", "State"]

UTF8_BOM = b"\xef\xbb\xbf"  # some .NET and Windows clients start JSON bodies with it


@dataclass(frozen=True)
class State:
    """Everything the emulator stores, all in one database."""

    standard: StandardState
    ordered: OrderedState
    configs: ConfigsState
    experiments: ExperimentsState


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it. ``now`` is in ticks (see :mod:`clock`)."""

    request: Request
    params: Mapping[str, str]
    query: Mapping[str, str]
    universe: int
    now: int
    state: State
    require_scope: Callable[[str], None]

    def param(self, name: str) -> str:
        return self.params[name]

    def body_object(self, *, empty_ok: bool = False) -> dict[str, Any]:
        """The JSON object in the body; 400 if it is not one."""
        raw = self.request.body.removeprefix(UTF8_BOM)
        if not raw.strip():
            if empty_ok:
                return {}
            raise invalid("request body must be a JSON object")
        try:
            body = json_text.loads(raw)
        except ValueError as exc:
            raise invalid(f"request body is not valid JSON: {exc}", "ContentNotJson") from None
        if not isinstance(body, dict):
            raise invalid("request body must be a JSON object")
        return body

    @staticmethod
    def body_id(body: dict[str, Any]) -> str:
        """The ``id`` of a create sent in the body instead of the query (the field is
        read-only in the schema, but clients that post a whole entry object carry it)."""
        ident = body.get("id")
        return ident if isinstance(ident, str) else ""


Handler = Callable[[Call], Response]
