"""``dsgit doctor``: key, scopes per command (from the OpenAPI x-roblox-scopes), one real read,
the budget; against the embedded emulator and a served one with restricted keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsgit.doctor import COMMAND_OPERATIONS, command_scopes, operation_scopes
from dsgit.emulator import Emulator, ServedEmulator
from dsgit.model.entry import EntryData
from dsgit.remote.testing import emulated_client
from support import LOCAL_CONFIG, invoke_cli

CANARY = "doctor-canary-key-5b2e91"
PLAN_SCOPES = {
    "universe:read",  # the configs repositories, when the repository declares one
    "universe-datastores.objects:list",
    "universe-datastores.objects:read",
    "universe.ordered-data-store.scope.entry:read",
}


def run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), "doctor", *args], capsys)


def test_scopes_come_from_the_openapi_operations() -> None:
    assert set(command_scopes("plan")) == PLAN_SCOPES
    apply = set(command_scopes("apply"))
    assert {
        "universe-datastores.objects:create",
        "universe-datastores.objects:update",
        "universe-datastores.objects:delete",
        "universe-datastores.control:snapshot",
        "universe.ordered-data-store.scope.entry:write",
        "universe-datastores.versions:list",
    } <= apply
    assert "universe-datastores.versions:list" in command_scopes("history")
    assert "universe-datastores.control:list" in command_scopes("import")
    assert operation_scopes("Cloud_IncrementDataStoreEntry__Using_Universes_DataStores_Scopes") == (
        "universe-datastores.objects:create",
        "universe-datastores.objects:update",
    )
    for operations in COMMAND_OPERATIONS.values():
        for operation in operations:
            assert operation_scopes(operation), operation  # every id exists and has scopes


@pytest.fixture
def local(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "dsgit.yaml").write_text(LOCAL_CONFIG)
    return root


def test_the_embedded_emulator_is_healthy(local: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (local / ".dsgit").mkdir()
    with (
        Emulator(db=local / ".dsgit/emulator.db") as emulator,
        emulated_client(emulator) as client,
    ):
        client.create_entry("Shop", "sword", EntryData(1))
    code, out, err = run(local, capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("dsgit doctor: environment local (universe 1), embedded emulator ")
    assert "  ok    key     not needed: the embedded emulator takes no key" in lines
    assert "  ok    read    listed data stores: Shop" in lines
    assert "  ok    scopes  every scope dsgit uses is granted" in lines
    assert "  ok    budget  unlimited: the embedded emulator has no rate limits" in lines
    assert lines[-1] == "Healthy."
    code, out, _ = run(local, capsys, "--format", "json")
    payload = json.loads(out)
    assert code == 0 and payload["healthy"] is True and payload["budget"] == {}
    assert {item["state"] for item in payload["scopes"]} == {"granted"}
    assert [c["command"] for c in payload["commands"]][:3] == ["plan", "drift", "apply"]


READER = frozenset(
    {
        "universe:read",
        "universe-datastores.control:list",
        "universe-datastores.objects:list",
        "universe-datastores.objects:read",
        "universe.ordered-data-store.scope.entry:read",
    }
)


@pytest.fixture
def served() -> Iterator[ServedEmulator]:
    emulator = Emulator(
        api_keys={
            CANARY: READER,
            "no-read": READER - {"universe-datastores.objects:read"},
            "no-ordered": READER - {"universe.ordered-data-store.scope.entry:read"},
            "no-configs": READER - {"universe:read"},
            "seeder": frozenset({"*"}),
        }
    )
    with emulated_client(emulator, api_key="seeder") as client:
        client.create_entry("PlayerData", "Player_1", EntryData({"coins": 1}))
    with emulator.serve() as server:
        yield server
    emulator.close()


def served_repo(root: Path, url: str) -> Path:
    root.mkdir()
    (root / "dsgit.yaml").write_text(
        "version: 1\ndefault_environment: served\nenvironments:\n  served:\n"
        f"    universe_id: 1\n    url: {url}\n    api_key_env: DOCTOR_KEY\n"
        "    budget: {ccu: 100, share: 0.5}\n"
    )
    return root


@pytest.mark.slow
def test_a_read_only_key_can_plan_but_not_apply(
    tmp_path: Path,
    served: ServedEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = served_repo(tmp_path / "repo", served.url)
    monkeypatch.setenv("DOCTOR_KEY", CANARY)
    code, out, err = run(root, capsys)
    assert code == 0, out + err  # plan works: healthy, with warnings
    assert CANARY not in out + err
    assert f"environment served (universe 1), {served.url}" in out
    assert "  ok    key     $DOCTOR_KEY is set" in out
    assert "  ok    read    listed data stores: PlayerData" in out
    denied = (
        "denied (403): universe-datastores.versions:list, so apply, history, webhook serve "
        "cannot run"
    )
    assert f"  warn  scopes  {denied}" in out
    assert "not probed (only a write would tell): universe-datastores.control:snapshot" in out
    assert "  ok    plan              every scope it needs is granted" in out
    assert "  fail  history           denied: universe-datastores.versions:list" in out
    assert "  fail  apply             denied: universe-datastores.versions:list" in out
    assert "  ok    revert            every scope it needs is granted" in out
    assert (
        "  ok    budget  ccu 100, share 0.5: dsgit may send 2150 reads, 1150 writes, 250 "
        "listings and 2150 deletes a minute" in out
    )
    assert "  denied      universe-datastores.versions:list" in out
    assert "  granted     universe-datastores.objects:read" in out
    code, out, err = run(root, capsys, "--format", "json")
    payload = json.loads(out)
    assert code == 0 and payload["healthy"] is True and CANARY not in out + err
    assert payload["budget"]["read"] == 2150 and payload["budget"]["read (ordered)"] == 2150
    states = {item["scope"]: item["state"] for item in payload["scopes"]}
    assert states["universe-datastores.versions:list"] == "denied"
    assert states["universe-datastores.objects:create"] == "not probed"
    assert all(states[scope] == "granted" for scope in PLAN_SCOPES)


@pytest.mark.slow
def test_a_key_that_cannot_read_is_not_healthy(
    tmp_path: Path,
    served: ServedEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = served_repo(tmp_path / "repo", served.url)
    monkeypatch.setenv("DOCTOR_KEY", "no-read")
    code, out, _ = run(root, capsys)
    assert code == 1
    assert "  fail  scopes  denied (403): universe-datastores.objects:read" in out
    assert "  fail  plan              denied: universe-datastores.objects:read" in out
    assert out.splitlines()[-1] == "Not healthy: scopes failed."


@pytest.mark.slow
def test_a_wrong_or_missing_key_is_not_healthy_and_never_printed(
    tmp_path: Path,
    served: ServedEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = served_repo(tmp_path / "repo", served.url)
    wrong = f"{CANARY}-wrong"
    monkeypatch.setenv("DOCTOR_KEY", wrong)
    code, out, err = run(root, capsys)
    assert code == 1 and wrong not in out + err
    assert "  fail  key     $DOCTOR_KEY is set, but the service refused it (401)" in out
    assert "  fail  read    listing data stores failed: " in out
    assert "rejected the API key in $DOCTOR_KEY (HTTP 401)" in out
    monkeypatch.delenv("DOCTOR_KEY")
    code, out, err = run(root, capsys, "--format", "json")
    payload = json.loads(out)
    assert code == 1 and payload["healthy"] is False
    assert payload["checks"][:2] == [
        {"name": "key", "status": "fail", "detail": "$DOCTOR_KEY is unset or empty"},
        {"name": "read", "status": "fail", "detail": "not tried: no key"},
    ]


@pytest.mark.slow
def test_ordered_scopes_matter_to_plan_only_when_an_ordered_store_is_declared(
    tmp_path: Path,
    served: ServedEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = served_repo(tmp_path / "repo", served.url)
    monkeypatch.setenv("DOCTOR_KEY", "no-ordered")
    code, out, err = run(root, capsys)  # no ordered store declared
    assert code == 0, out + err
    assert "  ok    plan              every scope it needs is granted" in out
    assert "  fail  import            denied: universe.ordered-data-store.scope.entry:read" in out
    (root / "datastores/Leaderboard").mkdir(parents=True)
    (root / "datastores/Leaderboard/_store.yaml").write_text("kind: ordered\n")
    code, out, err = run(root, capsys)  # now plan reads it
    assert code == 1, out + err
    assert "  fail  plan              denied: universe.ordered-data-store.scope.entry:read" in out


@pytest.mark.slow
def test_configs_scopes_matter_to_plan_only_when_a_configs_repository_is_declared(
    tmp_path: Path,
    served: ServedEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = served_repo(tmp_path / "repo", served.url)
    monkeypatch.setenv("DOCTOR_KEY", "no-configs")
    code, out, err = run(root, capsys)  # no configs/ and no erasure templates
    assert code == 0, out + err
    assert "  denied      universe:read" in out
    assert "read the published configs repository InExperienceConfig: HTTP 403" in out
    assert "  ok    plan              every scope it needs is granted" in out
    assert "  fail  import --configs  denied: universe:read" in out
    assert "  fail  history --configs denied: universe:read" in out
    (root / "policies").mkdir()
    (root / "policies/erasure.yaml").write_text(
        "version: 1\nuser_data_templates:\n  - data_store_template:\n"
        "      data_store_type: STANDARD\n      data_store_pattern: 'DATA/{UserId}'\n"
    )
    code, out, err = run(root, capsys)  # the templates are published to DataStoresConfig
    assert code == 1, out + err
    assert "  fail  plan              denied: universe:read" in out
    assert (
        "  fail  apply             denied: universe-datastores.versions:list, universe:read" in out
    )
    (root / "policies/erasure.yaml").unlink()
    (root / "configs").mkdir()
    (root / "configs/InExperienceConfig.yaml").write_text("repository: InExperienceConfig\n")
    code, out, err = run(root, capsys)
    assert code == 1 and "  fail  drift             denied: universe:read" in out, out + err
    payload = json.loads(run(root, capsys, "--format", "json")[1])
    plan = next(c for c in payload["commands"] if c["command"] == "plan")
    assert "universe:read" in plan["needs"] and plan["denied"] == ["universe:read"]
