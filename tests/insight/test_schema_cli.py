from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from dsgit.emulator import Emulator
from dsgit.remote.client import OpenCloudClient
from support import invoke_cli

from .fixtures import datastore2_blob, profile
from .world import CANARY, make_repo, seed


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    seed(root)
    monkeypatch.chdir(root)
    return root


def live_values(root: Path, store: str) -> list[object]:
    with Emulator(db=root / ".dsgit" / "emulator.db") as emulator:
        api = OpenCloudClient(1, transport=emulator.transport())
        keys = [item.key for item in api.list_keys(store)]
        return [api.get_entry(store, key).value for key in keys]  # type: ignore[union-attr]


def test_infer_writes_a_schema_the_store_conforms_to(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = invoke_cli(
        ["schema", "infer", "PlayerStore", "-o", "schemas/inferred.schema.json", "-q"], capsys
    )
    assert code == 0, err
    assert out.startswith("wrote schemas/inferred.schema.json: 60 of 60 values sampled; 100.0%")
    assert "schema: schemas/inferred.schema.json" in out
    text = (repo / "schemas/inferred.schema.json").read_text()
    assert CANARY not in text and "kid@example.com" not in text
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    values = live_values(repo, "PlayerStore")
    # the sample it came from (here, every value) conforms; another shape does not
    assert len(values) == 60 and all(validator.is_valid(value) for value in values)
    assert not validator.is_valid(datastore2_blob(10, []))
    assert not validator.is_valid({**profile(1, 10), "Data": {"Coins": "many"}})
    # ready to reference from _store.yaml: the repository validates and the scan conforms
    (repo / "datastores/PlayerStore/_store.yaml").write_text(
        "ownership: observed\nschema: schemas/inferred.schema.json\nsensitive: [/Data/Secret]\n"
    )
    code, out, err = invoke_cli(["validate"], capsys)
    assert code == 0, out + err
    code, out, err = invoke_cli(["scan", "PlayerStore", "--format", "json", "-q"], capsys)
    assert json.loads(out)["stores"][0]["conformance"]["share"] == 1.0


def test_infer_sample_to_stdout_and_json(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke_cli(["schema", "infer", "DATA/1007", "--sample", "2", "-q"], capsys)
    assert code == 0
    schema = json.loads(out)
    assert schema["title"] == "DATA/1007" and "2 of 3 values" in schema["description"]
    assert "2 of 3 values sampled; 100.0% of the sample conforms" in err
    code, out, _ = invoke_cli(["schema", "infer", "ShopCatalog", "--format", "json", "-q"], capsys)
    body = json.loads(out)
    assert (body["keys"], body["sampled"], body["conformance"]) == (12, 12, 1.0)
    assert body["schema"]["properties"]["currency"]["enum"] == ["coins", "gems"]


def test_infer_an_empty_store_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = invoke_cli(["schema", "infer", "Nothing", "-q"], capsys)
    assert code == 1 and "has no entries" in err
