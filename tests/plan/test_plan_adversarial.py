"""Plan files and masking under hostile or surprising input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.model.declaration import StorePolicy
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.io import plan_to_json
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.remote.testing import emulated_client
from support import LOCAL_CONFIG, declaration_of, invoke_cli, write_files

ENTRY = 'value: {motd: "hello"}\n'


def _repo(root: Path) -> Path:
    return write_files(
        root, {"dsgit.yaml": LOCAL_CONFIG, "datastores/Config/global/settings.yaml": ENTRY}
    )


def test_plan_output_through_a_symlink_replaces_the_link_not_its_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo(tmp_path / "repo")
    precious = tmp_path / "precious.txt"
    precious.write_text("do not overwrite\n", encoding="utf-8")
    link = root / "plan.json"
    link.symlink_to(precious)

    code, out, err = invoke_cli(["-C", str(root), "plan", "-o", "plan.json"], capsys)

    assert code == 0, out + err
    assert precious.read_text(encoding="utf-8") == "do not overwrite\n"
    assert not link.is_symlink() and json.loads(link.read_text())["kind"] == "plan"


def test_applying_a_plan_through_a_symlink_reads_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo(tmp_path / "repo")
    assert invoke_cli(["-C", str(root), "plan", "-o", "real.json"], capsys)[0] == 0
    (root / "link.json").symlink_to(root / "real.json")
    code, out, err = invoke_cli(["-C", str(root), "apply", "link.json"], capsys)
    assert code == 0 and "1 written" in out, out + err


def test_sensitive_pointers_cover_the_value_not_the_attributes() -> None:
    """Documented (docs/encryption.md, Pointers): attributes and users are metadata in clear."""
    address = Address.standard("Secrets", "webhook")
    declaration = declaration_of(
        {address: EntryData({"token": "value-canary"}, {"note": "attribute-shown"})},
        {(StoreKind.STANDARD, "Secrets"): StorePolicy(sensitive=("/token",))},
    )
    client = emulated_client(Emulator(db=":memory:"), universe_id=1)
    try:
        plan = make_plan(declaration, client, PlanRequest("local", 1))
    finally:
        client.close()
    text = plan_to_json(plan).decode()
    assert "value-canary" not in text and "attribute-shown" in text
