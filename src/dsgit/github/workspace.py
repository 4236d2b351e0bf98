"""What every ``dsgit github`` entry point works with, passed in explicitly, and what it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dsgit.config import Environment, ProjectConfig
from dsgit.crypto import Keyring
from dsgit.github.artifacts import ArtifactStore
from dsgit.github.client import GitHubClient
from dsgit.github.event import ActionContext
from dsgit.github.gate import ApprovalGate
from dsgit.ledger.signing import Signer
from dsgit.plan.segments import DEFAULT_SEGMENT_SIZE
from dsgit.remote.api import OpenCloudApi

__all__ = ["ActionOutcome", "Workspace", "status_context"]

OpenApi = Callable[[Environment], AbstractContextManager[OpenCloudApi]]


def status_context(environment: str) -> str:
    """The commit status branch protection can require for an environment."""
    return f"dsgit/approval/{environment}"


@dataclass(frozen=True)
class Workspace:
    """The repository checkout, the run, GitHub, and how to reach each environment."""

    root: Path
    config: ProjectConfig
    ctx: ActionContext
    client: GitHubClient
    artifacts: ArtifactStore
    gate: ApprovalGate
    open_api: OpenApi
    clock: Callable[[], datetime]
    keyring: Keyring | None = None
    signer: Signer | None = None
    audit_branch: str = "dsgit/audit"
    echo: Callable[[str], None] = print  # workflow commands (annotations) go to stdout
    segment_size: int = DEFAULT_SEGMENT_SIZE  # a plan of more changes is segmented

    def environments(self, names: tuple[str, ...]) -> tuple[Environment, ...]:
        chosen = names or (self.config.default_environment,)
        return tuple(self.config.environment(name) for name in chosen)


@dataclass(frozen=True)
class ActionOutcome:
    """An entry point's result: its exit code, step outputs, and a line per thing it did."""

    exit_code: int
    outputs: Mapping[str, str] = field(default_factory=dict)
    lines: tuple[str, ...] = ()
