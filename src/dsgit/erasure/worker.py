"""``dsgit webhook serve``'s worker: one notification becomes an erasure plan per environment,
written beside the queue, applied (``dsgit apply``) only where policies/erasure.yaml's
``auto_apply`` says so, and notified (docs/erasure.md).

Each attempt tells the server what came of it (:class:`~dsgit.erasure.server.PlanOutcome`):
an environment whose plan failed is a ``failed (attempt k: <reason>)`` line of ``queue.jsonl``
and an error notification, the reason naming no user id, address or URL; an environment whose
plan left out session-locked entries is retried by the server. A failed ``dsgit apply`` of an
``auto_apply`` plan is an ``apply-failed (attempt k: exit N: <reason>)`` line and is retried
like a failed plan: the same plan file is applied again while it has not expired and the
failure was not about the plan itself (exit 1, 6 and 130: Open Cloud down, the environment
locked, a partial apply to resume); after a refusal (exit 3), a stale plan (exit 4) or
conflicts (exit 5) the environment is planned again and the new plan applied. A protected
environment whose apply is refused for missing approvals (apply's own checks, evaluated here
again) is ``awaiting-approval`` and not retried. A plan that was applied names the user's
entries (addresses such as ``Player_<id>``), so it is removed once applied: ``queue.jsonl``
keeps its digest and status."""

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
from dsgit.errors import EXIT_CONFLICT, EXIT_POLICY, EXIT_STALE

if TYPE_CHECKING:
    from dsgit.config import Environment, ProjectConfig
    from dsgit.erasure.notification import ErasureNotification
    from dsgit.plan.model import Plan

__all__ = ["ApplyRun", "ErasureWorker"]

Log = Callable[[str], None]
# (plan file, environment) -> (dsgit apply's exit code, why it failed: not yet redacted)
ApplyRun = Callable[[Path, str], tuple[int, str]]
# exit codes after which the same plan is never applied again: it is planned anew
_REPLAN = (EXIT_POLICY, EXIT_STALE, EXIT_CONFLICT)
_TAIL = 64 * 1024  # queue.jsonl is read backwards in blocks of this size


