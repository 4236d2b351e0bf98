"""What ``dsgit doctor`` found: checks, the state of each scope, what each command lacks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dsgit.model.entry import JSONValue

__all__ = ["Check", "CommandScopes", "DoctorReport", "ScopeState", "Status"]


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


class ScopeState(StrEnum):
    """What is known of one scope of the key."""

    GRANTED = "granted"  # a request needing it answered (any status but 401/403)
    DENIED = "denied"  # it answered 403
    NOT_PROBED = "not probed"  # only a write would tell; doctor never writes
    UNKNOWN = "unknown"  # the probe failed otherwise (key refused, unreachable, 5xx)


@dataclass(frozen=True)
class Check:
    """One line of the verdict: ``name`` (key, read, scopes, budget), its status, the detail."""

    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class CommandScopes:
    """The scopes one command needs, and which of them are denied or not known."""

    command: str
    needs: tuple[str, ...]
    denied: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def status(self) -> Status:
        if self.denied:
            return Status.FAIL
        return Status.WARN if self.unknown else Status.OK


@dataclass(frozen=True)
class DoctorReport:
    """Everything doctor found for one environment; ``healthy`` decides the exit code."""

    environment: str
    universe_id: int
    target: str
    checks: tuple[Check, ...]
    scopes: tuple[tuple[str, ScopeState, str], ...]  # scope, state, how it was learned
    commands: tuple[CommandScopes, ...]
    budget: tuple[tuple[str, int], ...]  # request class -> requests a minute; empty: unlimited

    @property
    def healthy(self) -> bool:
        return all(check.status is not Status.FAIL for check in self.checks)

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "environment": self.environment,
            "universe_id": self.universe_id,
            "target": self.target,
            "healthy": self.healthy,
            "checks": [
                {"name": c.name, "status": c.status.value, "detail": c.detail} for c in self.checks
            ],
            "scopes": [
                {"scope": scope, "state": state.value, "via": via}
                for scope, state, via in self.scopes
            ],
            "commands": [
                {
                    "command": c.command,
                    "status": c.status.value,
                    "needs": list(c.needs),
                    "denied": list(c.denied),
                    "unknown": list(c.unknown),
                }
                for c in self.commands
            ],
            "budget": {name: limit for name, limit in self.budget},
        }
