"""``examples/workflows/dsgit-retention.yml`` run as GitHub would run it, job by job, against
the embedded emulator: the commands of its ``run:`` scripts are executed as written (matrix and
``env:`` values substituted, ``gh run download`` and ``actions/upload-artifact`` played by a
folder of artifacts), so a workflow whose commands drift from the CLI fails here."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from dsgit.approvals.keys import ApproverKey
from dsgit.emulator import Emulator
from dsgit.errors import EXIT_OK, EXIT_POLICY
from dsgit.planfile import SegmentedPlan, read_any_plan
from dsgit.remote.testing import emulated_client
from live_fixtures import seed_profiles
from support import invoke_cli, run_git, write_files

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples/workflows/dsgit-retention.yml"

CONFIG = """\
version: 1
default_environment: production
environments:
  production:
    universe_id: 1
    emulator: .dsgit/emulator.db
"""
RETENTION = """\
version: 1
rules:
  - name: inactive-profiles
    store: PlayerStore
    older_than: 730d
    timestamp: /MetaData/LastUpdate
    action: delete
    max_deletes: 100
"""

# End to end: git, the emulator, a dozen CLI runs.
pytestmark = pytest.mark.slow


def _approvals_policy(public: str) -> str:
    return f"""\
version: 1
approvers:
  - name: dana
    key: "{public}"
rules:
  - name: retention deletes
    environments: [production]
    addresses: ["*"]
    classes: [destructive]
    min_approvals: 1
"""


class Runner:
    """Plays GitHub Actions for one workflow: jobs, matrix, env, artifacts, the job summary."""

    def __init__(
        self,
        root: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        inputs: Mapping[str, str],
        event: str,
    ) -> None:
        self.root = root
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.inputs = dict(inputs)
        self.event = event
        self.workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
        self.artifacts = root.parent / "artifacts"
        self.artifacts.mkdir(exist_ok=True)
        self.summary = root.parent / "summary.md"
        self.outputs: list[str] = []

    def expression(self, text: str, shard: int | None) -> str:
        """The few ``${{ }}`` expressions the workflow uses, as GitHub evaluates them."""

        def value(match: re.Match[str]) -> str:
            expr = match.group(1).strip()
            if expr == "matrix.shard":
                return str(shard)
            if expr.startswith("secrets.") or expr == "github.token":
                return ""  # the emulator needs no key; no token leaves this test
            found = re.fullmatch(r"inputs\.([\w-]+)(?:\s*\|\|\s*'([^']*)')?", expr)
            assert found is not None, f"unexpected expression {expr!r} in the workflow"
            return self.inputs.get(found.group(1)) or (found.group(2) or "")

        return re.sub(r"\$\{\{(.*?)\}\}", value, text)

    def runs(self, job: str) -> bool:
        condition = self.workflow["jobs"][job].get("if")
        if condition is None:
            return True  # runs when the jobs it needs succeeded (run_job is called in order)
        if self.event == "schedule":
            return "github.event_name == 'schedule'" in condition
        stage = self.inputs.get("stage", "")
        return f"inputs.stage == '{stage}'" in condition

    def run_job(self, job: str) -> list[int]:
        """Every matrix leg of ``job`` on a fresh runner; the exit code of each leg's last step."""
        spec = self.workflow["jobs"][job]
        legs = spec.get("strategy", {}).get("matrix", {}).get("shard", [None])
        codes = []
        for shard in legs:
            for scratch in ("shard", "shards", "plan"):  # a fresh runner has none of these
                shutil.rmtree(self.root / scratch, ignore_errors=True)
            codes.append(self._leg(spec, shard))
        return codes

    def _leg(self, spec: Mapping[str, Any], shard: int | None) -> int:
        code = EXIT_OK
        for step in spec["steps"]:
            uses = str(step.get("uses", ""))
            if uses.startswith(("actions/checkout@", "actions/setup-python@")):
                continue
            if uses.startswith("actions/upload-artifact@"):
                if code == EXIT_OK or step.get("if") == "always()":
                    self._upload(step["with"], shard)
                continue
            if code != EXIT_OK or "pip install" in step["run"]:
                continue  # a failed step stops the job; dsgit is installed already
            env = {k: self.expression(str(v), shard) for k, v in (step.get("env") or {}).items()}
            code = self._script(str(step["run"]), env)
        return code

    def _upload(self, options: Mapping[str, Any], shard: int | None) -> None:
        name = self.expression(str(options["name"]), shard)
        source = self.root / str(options["path"])
        if not source.exists():
            assert options.get("if-no-files-found") == "ignore", f"{name}: nothing to upload"
            return
        shutil.copytree(source, self.artifacts / name, dirs_exist_ok=True)

    def _script(self, script: str, env: Mapping[str, str]) -> int:
        variables = {
            **env,
            "GITHUB_RUN_ID": "41",
            "GITHUB_REPOSITORY": "octo/game",
            "GITHUB_STEP_SUMMARY": str(self.summary),
        }
        for line in script.strip().splitlines():
            words = [_expand(w, variables) for w in shlex.split(line)]
            if words[:3] == ["gh", "run", "download"]:
                self._download(words)
                continue
            assert words[0] == "dsgit", f"unexpected command in the workflow: {line}"
            append = None
            if ">>" in words:
                at = words.index(">>")
                words, append = words[:at], Path(words[at + 1])
            args: list[str] = []
            for word in words[1:]:
                if "*" in word:
                    matched = sorted(str(p.relative_to(self.root)) for p in self.root.glob(word))
                    assert matched, f"{word} matched nothing"
                    args.extend(matched)
                else:
                    args.append(word)
            code, out, err = invoke_cli(["-C", str(self.root), *args], self.capsys)
            self.outputs.append(out + err)
            if append is not None:
                with append.open("a", encoding="utf-8") as handle:
                    handle.write(out)
            if code != EXIT_OK:
                return code
        return EXIT_OK

    def _download(self, words: list[str]) -> None:
        target = self.root / words[words.index("--dir") + 1]
        if "--pattern" in words:  # one folder per artifact, as gh does with --pattern
            pattern = words[words.index("--pattern") + 1]
            found = sorted(p for p in self.artifacts.iterdir() if fnmatch.fnmatch(p.name, pattern))
            assert found, f"no artifact matches {pattern}"
            for path in found:
                shutil.copytree(path, target / path.name)
        else:  # --name: the artifact's files straight into the folder
            name = words[words.index("--name") + 1]
            shutil.copytree(self.artifacts / name, target)


