from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import invoke_cli

from .world import CANARY, make_repo, seed


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    seed(root)
    monkeypatch.chdir(root)
    return root


def by_store(body: dict[str, object]) -> dict[str, dict[str, object]]:
    return {s["store"]: s for s in body["stores"]}  # type: ignore[index,attr-defined]


def test_scan_json_every_figure(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke_cli(["scan", "--format", "json"], capsys)
    assert code == 0, err
    assert CANARY not in out and CANARY not in err
    body = json.loads(out)
    stores = by_store(body)
    assert sorted(stores) == ["DATA/1007", "PlayerStore", "ShopCatalog"]
    players = stores["PlayerStore"]
    assert (players["keys"], players["read"], players["sampled"]) == (60, 60, False)
    assert players["margin_of_error"] == 0
    assert players["session_locks"] == {"count": 2, "examples": ["1001", "1002"]}
    assert players["stale"]["count"] == 1 and players["stale"]["examples"] == ["1003"]
    conformance = players["conformance"]
    assert conformance["conforming"] == 59
    assert conformance["violations"] == [
        {
            "pointer": "/Data/Coins",
            "keyword": "maximum",
            "expected": "maximum 1000000",
            "count": 1,
            "examples": ["1007"],
        }
    ]
    coins = {o["pointer"]: o for o in players["outliers"]}["/Data/Coins"]
    assert coins["outliers"] == [
        {"key": "1007", "value": 9000000, "score": coins["outliers"][0]["score"]}
    ]
    assert players["pii"] == [
        {"kind": "email", "pointer": "/Data/Email", "count": 1, "examples": ["1010"]}
    ]
    assert sum(b["count"] for b in players["sizes"]["histogram"]) == 60
    assert players["near_limit"]["count"] == 0
    # DataStore2 saves carry no users metadata: the blobs hold no user ids, no PII
    assert stores["DATA/1007"]["pii"] == [] and stores["DATA/1007"]["with_users_metadata"] == 0
    assert stores["ShopCatalog"]["conformance"] is None  # no schema declared
    storage = body["storage"]
    assert storage["quota_bytes"] == 500 * 1024 * 1024
    assert storage["metric"]["bytes"] > 0 and storage["metric_error"] is None
    assert "scan PlayerStore: 60 keys listed, 60/60 read" in err


def test_scan_sample_states_size_and_confidence(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = invoke_cli(
        ["scan", "Player*", "--sample", "20", "--lifetime-users", "1000", "-q"], capsys
    )
    assert code == 0, err
    assert err == ""
    assert "keys        60 (sample of 20: shares ±" in out
    assert "at 95 % confidence" in out
    assert "quota 1.5 GB (1,000 lifetime users)" in out
    assert "measured" in out
    code, out, _ = invoke_cli(
        ["scan", "PlayerStore", "--sample", "20", "--format", "json", "-q"], capsys
    )
    players = json.loads(out)["stores"][0]
    assert (players["keys"], players["read"], players["sampled"]) == (60, 20, True)
    assert 0.15 < players["margin_of_error"] < 0.2


def test_scan_no_match_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = invoke_cli(["scan", "Nope*"], capsys)
    assert code == 1 and "no data store matches Nope*" in err
