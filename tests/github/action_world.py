"""A data repository, the fake GitHub API and the emulator, wired as a GitHub Actions run sees
them, for driving ``dsgit github …`` end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dsgit.approvals.keys import ApproverKey
from dsgit.emulator import Emulator
from dsgit.model.entry import EntryData
from dsgit.remote.testing import emulated_client
from support import invoke_cli, run_git, write_files

from .events import REPOSITORY, REPOSITORY_ID
from .fake_github import FakeGitHub

TOKEN = "ghs_canary_token_must_never_be_printed"
WORKFLOW = ".github/workflows/dsgit.yml"
BOT = "github-actions[bot]"
UNIVERSES = {"local": 1, "production": 2, "preview": 3}

CONFIG = """\
version: 1
default_environment: local
environments:
  local:
    universe_id: 1
    emulator: .dsgit/local.db
  production:
    universe_id: 2
    emulator: .dsgit/production.db
    protected: true
  preview:
    universe_id: 3
    emulator: .dsgit/preview.db
    preview: true
"""


def _policy(dana_key: str) -> str:
    return f"""\
version: 1
max_age: 7d
approvers:
  - name: alice
    github: alice
  - name: carol
    github: carol
  - name: dana
    key: "{dana_key}"
rules:
  - name: production changes
    environments: [production]
    addresses: ["*"]
    classes: [any]
    min_approvals: 1
"""


class ActionWorld:
    """``root`` is the checkout; ``gh`` the fake GitHub; ``temp`` the runner's temp folder.

    The policy has approvers alice and carol (by GitHub review) and dana (by signature with
    ``dana``'s key); production changes need one approval.
    """

    def __init__(self, tmp_path: Path, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = tmp_path / "repo"
        self.temp = tmp_path / "runner-temp"
        self.temp.mkdir()
        self.gh = gh
        self.monkeypatch = monkeypatch
        self.runs = 0
        self.dana = ApproverKey(Ed25519PrivateKey.generate(), tmp_path / "dana.key")
        write_files(
            self.root,
            {
                "dsgit.yaml": CONFIG,
                ".gitignore": ".dsgit/\n",
                "datastores/Shop/global/Sword.yaml": "value:\n  price: 400\n",
                "datastores/Config/global/motd.yaml": "value: hello\n",
                "policies/approvals.yaml": _policy(self.dana.public),
            },
        )
        run_git(self.root, "init", "-q", "-b", "main")
        self.base = self.commit({}, "declare")

    def commit(self, files: dict[str, str], message: str) -> str:
        write_files(self.root, files)
        run_git(self.root, "add", "-A")
        run_git(self.root, "commit", "-q", "--allow-empty", "-m", message)
        return run_git(self.root, "rev-parse", "HEAD")

    def checkout(self, sha: str) -> None:
        run_git(self.root, "checkout", "-q", sha)

    def run(
        self,
        capsys: pytest.CaptureFixture[str],
        command: str,
        event_name: str,
        payload: dict[str, Any],
        *args: str,
        sha: str = "",
        ref: str = "refs/heads/main",
        workflow: str = WORKFLOW,
    ) -> tuple[int, str, str, dict[str, str]]:
        """``dsgit github COMMAND ARGS`` as a step of a run: exit code, stdout, stderr, outputs."""
        self.runs += 1
        event_path = self.temp / f"event-{self.runs}.json"
        event_path.write_text(json.dumps(payload), encoding="utf-8")
        output = self.temp / f"output-{self.runs}"
        summary = self.temp / f"summary-{self.runs}.md"
        variables = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_REPOSITORY_ID": str(REPOSITORY_ID),
            "GITHUB_API_URL": self.gh.url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_SHA": sha,
            "GITHUB_REF": ref,
            "GITHUB_RUN_ID": str(1000 + self.runs),
            "GITHUB_WORKFLOW_REF": f"{REPOSITORY}/{workflow}@{ref}",
            "GITHUB_ACTOR": "carol",
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_TOKEN": TOKEN,
            "RUNNER_TEMP": str(self.temp),
        }
        for name, value in variables.items():
            self.monkeypatch.setenv(name, value)
        code, out, err = invoke_cli(["-C", str(self.root), "github", command, *args], capsys)
        assert TOKEN not in out and TOKEN not in err
        state = self.gh.state
        posted = json.dumps(
            [list(bucket.values()) for bucket in (state.comments, state.statuses, state.issues)],
            default=str,
        )
        assert TOKEN not in posted  # never in a comment, status or issue
        self.last_summary = summary.read_text(encoding="utf-8") if summary.exists() else ""
        return code, out, err, _outputs(output)

    def staged_files(self, outputs: dict[str, str]) -> dict[str, bytes]:
        """The files ``pr`` staged for the upload step (path inside the artifact -> bytes)."""
        folder = Path(outputs["artifact-path"])
        return {
            path.relative_to(folder).as_posix(): path.read_bytes()
            for path in folder.rglob("*")
            if path.is_file()
        }

    def comments(self, number: int) -> list[dict[str, Any]]:
        return list(self.gh.state.comments.get((REPOSITORY, number), []))

    def statuses(self, sha: str) -> list[dict[str, Any]]:
        return list(self.gh.state.statuses.get((REPOSITORY, sha), []))

    def live(self, env: str, store: str, key: str) -> EntryData | None:
        with (
            Emulator(db=self.root / f".dsgit/{env}.db") as emulator,
            emulated_client(emulator, universe_id=UNIVERSES[env]) as client,
        ):
            found = client.get_entry(store, key)
            return found.data if found is not None else None

    def set_live(self, env: str, store: str, key: str, data: EntryData) -> None:
        with (
            Emulator(db=self.root / f".dsgit/{env}.db") as emulator,
            emulated_client(emulator, universe_id=UNIVERSES[env]) as client,
        ):
            if client.get_entry(store, key) is None:
                client.create_entry(store, key, data)
            else:
                client.update_entry(store, key, data)


def _outputs(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    found: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delimiter = line.split("<<", 1)
            body = []
            index += 1
            while lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            found[name] = "\n".join(body)
        else:
            name, _, value = line.partition("=")
            found[name] = value
        index += 1
    return found