def _expand(word: str, variables: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in variables, f"${name} is not set by the step"
        return variables[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, word)


@pytest.fixture
def game(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, ApproverKey]:
    monkeypatch.setenv("DSGIT_ACTOR", "tester")
    root = tmp_path / "repo"
    dana = ApproverKey(Ed25519PrivateKey.generate(), tmp_path / "dana.key")
    dana.path.write_bytes(
        dana.private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    dana.path.chmod(0o600)
    write_files(
        root,
        {
            "dsgit.yaml": CONFIG,
            ".gitignore": ".dsgit/\nshard/\nshards/\nplan/\n",
            "policies/retention.yaml": RETENTION,
            "policies/approvals.yaml": _approvals_policy(dana.public),
            "approvals/README.md": "Signed approvals of plans applied by hand.\n",
        },
    )
    run_git(root, "init", "--quiet")
    run_git(root, "add", "--all")
    run_git(root, "commit", "--quiet", "-m", "retention")
    (root / ".dsgit").mkdir()
    emulator = Emulator(db=root / ".dsgit/emulator.db", ccu=None)
    with emulated_client(emulator, universe_id=1) as client:
        seed_profiles(client, 40)  # users 4, 8, … 40 are 800 days old; 20 and 40 are locked
    emulator.close()
    return root, dana


def _live_profiles(root: Path) -> set[int]:
    with (
        Emulator(db=root / ".dsgit/emulator.db", ccu=None) as emulator,
        emulated_client(emulator, universe_id=1) as client,
    ):
        return {user for user in range(1, 41) if client.get_entry("PlayerStore", str(user))}


def test_the_retention_workflow_shards_combines_approves_once_and_applies(
    game: tuple[Path, ApproverKey],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, dana = game
    monkeypatch.chdir(root)
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # GitHub reads `on:` as the key "on"; YAML 1.1 loaders read it as True.
    triggers = workflow.get("on", workflow.get(True))
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    assert workflow["jobs"]["scan"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    assert workflow["jobs"]["combine"]["needs"] == "scan"

    # 1. The weekly run: 4 scan jobs, then the combine job.
    weekly = Runner(root, capsys, monkeypatch, {}, "schedule")  # no inputs
    assert weekly.runs("scan") and weekly.runs("combine") and not weekly.runs("apply")
    assert weekly.run_job("scan") == [EXIT_OK] * 4
    shards = sorted(p.name for p in weekly.artifacts.iterdir())
    assert shards == [f"dsgit-retention-shard-{n}" for n in range(1, 5)]
    assert weekly.run_job("combine") == [EXIT_OK]
    combined = weekly.artifacts / "dsgit-retention-plan"
    found = read_any_plan(combined / "plan.json")
    assert isinstance(found, SegmentedPlan)  # the manifest and its segments, both uploaded
    deleted = sorted(int(change.address.key) for change in found.changes())
    assert deleted == [4, 8, 12, 16, 24, 28, 32, 36]  # 20 and 40 are held by a game server
    assert found.header.kind == "retention"
    summary = weekly.summary.read_text(encoding="utf-8")
    assert found.digest in summary and "retention" in summary

    # The combined plan is the plan one process makes: the same change set.
    code, out, err = invoke_cli(
        ["-C", str(root), "retention", "plan", "-o", str(root.parent / "one.json")], capsys
    )
    assert code == EXIT_OK, out + err
    single = json.loads((root.parent / "one.json").read_text(encoding="utf-8"))
    assert sorted(c["address"] for c in single["changes"]) == sorted(
        str(c.address) for c in found.changes()
    )

    # 2. Without an approval, no shard deletes anything.
    by_hand = {"stage": "apply", "environment": "production", "plan-run": "41"}
    apply_run = Runner(root, capsys, monkeypatch, by_hand, "workflow_dispatch")
    apply_run.artifacts = weekly.artifacts
    assert apply_run.runs("apply") and not apply_run.runs("scan")
    assert apply_run.run_job("apply") == [EXIT_POLICY] * 4, apply_run.outputs[-1]
    assert _live_profiles(root) == set(range(1, 41))

    # One approval, as the workflow's header says: download, sign, commit the file.
    comment = WORKFLOW.read_text(encoding="utf-8")
    joined = re.sub(r"\n#\s*", " ", comment)
    approve = re.search(r"`(dsgit approve plan/plan\.json[^`]*)`", joined)
    assert approve is not None
    command = approve.group(1).split()
    shutil.rmtree(root / "plan", ignore_errors=True)  # left by the last apply job
    shutil.copytree(combined, root / "plan")
    command[command.index("KEY")] = str(dana.path)
    command = [word.replace("NAME", "dana") for word in command]
    code, out, err = invoke_cli(["-C", str(root), *command[1:]], capsys)
    assert code == EXIT_OK, out + err
    approval = json.loads((root / "approvals/dana.json").read_text(encoding="utf-8"))
    assert approval["digest"] == found.digest  # the manifest's digest is what is approved
    run_git(root, "add", "approvals")
    run_git(root, "commit", "--quiet", "-m", "approve the retention plan")

    # 3. The 4 apply jobs delete exactly the planned entries, each its own shard.
    assert apply_run.run_job("apply") == [EXIT_OK] * 4
    assert _live_profiles(root) == set(range(1, 41)) - set(deleted)
    audit = apply_run.artifacts
    assert sorted(p.name for p in audit.glob("dsgit-audit-shard-*")) == [
        f"dsgit-audit-shard-{n}" for n in range(1, 5)
    ]
    code, out, err = invoke_cli(["-C", str(root), "lock", "status"], capsys)
    assert code == EXIT_OK and out.startswith("released"), out + err
