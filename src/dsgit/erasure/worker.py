"""``dsgit webhook serve``'s worker: one notification becomes an erasure plan per environment,
written beside the queue, applied (``dsgit apply``) only where policies/erasure.yaml's
``auto_apply`` says so, and notified (docs/erasure.md).

Each attempt tells the server what came of it (:class:`~dsgit.erasure.server.PlanOutcome`):
an environment whose plan failed is a ``failed (attempt k: <reason>)`` line of ``queue.jsonl``
and an error notification, the reason naming no user id, address or URL; an environment whose
plan left out session-locked entries is retried by the server. A plan that was applied names
the user's entries (addresses such as ``Player_<id>``), so it is removed once applied:
``queue.jsonl`` keeps its digest and status."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dsgit.erasure.notification import redacted
from dsgit.erasure.server import PlanOutcome

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

    def __call__(
        self, notification: ErasureNotification, environments: tuple[str, ...], attempt: int = 1
    ) -> PlanOutcome:
        failed: dict[str, str] = {}
        locked: list[str] = []
        for name in environments:
            try:
                held = self._plan(notification, name)
            except Exception as exc:  # reported, and retried by the server
                reason = redacted(f"{type(exc).__name__}: {exc}", notification.user_id)
                failed[name] = reason
                self._report(notification, name, f"failed (attempt {attempt}: {reason})")
                continue
            if held:
                locked.append(name)
        return PlanOutcome(failed, tuple(locked))

    def gave_up(
        self, notification: ErasureNotification, environments: tuple[str, ...], status: str
    ) -> None:
        """The server stopped retrying: a last line and error notification per environment."""
        for name in environments:
            self._report(notification, name, status)

    def _report(self, notification: ErasureNotification, name: str, status: str) -> None:
        nid = notification.notification_id
        self._queue(nid, name, None, status, None)
        env = self.config.environments.get(name)
        if env is not None:
            self._notify(nid, env, status, f"right-to-erasure request {nid}: {status}")

    def _several(self, notification: ErasureNotification) -> bool:
        """Whether the request's universes map to more than one environment (plan names)."""
        universes = set(notification.universe_ids)
        mapped = [e for e in self.config.environments.values() if e.universe_id in universes]
        return len(mapped) > 1

    def _plan(self, notification: ErasureNotification, name: str) -> int:
        """Plan (and maybe apply) one environment; the number of entries left out, held."""
        from dsgit.approvals.stamp import stamp_plan
        from dsgit.erasure.planner import ErasureRequest, plan_erasure
        from dsgit.erasure.policy_file import load_erasure
        from dsgit.planfile import write_plan
        from dsgit.remote.connect import open_client
        from dsgit.repo import load_declaration

        policy = load_erasure(self.root)
        env = self.config.environment(name)
        request = ErasureRequest(
            env.name,
            env.universe_id,
            notification.user_id,
            notification_id=notification.notification_id,
            source=load_declaration(self.root).source,
        )
        with open_client(env) as api:
            run = plan_erasure(api, policy, request, self.root)
        run.done()
        plan = stamp_plan(run.plan, self.root)
        suffix = f".{name}" if self._several(notification) else ""
        path = self.folder / f"{notification.notification_id}{suffix}.json"
        write_plan(path, plan)
        status = "awaiting-approval"
        removed = False
        if policy.auto_applies(name):
            status = self._apply(path, name, notification.user_id)
            if status == "applied":
                # its addresses name the user's entries: queue.jsonl keeps digest and status
                path.unlink(missing_ok=True)
                removed = True
        if run.locked:
            # not done: the held profiles are still there (never the user id or address)
            status += (
                f"; {run.locked} entr{'y' if run.locked == 1 else 'ies'} left out, held by "
                "a game server's session lock: waiting-for-session (the server plans it "
                "again until nothing is left out)"
            )
        nid = notification.notification_id
        self._queue(nid, name, path, status, plan.digest, removed=removed)
        n = len(plan.changes)
        summary = f"right-to-erasure request {nid}: a plan of {n} change(s) " + (
            "awaits approval" if status.startswith("awaiting-approval") else status
        )
        self._notify(nid, env, status, summary, plan.digest, n)
        return run.locked

    def _notify(
        self,
        notification_id: str,
        env: Environment,
        status: str,
        summary: str,
        digest: str | None = None,
        n: int | None = None,
    ) -> None:
        """One ``erasure`` event per plan or failure (dsgit.yaml's ``notifications:``): counts
        and the plan digest, never an address or the user id (chat channels are not erasable)."""
        from dsgit.ledger.actor import resolve_actor
        from dsgit.notify import Event, EventKind, Severity
        from dsgit.notify.ledger_note import notify

        waiting = status.startswith("awaiting-approval")
        partial = status.startswith("applied;")  # applied, but session-locked entries were left
        severity = (
            Severity.WARNING
            if waiting or partial
            else Severity.OK
            if status == "applied"
            else Severity.ERROR
        )
        notify(
            Event(
                EventKind.ERASURE,
                env.name,
                summary,
                outcome=status,
                severity=severity,
                universe_id=env.universe_id,
                counts={} if n is None else {"changes": n},
                plan_digest=digest,
            ),
            self.config,
            self.root,
            actor=str(resolve_actor(self.root)),
            warn=self.log,
        )

    def _apply(self, path: Path, environment: str, user_id: int) -> str:
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
        # the last line of stderr, without the user id or an address (it is queued)
        reason = redacted((done.stderr.strip().splitlines() or [""])[-1], user_id, limit=300)
        return f"apply-failed (exit {done.returncode}: {reason})"

    def _queue(
        self,
        notification_id: str,
        env: str,
        path: Path | None,
        status: str,
        digest: str | None,
        *,
        removed: bool = False,
    ) -> None:
        line: dict[str, str | bool | None] = {
            "notification_id": notification_id,
            "environment": env,
            "plan": None if path is None else str(path),
            "plan_digest": digest,
            "status": status,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if removed:
            line["plan_removed"] = True
        with self.lock, (self.folder / "queue.jsonl").open("a", encoding="utf-8") as queue:
            queue.write(json.dumps(line, sort_keys=True) + "\n")
        where = " (plan removed once applied)" if removed else f" ({path})" if path else ""
        self.log(f"webhook: {notification_id} {env}: {status}{where}")
