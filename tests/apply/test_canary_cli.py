"""A canary secret through every command and file an apply touches, via the real CLI."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dsgit.config import load_project_config
from dsgit.model.entry import EntryData
from dsgit.remote.connect import open_client
from support import LOCAL_CONFIG, invoke_cli, write_files

CANARY = "canary-9d2e1f-never-shown"
OLD_CANARY = "old-canary-5b7a-never-shown"
KEY = base64.b64encode(bytes(range(32))).decode()


def _repo(root: Path, token: str, *, schema: bool = False) -> Path:
    store = "sensitive: [/token]\n" + ("schema: schemas/hook.schema.json\n" if schema else "")
    return write_files(
        root,
        {
            "dsgit.yaml": LOCAL_CONFIG,
            "datastores/Secrets/_store.yaml": store,
            "datastores/Secrets/global/webhook.yaml": (
                f'value: {{token: "{token}", url: "https://x"}}\n'
            ),
            "schemas/hook.schema.json": json.dumps(
                {
                    "type": "object",
                    "properties": {"token": {"enum": ["a"]}, "url": {"type": "string"}},
                }
            ),
        },
    )


def _everything(root: Path) -> str:
    """Every file dsgit wrote, except the emulator database (the live data itself)."""
    return "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in root.rglob("*")
        if path.is_file() and path.suffix != ".db" and "datastores" not in path.parts
    )


def test_a_sensitive_value_reaches_only_the_live_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path / "repo", CANARY)
    monkeypatch.setenv("DSGIT_ENCRYPTION_KEY", KEY)
    env = load_project_config(root).environment("local")
    with open_client(env) as client:
        client.create_entry("Secrets", "webhook", EntryData({"token": OLD_CANARY, "url": "x"}))
    outputs: list[str] = []

    def dsgit(*args: str, expect: int = 0) -> str:
        code, out, err = invoke_cli(["-C", str(root), *args], capsys)
        outputs.append(out + err)
        assert code == expect, out + err
        return out

    dsgit("plan", "-o", "plan.json", "--detailed-exitcode", expect=2)
    for fmt in ("text", "markdown", "json"):
        dsgit("show", "plan.json", "--format", fmt)
    dsgit("--debug", "apply", "plan.json", "--format", "json")
    dsgit("apply", "plan.json")  # already complete
    dsgit("get", "Secrets", "webhook")
    dsgit("get", "Secrets", "webhook", "--format", "json")
    dsgit("history", "Secrets", "webhook")
    dsgit("audit", "log")
    dsgit("audit", "verify")

    with open_client(env) as client:
        live = client.get_entry("Secrets", "webhook")
    assert live is not None and live.value == {"token": CANARY, "url": "https://x"}
    seen = "\n".join(outputs) + _everything(root)
    assert CANARY not in seen and OLD_CANARY not in seen


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_schema_failure_at_a_sensitive_path_is_not_quoted_even_in_a_traceback(
    tmp_path: Path, command: str
) -> None:
    root = _repo(tmp_path / "repo", CANARY, schema=True)
    done = subprocess.run(
        [sys.executable, "-m", "dsgit", "--debug", "-C", str(root), command],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "token" in done.stdout + done.stderr
    assert CANARY not in done.stdout + done.stderr
    assert CANARY not in _everything(root)