class ErasureWorker:
    """Plans (and where the policy says so, applies) one notification's erasures."""

    def __init__(
        self,
        root: Path,
        config: ProjectConfig,
        folder: Path,
        *,
        log: Log = lambda line: None,
        apply: ApplyRun | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.root = root
        self.config = config
        self.folder = folder
        self.log = log
        self.run_apply: ApplyRun = apply or self._apply_subprocess
        self.clock = clock  # decides whether a kept plan expired
        self.lock = threading.Lock()

    def __call__(
        self, notification: ErasureNotification, environments: tuple[str, ...], attempt: int = 1
    ) -> PlanOutcome:
        failed: dict[str, str] = {}
        locked: list[str] = []
        for name in environments:
            try:
                held, apply_failed = self._plan(notification, name, attempt)
            except Exception as exc:  # reported, and retried by the server
                reason = redacted(f"{type(exc).__name__}: {exc}", notification.user_id)
                failed[name] = reason
                self._report(notification, name, f"failed (attempt {attempt}: {reason})")
                continue
            if apply_failed is not None:  # queued and notified already; retried by the server
                failed[name] = apply_failed
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

    def _plan(
        self, notification: ErasureNotification, name: str, attempt: int = 1
    ) -> tuple[int, str | None]:
        """Plan (and maybe apply) one environment: the number of entries left out, held, and
        why the apply failed (None: it did not, or there was none)."""
        from dsgit.approvals.stamp import stamp_plan
        from dsgit.erasure.planner import ErasureRequest, plan_erasure
        from dsgit.erasure.policy_file import load_erasure
        from dsgit.planfile import write_plan
        from dsgit.remote.connect import open_client
        from dsgit.repo import load_declaration

        policy = load_erasure(self.root)
        env = self.config.environment(name)
        nid = notification.notification_id
        suffix = f".{name}" if self._several(notification) else ""
        path = self.folder / f"{nid}{suffix}.json"
        auto = policy.auto_applies(name)
        kept = self._kept(nid, name, path) if auto else None
        if kept is not None:  # the last apply of this very plan failed: apply it again
            plan, held = kept
            self.log(f"webhook: {nid} {name}: applying the kept plan again (attempt {attempt})")
        else:
            request = ErasureRequest(
                env.name,
                env.universe_id,
                notification.user_id,
                notification_id=nid,
                source=load_declaration(self.root).source,
            )
            with open_client(env) as api:
                run = plan_erasure(api, policy, request, self.root)
            run.done()
            plan = stamp_plan(run.plan, self.root)
            held = run.locked
            write_plan(path, plan)
        status = "awaiting-approval"
        removed = False
        failure: str | None = None
        code: int | None = None
        if auto:
            code, why = self.run_apply(path, name)
            if code == 0:
                status = "applied"
                # its addresses name the user's entries: queue.jsonl keeps digest and status
                path.unlink(missing_ok=True)
                removed = True
            elif code == EXIT_POLICY and self._awaits_approval(plan, path, env):
                code = None  # not a failure: the plan waits for its approvals, never retried
            else:
                failure = f"exit {code}: {redacted(why, notification.user_id, limit=300)}"
                status = f"apply-failed (attempt {attempt}: {failure})"
        if held:
            # not done: the held profiles are still there (never the user id or address)
            status += (
                f"; {held} entr{'y' if held == 1 else 'ies'} left out, held by "
                "a game server's session lock: waiting-for-session (the server plans it "
                "again until nothing is left out)"
            )
        self._queue(
            nid,
            name,
            path,
            status,
            plan.digest,
            removed=removed,
            extra={
                "apply_exit": code if failure is not None else None,
                "left_out": held or None,
                "reapplied": True if kept is not None else None,
            },
        )
        n = len(plan.changes)
        summary = f"right-to-erasure request {nid}: a plan of {n} change(s) " + (
            "awaits approval" if status.startswith("awaiting-approval") else status
        )
        self._notify(nid, env, status, summary, plan.digest, n)
        return held, failure

    def _kept(self, nid: str, name: str, path: Path) -> tuple[Plan, int] | None:
        """The plan file of this request and environment whose last apply failed, with the
        number of entries it left out, when it may be applied again: the queue's last line
        for it says ``apply-failed`` with this digest, the failure was not about the plan
        (not exit 3, 4 or 5), and it has not expired. None: plan again."""
        from dsgit.plan.model import Plan
        from dsgit.planfile import read_any_plan

        last = self._last_line(nid, name)
        if last is None or not str(last.get("status", "")).startswith("apply-failed"):
            return None
        if last.get("apply_exit") in _REPLAN or not path.is_file():
            return None
        try:
            plan = read_any_plan(path)
        except Exception:  # damaged or edited: a new plan is made
            return None
        if not isinstance(plan, Plan) or plan.digest != last.get("plan_digest"):
            return None
        if plan.expired(self.clock()):
            self.log(f"webhook: {nid} {name}: the kept plan expired; planning again")
            return None
        left = last.get("left_out")
        return plan, left if isinstance(left, int) else 0

    def _last_line(self, nid: str, name: str) -> dict[str, object] | None:
        """The last ``queue.jsonl`` line about ``nid`` in ``name`` (read from the end)."""
        path = self.folder / "queue.jsonl"
        with self.lock:
            try:
                handle = path.open("rb")
            except FileNotFoundError:
                return None
            with handle:
                end = handle.seek(0, 2)
                rest = b""
                while end > 0:
                    start = max(0, end - _TAIL)
                    handle.seek(start)
                    block = handle.read(end - start) + rest
                    lines = block.split(b"\n")
                    rest = lines.pop(0) if start > 0 else b""
                    for raw in reversed(lines):
                        found = _line_about(raw, nid, name)
                        if found is not None:
                            return found
                    end = start
        return None

    def _awaits_approval(self, plan: Plan, path: Path, env: Environment) -> bool:
        """Whether apply refused the plan (exit 3) for its approvals: apply's own checks, in
        apply's order, over the approvals it reads (``PLAN.approvals/``)."""
        from dsgit.apply.checks import CheckInput, first_failure
        from dsgit.approvals.check import ApprovalSources, check_plan_approvals

        now = self.clock()
        try:
            verdict = check_plan_approvals(
                plan, self.root, env, ApprovalSources(plan_file=path), now=now
            )
            failure = first_failure(CheckInput(plan, None, env, verdict, now, env.name))
        except Exception:  # cannot tell: an ordinary failure, retried
            return False
        return failure is not None and failure.check == "approvals"

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

    def _apply_subprocess(self, path: Path, environment: str) -> tuple[int, str]:
        """``dsgit apply PLAN -e ENV --format json``: its exit code and why it failed (the
        error's message, the run's failure, or its conflicts; never its changes' addresses)."""
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
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode, "" if done.returncode == 0 else _why(done.stdout, done.stderr)

    def _queue(
        self,
        notification_id: str,
        env: str,
        path: Path | None,
        status: str,
        digest: str | None,
        *,
        removed: bool = False,
        extra: dict[str, int | bool | None] | None = None,
    ) -> None:
        line: dict[str, str | int | bool | None] = {
            "notification_id": notification_id,
            "environment": env,
            "plan": None if path is None else str(path),
            "plan_digest": digest,
            "status": status,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if removed:
            line["plan_removed"] = True
        line.update({key: value for key, value in (extra or {}).items() if value is not None})
        with self.lock, (self.folder / "queue.jsonl").open("a", encoding="utf-8") as queue:
            queue.write(json.dumps(line, sort_keys=True) + "\n")
        where = " (plan removed once applied)" if removed else f" ({path})" if path else ""
        self.log(f"webhook: {notification_id} {env}: {status}{where}")


def _line_about(raw: bytes, nid: str, name: str) -> dict[str, object] | None:
    try:
        line = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(line, dict):
        return None
    return line if (line.get("notification_id"), line.get("environment")) == (nid, name) else None


def _why(stdout: str, stderr: str) -> str:
    """Why an apply failed, from its JSON output, else the last line of its stderr."""
    try:
        body = json.loads(stdout)
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        for key in ("failure", "lock_failure"):
            if body.get(key):
                return str(body[key])
        summary = body.get("summary")
        if isinstance(summary, dict) and summary.get("conflict"):
            return f"{summary['conflict']} conflict(s): a live entry changed since the plan"
        if body.get("status"):
            return f"apply {body['status']}"
    return (stderr.strip().splitlines() or [""])[-1]
