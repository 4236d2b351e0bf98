"""Per-environment values through the CLI: one commit planned and applied to two environments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.config import load_project_config
from dsgit.model.entry import Address, EntryData
from dsgit.model.overrides import for_environment
from dsgit.remote.connect import open_client
from dsgit.repo import load_declaration
from dsgit.repo.scaffold import init_repository
from support import invoke_cli, write_files

KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
CONFIG = """\
version: 1
default_environment: staging
environments:
  staging:
    universe_id: 2
    emulator: .dsgit/staging.db
  production:
    universe_id: 3
    emulator: .dsgit/production.db
"""

FILES = {
    "dsgit.yaml": CONFIG,
    "schemas/item.schema.yaml": (
        "type: object\nrequired: [price]\n"
        "properties:\n  price: {type: integer, minimum: 0}\n  secret: {type: string}\n"
    ),
    "datastores/Shop/_store.yaml": "schema: schemas/item.schema.yaml\nsensitive: [/secret]\n",
    "datastores/Shop/global/sword.yaml": (
        "value:\n  price: 250\n  secret: CANARY-base-7\n"
        "environments:\n"
        "  staging:\n    value:\n      price: 1\n      secret: CANARY-staging-7\n"
        "    attributes: {tier: test}\n"
    ),
    "datastores/Shop/global/shield.yaml": "value:\n  price: 100\n",
    "datastores/Beta/_store.yaml": "environments: [staging]\nprune: true\n",
    "datastores/Beta/global/new_ui.yaml": "value: true\n",
}


def plan_file(repo: Path, env: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    out_file = repo / f"{env}.json"
    code, out, err = invoke_cli(["-C", str(repo), "plan", "-e", env, "-o", str(out_file)], capsys)
    assert code == 0, err
    assert "CANARY" not in out + err + out_file.read_text(encoding="utf-8")
    plan: dict[str, object] = json.loads(out_file.read_text(encoding="utf-8"))
    return plan


def afters(plan: dict[str, object]) -> dict[str, object]:
    changes = plan["changes"]
    assert isinstance(changes, list)
    return {change["address"]: change["after"] for change in changes}


def test_one_commit_planned_for_two_environments_shows_each_effective_value(
    repo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write_files(repo_dir, FILES)
    staging, production = plan_file(repo, "staging", capsys), plan_file(repo, "production", capsys)
    for key in ("commit", "digest"):  # the same declaration (each plan slices its own inputs)
        assert staging["source"][key] == production["source"][key]  # type: ignore[index]
    staged, produced = afters(staging), afters(production)
    assert staged["Shop/global/sword"]["value"]["price"] == 1  # type: ignore[index]
    assert staged["Shop/global/sword"]["attributes"] == {"tier": "test"}  # type: ignore[index]
    assert produced["Shop/global/sword"]["value"]["price"] == 250  # type: ignore[index]
    assert produced["Shop/global/sword"]["attributes"] == {}  # type: ignore[index]
    assert staged["Shop/global/shield"] == produced["Shop/global/shield"]
    # the store that exists only in staging: planned there, not even read in production
    assert "Beta/global/new_ui" in staged and "Beta/global/new_ui" not in produced

    code, out, _ = invoke_cli(["-C", str(repo), "show", str(repo / "staging.json")], capsys)
    assert code == 0 and "price" in out and "CANARY" not in out

    for env in ("staging", "production"):
        code, out, err = invoke_cli(["-C", str(repo), "apply", str(repo / f"{env}.json")], capsys)
        assert code == 0, out + err
        assert "CANARY" not in out + err
    config = load_project_config(repo)
    with open_client(config.environment("staging")) as client:
        sword = client.get_entry("Shop", "sword")
        assert sword is not None
        assert sword.data == EntryData({"price": 1, "secret": "CANARY-staging-7"}, {"tier": "test"})
    with open_client(config.environment("production")) as client:
        sword = client.get_entry("Shop", "sword")
        assert sword is not None and sword.data == EntryData(
            {"price": 250, "secret": "CANARY-base-7"}
        )
        assert client.get_entry("Beta", "new_ui") is None

    for env in ("staging", "production"):  # plan -> apply -> plan is empty in each
        code, out, err = invoke_cli(
            ["-C", str(repo), "plan", "-e", env, "--detailed-exitcode"], capsys
        )
        assert code == 0, out + err
        assert "CANARY" not in out + err


def test_a_change_to_one_environment_leaves_the_others_plan_applicable(
    repo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write_files(repo_dir, FILES)
    plan_file(repo, "production", capsys)
    plan_file(repo, "staging", capsys)
    sword = repo / "datastores/Shop/global/sword.yaml"
    sword.write_text(sword.read_text(encoding="utf-8").replace("price: 1", "price: 2"))
    code, out, err = invoke_cli(["-C", str(repo), "apply", str(repo / "production.json")], capsys)
    assert code == 0, out + err
    code, out, err = invoke_cli(["-C", str(repo), "apply", str(repo / "staging.json")], capsys)
    assert code == 4, out + err  # stale: what staging's plan depends on changed
    assert "sword" in out + err


def test_the_example_rolls_a_flag_out_further_in_staging(tmp_path: Path) -> None:
    root = tmp_path / "game"
    init_repository(root, "obby-tycoon", env={"DSGIT_ENCRYPTION_KEY": KEY})
    declaration = load_declaration(root)
    flag = Address.standard("FeatureFlags", "new_checkpoint_ui")
    rollout = {
        env: for_environment(declaration, env).data(flag).value["rollout_percent"]  # type: ignore[union-attr,index,call-overload]
        for env in ("local", "staging", "production")
    }
    assert rollout == {"local": 25, "staging": 100, "production": 25}
