"""`dsgit keys generate`, `dsgit approve`, `dsgit approvals check` in process, on the embedded
emulator, and the key material never leaving its file (canaries)."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from approval_builders import plan as a_plan
from dsgit.approvals.document import approvals_in_text
from dsgit.approvals.keys import load_key
from dsgit.plan.io import plan_to_json, with_digest
from support import LOCAL_CONFIG, invoke_cli, run_git, write_files

CONFIG = (
    LOCAL_CONFIG
    + """\
  prod:
    universe_id: 1
    emulator: .dsgit/emulator.db
    protected: true
"""
)


def run(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write_files(
        root,
        {
            "dsgit.yaml": CONFIG,
            ".gitignore": ".dsgit/\n*.json\n*.approvals/\n",
            "datastores/Config/global/motd.yaml": "value: welcome\n",
        },
    )
    run_git(root, "init", "--quiet")
    return root


def keys(root: Path, capsys: pytest.CaptureFixture[str], *names: str) -> dict[str, str]:
    found = {}
    for name in names:
        code, out, err = run(
            root,
            "keys",
            "generate",
            "--name",
            name,
            "--out",
            str(root.parent / f"{name}.key"),
            capsys=capsys,
        )
        assert code == 0, err
        found[name] = out.strip()
    return found


def policy(root: Path, public: dict[str, str], **extra: object) -> None:
    document = {
        "version": 1,
        "approvers": [{"name": n, "key": k} for n, k in public.items()],
        **extra,
    }
    write_files(root, {"policies/approvals.yaml": yaml.safe_dump(document)})


def commit_and_plan(
    root: Path, capsys: pytest.CaptureFixture[str], name: str = "plan.json"
) -> Path:
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "--allow-empty", "-m", "change")
    code, _, err = run(root, "plan", "-e", "prod", "-o", str(root / name), capsys=capsys)
    assert code == 0, err
    return root / name


def test_keys_generate_writes_a_0600_key_and_prints_only_the_public_line(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(repo, "keys", "generate", "--name", "alice", capsys=capsys)
    assert code == 0, err
    path = Path.home() / ".config/dsgit/keys/alice.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert out.strip() == load_key(path).public and out.startswith("ed25519:")
    assert "PRIVATE" not in out + err and path.read_text().split("\n")[1] not in out + err
    code, _, err = run(repo, "keys", "generate", "--name", "alice", capsys=capsys)
    assert code == 1 and "already there" in err  # never overwrites a key
    code, _, err = run(repo, "keys", "generate", "--name", "../x", capsys=capsys)
    assert code == 1 and "approver name" in err


def test_approve_and_check_round_trip(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    public = keys(repo, capsys, "alice", "bob")
    policy(repo, public)
    plan = commit_and_plan(repo, capsys)
    code, out, _ = run(repo, "approvals", "check", str(plan), capsys=capsys)
    assert code == 3 and "protected environment" in out and "needs 1 more approval" in out
    code, out, err = run(
        repo, "approve", str(plan), "--key", str(repo.parent / "alice.key"), capsys=capsys
    )
    assert code == 0, err
    written = plan.with_name("plan.json.approvals") / "alice.json"
    document = json.loads(written.read_text())
    assert document["approver"] == "alice" and document["format"] == "dsgit-approval/1"
    (parsed,), problems = approvals_in_text(out, "stdout")
    assert not problems and parsed.signature == document["signature"]
    for output_format in ("text", "markdown", "json"):
        code, out, _ = run(
            repo, "approvals", "check", str(plan), "--format", output_format, capsys=capsys
        )
        assert code == 0, out
    assert json.loads(out)["satisfied"] is True
    code, out, _ = run(repo, "apply", str(plan), capsys=capsys)
    assert code == 0 and "Approved by alice (signature)" in out


def test_approve_refuses_a_key_not_in_the_policy(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = keys(repo, capsys, "alice", "mallory")
    policy(repo, {"alice": public["alice"]})
    plan = commit_and_plan(repo, capsys)
    code, _, err = run(
        repo, "approve", str(plan), "--key", str(repo.parent / "mallory.key"), capsys=capsys
    )
    assert code == 1 and "not in policies/approvals.yaml" in err
    # signed anyway under a claimed name: the check names why it does not count
    code, _, _ = run(
        repo,
        "approve",
        str(plan),
        "--key",
        str(repo.parent / "mallory.key"),
        "--name",
        "mallory",
        capsys=capsys,
    )
    assert code == 0
    code, out, _ = run(repo, "approvals", "check", str(plan), capsys=capsys)
    assert code == 3 and "'mallory' is not an approver" in out


def test_forged_approval_file_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    public = keys(repo, capsys, "alice", "bob")
    policy(repo, public)
    plan = commit_and_plan(repo, capsys)
    run(repo, "approve", str(plan), "--key", str(repo.parent / "bob.key"), capsys=capsys)
    folder = plan.with_name("plan.json.approvals")
    forged = json.loads((folder / "bob.json").read_text())
    forged["approver"] = "alice"
    forged["key"] = public["alice"]
    (folder / "bob.json").write_text(json.dumps(forged))
    code, out, _ = run(repo, "approvals", "check", str(plan), capsys=capsys)
    assert code == 3 and "does not verify with alice's key" in out
    code, _, err = run(repo, "apply", str(plan), capsys=capsys)
    assert code == 3 and "needs 1 more approval" in err


def test_tampered_policy_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    public = keys(repo, capsys, "alice", "bob")
    policy(repo, public)
    plan = commit_and_plan(repo, capsys)
    run(repo, "approve", str(plan), "--key", str(repo.parent / "alice.key"), capsys=capsys)
    policy(repo, public, max_age="30d")  # edited after the plan
    code, out, err = run(repo, "approvals", "check", str(plan), capsys=capsys)
    # stale, as apply says (the policy is one of the plan's inputs), with the reason shown
    assert code == 4 and "changed since the plan was made" in out and "stale" in err


def test_a_broken_policy_is_an_error_naming_file_line_and_field(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(
        repo,
        {
            "policies/approvals.yaml": (
                "version: 1\napprovers:\n  - name: alice\n    key: ed25519:nope\n"
                "groups:\n  owners: [alice, zed]\n"
            )
        },
    )
    code, out, err = run(repo, "validate", capsys=capsys)
    assert code == 1
    assert "policies/approvals.yaml:4:" in out + err and "DS201" in out + err
    write_files(
        repo,
        {
            "policies/approvals.yaml": (
                "version: 1\napprovers:\n  - name: alice\n    github: alice-gh\n"
                "groups:\n  owners: [alice, zed]\nrules:\n  - name: r\n    min_approvals: 3\n"
            )
        },
    )
    code, out, err = run(repo, "validate", capsys=capsys)
    assert code == 1 and "policies/approvals.yaml:6:" in out + err and "'zed'" in out + err
    assert "needs 3 approvals but only 1" in out + err
    code, _, err = run(repo, "plan", "-e", "prod", "-o", str(repo / "p.json"), capsys=capsys)
    assert code == 1 and "policies/approvals.yaml:6" in err and "Traceback" not in err


def test_dirty_plans_are_fenced(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    public = keys(repo, capsys, "alice")
    policy(repo, public)
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "first")
    write_files(repo, {"datastores/Config/global/motd.yaml": "value: uncommitted\n"})
    code, _, err = run(repo, "plan", "-e", "prod", "-o", str(repo / "dirty.json"), capsys=capsys)
    assert code == 0, err
    run(
        repo,
        "approve",
        str(repo / "dirty.json"),
        "--key",
        str(repo.parent / "alice.key"),
        capsys=capsys,
    )
    code, _, err = run(repo, "apply", "dirty.json", "--allow-dirty", capsys=capsys)
    assert code == 3 and "never accepts" in err
    # the embedded emulator takes dirty plans (local work)
    code, _, err = run(repo, "plan", "-o", str(repo / "local.json"), capsys=capsys)
    code, _, err = run(repo, "apply", "local.json", capsys=capsys)
    assert code == 0, err


def test_private_key_canary_never_in_output_even_on_errors(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = keys(repo, capsys, "alice")
    policy(repo, public)
    plan = commit_and_plan(repo, capsys)
    key_file = repo.parent / "alice.key"
    body = key_file.read_text().split("-----")[2].strip()
    outputs = []
    for args in (
        ("approve", str(plan), "--key", str(key_file)),
        ("approve", str(plan), "--key", str(key_file), "--format", "json"),
        ("approvals", "check", str(plan), "--format", "json"),
        ("apply", str(plan), "--format", "json"),
    ):
        outputs.append(run(repo, *args, capsys=capsys))
    broken = repo.parent / "broken.key"
    broken.write_text(body[:-4] + "!!!!")
    broken.chmod(0o600)
    outputs.append(run(repo, "approve", str(plan), "--key", str(broken), capsys=capsys))
    key_file.chmod(0o644)
    outputs.append(run(repo, "approve", str(plan), "--key", str(key_file), capsys=capsys))
    assert outputs[-1][0] == 1 and "chmod 600" in outputs[-1][2]
    assert outputs[-2][0] == 1 and "not an Ed25519 private key" in outputs[-2][2]
    for _code, out, err in outputs:
        assert body not in out + err and body[:24] not in out + err
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert body[:24] not in path.read_text(errors="replace"), path


def test_check_of_an_expired_plan_says_apply_will_refuse_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = a_plan(environment="prod", universe_id=1, policy_digest="none")
    expired = with_digest(
        replace(old, created="2020-01-01T00:00:00Z", expires="2020-01-02T00:00:00Z")
    )
    (repo / "old.json").write_bytes(plan_to_json(expired))
    code, out, err = run(repo, "approvals", "check", "old.json", capsys=capsys)
    assert code == 4 and "expired" in err and "NOT SATISFIED" in out


def test_a_segmented_plan_is_approved_and_applied_by_its_manifest_digest(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = keys(repo, capsys, "alice")
    policy(repo, public)
    write_files(repo, {f"datastores/Shop/global/i{n}.yaml": f"value: {n}\n" for n in range(9)})
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "shop")
    plan = repo / "plan.json"
    code, out, err = run(
        repo, "plan", "-e", "prod", "-o", str(plan), "--segment-size", "3", capsys=capsys
    )
    assert code == 0, err
    manifest = json.loads(plan.read_text())
    assert len(manifest["segments"]) == 4  # 10 creates
    code, out, _ = run(repo, "apply", str(plan), capsys=capsys)
    assert code == 3  # protected: an approval is needed, as for any plan
    code, _, err = run(
        repo, "approve", str(plan), "--key", str(repo.parent / "alice.key"), capsys=capsys
    )
    assert code == 0, err
    signed = json.loads((repo / "plan.json.approvals/alice.json").read_text())
    assert signed["digest"] == manifest["digest"]
    code, out, _ = run(repo, "approvals", "check", str(plan), capsys=capsys)
    assert code == 0, out
    code, out, err = run(repo, "apply", str(plan), capsys=capsys)
    assert code == 0, out + err
    assert "Approved by alice (signature)" in out and "10 written" in out
