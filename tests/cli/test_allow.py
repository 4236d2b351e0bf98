"""``--allow CODE=REASON`` on plan-making commands, and per-key suppressions under
``overrides``: the rollback dead end of an old commit's `_store.yaml`, and its way out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.errors import EXIT_OK, EXIT_POLICY
from support import LOCAL_CONFIG, invoke_cli, run_git, write_files

STORE = "datastores/Shop/_store.yaml"


def _commit(root: Path, message: str) -> str:
    run_git(root, "add", "--all")
    run_git(root, "commit", "--quiet", "-m", message)
    return run_git(root, "rev-parse", "HEAD")


def _dsgit(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


@pytest.fixture
def shop(repo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DSGIT_ACTOR", "tester")
    write_files(
        repo_dir,
        {
            "dsgit.yaml": LOCAL_CONFIG,
            ".gitignore": ".dsgit/\nplans/\n",
            STORE: "ownership: owned\nprune: true\n",
            "datastores/Shop/global/sword.yaml": "value: {price: 10}\n",
        },
    )
    run_git(repo_dir, "init", "--quiet")
    return repo_dir


def _apply_head(root: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, err = _dsgit(root, capsys, "plan", "-o", f"plans/{name}.json")
    assert code == EXIT_OK, out + err
    code, out, err = _dsgit(root, capsys, "apply", f"plans/{name}.json")
    assert code == EXIT_OK, out + err


def test_rollback_dead_end_is_passed_with_allow(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _commit(shop, "sword")
    _apply_head(shop, capsys, "first")
    write_files(shop, {"datastores/Shop/global/shield.yaml": "value: {price: 99}\n"})
    _commit(shop, "shield launch")
    _apply_head(shop, capsys, "second")

    # The old commit prunes the store: rolling back deletes `shield` (DSP002, blocking), and
    # the only suppression the declaration allows is in that commit's _store.yaml.
    code, out, _ = _dsgit(shop, capsys, "rollback", "--to", before, "-o", "plans/back.json")
    assert code == EXIT_OK and "DSP002" in out and "apply would refuse" in out
    code, _, err = _dsgit(shop, capsys, "apply", "plans/back.json")
    assert code == EXIT_POLICY, err

    reason = "undo the shield launch (incident 12)"
    code, out, err = _dsgit(
        shop, capsys, "rollback", "--to", before, "--allow", f"DSP002={reason}",
        "-o", "plans/back2.json",
    )  # fmt: skip
    assert code == EXIT_OK, out + err
    assert "Allowed for this plan only (--allow):" in out
    assert f"DSP002 (1 diagnostic): {reason}" in out
    assert f"suppressed: --allow: {reason}" in out
    saved = json.loads((shop / "plans/back2.json").read_text(encoding="utf-8"))
    assert saved["allowed"] == [{"code": "DSP002", "count": None, "matched": 1, "reason": reason}]

    code, out, err = _dsgit(shop, capsys, "apply", "plans/back2.json")
    assert code == EXIT_OK, out + err
    code, out, _ = _dsgit(shop, capsys, "ls", "Shop")
    assert out.split() == ["sword"]
    code, out, _ = _dsgit(shop, capsys, "show", "plans/back2.json", "--format", "markdown")
    assert reason in out


@pytest.mark.parametrize(
    ("argument", "complaint"),
    [
        ("DSP010=because", "cannot be suppressed"),
        ("DSP999=because", "no such diagnostic"),
        ("DSP002=", "needs a reason"),
        ("DSP003=many", "count it allows"),
        ("delete everything", "expected CODE=REASON"),
    ],
)
def test_allow_refuses_what_cannot_be_allowed(
    shop: Path, capsys: pytest.CaptureFixture[str], argument: str, complaint: str
) -> None:
    _commit(shop, "sword")
    code, _, err = _dsgit(shop, capsys, "plan", "--allow", argument, "-o", "plans/x.json")
    assert code == 1 and complaint in err
    assert not (shop / "plans/x.json").exists()


def test_an_allow_that_matches_nothing_is_said(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(shop, "sword")
    code, _, err = _dsgit(shop, capsys, "plan", "--allow", "DSP001=just in case")
    assert code == EXIT_OK
    assert "--allow DSP001 matched no blocking diagnostic" in err


def test_per_key_suppressions_under_overrides(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(shop, "sword")
    _apply_head(shop, capsys, "first")
    write_files(shop, {"datastores/Shop/global/old_event.yaml": "value: 1\n"})
    _commit(shop, "event")
    _apply_head(shop, capsys, "second")
    (shop / "datastores/Shop/global/old_event.yaml").unlink()
    write_files(
        shop,
        {
            STORE: (
                "ownership: owned\nprune: true\noverrides:\n  - keys: old_*\n    suppress:\n"
                "      - code: DSP002\n        reason: the 2024 event is over\n"
            )
        },
    )
    _commit(shop, "end the event")
    code, out, err = _dsgit(shop, capsys, "validate")
    assert code == EXIT_OK, out + err  # DS202 before: unknown field suppress in overrides.0
    code, out, err = _dsgit(shop, capsys, "plan", "-o", "plans/third.json")
    assert code == EXIT_OK, out + err
    assert "suppressed: the 2024 event is over" in out
    code, out, err = _dsgit(shop, capsys, "apply", "plans/third.json")
    assert code == EXIT_OK, out + err
