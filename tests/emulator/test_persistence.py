"""The SQLite file keeps everything across emulator instances."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.errors import ConfigError

from .conftest import FakeClock, validated_client
from .helpers import CONFIGS, entries_url, entry_url, ordered_url


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "emulator.db"
    clock = FakeClock()
    first = Emulator(db=db, clock=clock, versions="all")
    with validated_client(first.transport()) as client:
        created = client.post(entries_url("S"), params={"id": "k"}, json={"value": {"a": 1}})
        client.patch(entry_url("S", "k"), json={"value": {"a": 2}, "users": ["users/9"]})
        client.post(ordered_url("P"), params={"id": "o"}, json={"value": 4})
        draft = client.put(
            f"{CONFIGS}/InExperienceConfig/draft:overwrite", json={"entries": {"x": 1}}
        ).json()["draftHash"]
        client.post(f"{CONFIGS}/InExperienceConfig/publish", json={"draftHash": draft})
    first.close()
    assert db.is_file()
    second = Emulator(db=db, clock=clock, versions="all")
    with validated_client(second.transport()) as client:
        entry = client.get(entry_url("S", "k")).json()
        assert entry["value"] == {"a": 2} and entry["users"] == ["users/9"]
        assert entry["createTime"] == created.json()["createTime"]
        revisions = client.get(entry_url("S", "k", suffix=":listRevisions")).json()
        assert len(revisions["dataStoreEntries"]) == 2
        assert client.get(ordered_url("P", key="o")).json()["value"] == 4
        config = client.get(f"{CONFIGS}/InExperienceConfig").json()
        assert config["entries"] == {"x": 1}
        next_revision = client.patch(entry_url("S", "k"), json={"value": 3}).json()
        assert ".0000000003." in next_revision["revisionId"]
    second.close()


def test_memory_databases_are_independent() -> None:
    one, two = Emulator(), Emulator()
    with validated_client(one.transport()) as a, validated_client(two.transport()) as b:
        a.post(entries_url("S"), params={"id": "k"}, json={"value": 1})
        assert b.get(entry_url("S", "k")).status_code == 404
    one.close()
    two.close()


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello, not sqlite " * 100, encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot open the emulator database") as caught:
        Emulator(db=bogus)
    assert str(bogus) in str(caught.value)
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError):
        Emulator(db=blocked / "sub" / "emulator.db")
