"""``dsgit webhook serve``'s worker: one notification becomes an erasure plan per environment,
written beside the queue, applied (``dsgit apply``) only where policies/erasure.yaml's
``auto_apply`` says so, and notified (docs/erasure.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dsgit.config import Environment, ProjectConfig
    from dsgit.erasure.notification import ErasureNotification

__all__ = ["ErasureWorker"]

Log = Callable[[str], None]


class ErasureWorker:
    """Plans (and where the policy says so, applies) one notification's erasures."""

    def __init__(
        self, root: Path, config: ProjectConfig, folder: Path, *, log: Log = lambda line: None
    ) -> None:
        self.root = root
        self.config = config
        self.folder = folder
        self.log = log
        self.lock = threading.Lock()

    def __call__(self, notification: ErasureNotification, environments: tuple[str, ...]) -> None:
        from dsgit.approvals.stamp import stamp_plan
        from dsgit.erasure.planner import ErasureRequest, plan_erasure
        from dsgit.erasure.policy_file import load_erasure
        from dsgit.planfile import write_plan
        from dsgit.remote.connect import open_client
        from dsgit.repo import load_declaration

        policy = load_erasure(self.root)
        source = load_declaration(self.root).source
        for name in environments:
            env = self.config.environment(name)
            request = ErasureRequest(
                env.name,
                env.universe_id,
                notification.user_id,
                notification_id=notification.notification_id,
                source=source,
            )
            with open_client(env) as api:
                run = plan_erasure(api, policy, request, self.root)
            run.done()
            plan = stamp_plan(run.plan, self.root)
            suffix = f".{name}" if len(environments) > 1 else ""
            path = self.folder / f"{notification.notification_id}{suffix}.json"
            write_plan(path, plan)
            status = "awaiting-approval"
            if policy.auto_applies(name):
                status = self._apply(path, name)
            self._queue(notification.notification_id, name, path, status, plan.digest)
            self._notify(notification.notification_id, env, status, plan.digest, len(plan.changes))

    def _notify(
        self, notification_id: str, env: Environment, status: str, digest: str, n: int
    ) -> None:
        """One ``erasure`` event per plan (dsgit.yaml's ``notifications:``): counts and the
        plan digest, never an address or the user id (chat channels are not erasable)."""
        from dsgit.ledger.actor import resolve_actor
        from dsgit.notify import Event, EventKind, Severity
        from dsgit.notify.ledger_note import notify

        waiting = status == "awaiting-approval"
        severity = (
            Severity.WARNING if waiting else Severity.OK if status == "applied" else Severity.ERROR
        )
        summary = f"right-to-erasure request {notification_id}: a plan of {n} change(s) " + (
            "awaits approval" if waiting else status
        )
        notify(
            Event(
                EventKind.ERASURE,
                env.name,
                summary,
                outcome=status,
                severity=severity,
                universe_id=env.universe_id,
                counts={"changes": n},
                plan_digest=digest,
            ),
            self.config,
            self.root,
            actor=str(resolve_actor(self.root)),
            warn=self.log,
        )

    def _apply(self, path: Path, environment: str) -> str:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "dsgit",
                "-C",
                str(self.root),
                "apply",
                str(path),
                "-e",
                environment,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return "applied"
        reason = (done.stderr.strip().splitlines() or [""])[-1][:300]
        return f"apply-failed (exit {done.returncode}: {reason})"

    def _queue(self, notification_id: str, env: str, path: Path, status: str, digest: str) -> None:
        line = {
            "notification_id": notification_id,
            "environment": env,
            "plan": str(path),
            "plan_digest": digest,
            "status": status,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with self.lock, (self.folder / "queue.jsonl").open("a", encoding="utf-8") as queue:
            queue.write(json.dumps(line, sort_keys=True) + "\n")
        self.log(f"webhook: {notification_id} {env}: {status} ({path})")
