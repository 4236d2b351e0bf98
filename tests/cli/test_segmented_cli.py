"""Segmented plans through the CLI: plan -o, shards, combine, show pages, apply --shard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsgit.cli.main import cli
from dsgit.config import load_project_config
from dsgit.model.entry import EntryData
from dsgit.planfile import SegmentedPlan, read_any_plan
from dsgit.remote.connect import open_client
from support import LOCAL_CONFIG, invoke_cli

CONFIG = LOCAL_CONFIG + "  other:\n    universe_id: 2\n    emulator: .dsgit/other.db\n"
ITEMS = 40


@pytest.fixture
def repo(repo_dir: Path) -> Iterator[Path]:
    repo_dir.mkdir()
    (repo_dir / "dsgit.yaml").write_text(CONFIG, encoding="utf-8")
    files = {
        f"datastores/Shop/global/item_{n:03d}.yaml": f"value: {{price: {n}}}\n"
        for n in range(ITEMS)
    }
    files["datastores/Old/_store.yaml"] = (
        "prune: true\nsuppress:\n  - code: DSP002\n    reason: retired keys\n"
        "  - code: DSP003\n    reason: all of them\n    count: 5\n"
    )
    files["datastores/Old/global/keep.yaml"] = "value: 1\n"
    for name, text in files.items():
        path = repo_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    env = load_project_config(repo_dir).environment("local")
    with open_client(env) as client:
        client.create_entry("Shop", "item_007", EntryData({"price": 1}))
        client.create_entry("Old", "keep", EntryData(1))
        for n in range(5):
            client.create_entry("Old", f"gone_{n}", EntryData({"n": n}))
    yield repo_dir


def run(repo: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(repo), *args])


def segmented(path: Path) -> SegmentedPlan:
    found = read_any_plan(path)
    assert isinstance(found, SegmentedPlan)
    return found


def test_four_shard_plans_combine_to_exactly_the_single_process_plan(
    repo: Path, tmp_path: Path
) -> None:
    single = tmp_path / "single.json"
    result = run(repo, "plan", "-o", str(single), "--segment-size", "6")
    assert result.exit_code == 0, result.output
    assert "Segmented plan: 45 changes in 8 segments" in result.output
    shards = []
    for k in range(1, 5):
        path = tmp_path / f"shard-{k}.json"
        result = run(repo, "plan", "--shard", f"{k}/4", "-o", str(path), "--segment-size", "6")
        assert result.exit_code == 0, result.output
        shards.append(str(path))
    combined = tmp_path / "combined.json"
    result = run(repo, "plan", "combine", *shards, "-o", str(combined), "--segment-size", "6")
    assert result.exit_code == 0, result.output
    assert "Combined 4 shard plans" in result.output
    one, joined = segmented(single), segmented(combined)
    # the same changes, in the same order, under the same change-set digest
    assert list(joined.changes()) == list(one.changes())
    assert joined.manifest.change_set_digest == one.manifest.change_set_digest
    # the counts of every action; entries compared equal are not changes and belong to no
    # shard, so only the single plan counts them (one unchanged entry: Old/keep)
    assert {**joined.header.summary, "no-op": 1} == dict(one.header.summary)
    assert [s.digest for s in joined.manifest.segments] == [s.digest for s in one.manifest.segments]
    sizes = [len(list(segmented(Path(p)).changes())) if _segmented(p) else 0 for p in shards]
    assert sum(sizes) == 45 and all(sizes)  # every shard had a share


def _segmented(path: str) -> bool:
    return isinstance(read_any_plan(Path(path)), SegmentedPlan)


def test_combine_refuses_overlaps_and_other_environments(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "s1.json"
    assert run(repo, "plan", "--shard", "1/2", "-o", str(first)).exit_code == 0
    other = tmp_path / "other.json"
    assert run(repo, "plan", "-e", "other", "--shard", "2/2", "-o", str(other)).exit_code == 0
    out = tmp_path / "c.json"
    capsys.readouterr()
    base = ["-C", str(repo), "plan", "combine"]
    code, _, err = invoke_cli([*base, str(first), str(first), "-o", str(out)], capsys)
    assert code == 1
    assert "shard 1/2 is given twice" in err and "Traceback" not in err
    code, _, err = invoke_cli([*base, str(first), "-o", str(out)], capsys)
    assert code == 1
    assert "shard 2/2 of 2 is missing: combine all 2 shard plans" in err
    third = tmp_path / "s1of3.json"
    assert run(repo, "plan", "--shard", "2/3", "-o", str(third)).exit_code == 0
    code, _, err = invoke_cli([*base, str(first), str(third), "-o", str(out)], capsys)
    assert code == 1
    assert "this is shard 2/3 but the others are of 2 shards" in err
    whole = tmp_path / "whole.json"
    assert run(repo, "plan", "-o", str(whole)).exit_code == 0
    code, _, err = invoke_cli([*base, str(first), str(whole), "-o", str(out)], capsys)
    assert code == 1
    assert "this plan is not a shard plan (made without --shard)" in err
    code, _, err = invoke_cli([*base, str(first), str(other), "-o", str(out)], capsys)
    assert code == 1
    assert "not of one plan: environment is other here but local in" in err
    assert "'" not in err.split("environment is")[1].split(" in ")[0]  # no Python reprs
    assert not out.exists()
    second = tmp_path / "s2.json"
    assert run(repo, "plan", "--shard", "2/2", "-o", str(second)).exit_code == 0
    code, _, err = invoke_cli([*base, str(second), str(first), "-o", str(out)], capsys)
    assert code == 0, err
    combined = read_any_plan(out)
    header = combined.header if isinstance(combined, SegmentedPlan) else combined
    assert header.context.get("shards") == "2" and "shard" not in header.context
    edited = tmp_path / "edited.json"
    edited.write_bytes(first.read_bytes().replace(b'"price":3', b'"price":4'))
    code, _, err = invoke_cli([*base, str(edited), "-o", str(out)], capsys)
    assert code == 4, err


def test_show_pages_a_manifest(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    assert run(repo, "plan", "-o", str(path), "--segment-size", "6").exit_code == 0
    past = run(repo, "show", str(path), "--page", "99", "--limit", "5")
    # a usage error (click's 2 under the test runner; the dsgit entry point exits 1)
    assert past.exit_code == 2 and "pages of 5" in past.output, past.output
    result = run(repo, "show", str(path), "--page", "2", "--limit", "5", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    expected = [str(c.address) for c in list(segmented(path).changes())[5:10]]
    assert [c["address"] for c in body["changes"]] == expected
    assert body["page"] == {
        "number": 2,
        "limit": 5,
        "pages": 9,
        "first": 6,
        "count": 5,
        "total": 45,
    }
    assert body["manifest"]["digest"] == segmented(path).digest
    text = run(repo, "show", str(path), "--page", "9", "--limit", "5")
    assert "Showing changes 41–45 of 45 (page 9 of 9)." in text.output
    assert "- Old/global/gone_4" in text.output


def test_apply_by_four_shard_jobs_then_nothing_left(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    assert run(repo, "plan", "-o", str(path), "--segment-size", "6").exit_code == 0
    for k in range(1, 5):
        result = run(repo, "apply", str(path), "--shard", f"{k}/4", "--format", "json")
        assert result.exit_code == 0, result.output
    result = run(repo, "plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    again = run(repo, "apply", str(path))  # the whole plan: every change already done
    assert again.exit_code == 0, again.output


def test_apply_refuses_an_edited_segment_and_shard_of_a_document(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.json"
    assert run(repo, "plan", "-o", str(path), "--segment-size", "6").exit_code == 0
    victim = tmp_path / segmented(path).manifest.segments[3].file
    victim.write_bytes(victim.read_bytes().replace(b'"price":20', b'"price":21'))
    capsys.readouterr()
    code, _, err = invoke_cli(["-C", str(repo), "apply", str(path)], capsys)
    assert code == 4
    assert "does not match the plan" in err
    env = load_project_config(repo).environment("local")
    with open_client(env) as client:  # nothing was written, not even the first segment
        assert client.get_entry("Shop", "item_000") is None
        assert client.get_entry("Old", "gone_0") is not None
    small = tmp_path / "small.json"
    assert run(repo, "plan", "-o", str(small)).exit_code == 0
    capsys.readouterr()
    code, _, err = invoke_cli(["-C", str(repo), "apply", str(small), "--shard", "1/2"], capsys)
    assert code == 1 and "--shard applies a segmented plan" in err
