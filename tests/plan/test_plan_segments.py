"""Segmented plans: writer and reader, digests, damage detection, the canonical order."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from plan_fakes import FakeApi, declaration, plan_of, store

from dsgit.errors import ConfigError, StalePlan
from dsgit.model.declaration import StorePolicy
from dsgit.plan.model import Action, Plan, written_data
from dsgit.plan.segments import (
    WITHHELD,
    change_order,
    change_set_digest,
    manifest_schema,
    sorted_lines,
)
from dsgit.planfile import SegmentedPlan, SegmentWriter, read_any_plan, write_plan
from dsgit.planfile.write import DuplicateChange, segments_folder


def big_plan(count: int = 23) -> Plan:
    api = FakeApi()
    api.put("Old", "keep", 1)
    for index in range(5):
        api.put("Old", f"gone_{index}", index)  # pruned: deletes
    entries = {f"key_{index:03d}": {"n": index} for index in range(count)}
    old = store("Old", {"keep": 1}, policy=StorePolicy(prune=True))
    decl = declaration(store("Shop", entries), old)
    return plan_of(decl, api)


def test_a_large_plan_is_a_manifest_of_segments(tmp_path: Path) -> None:
    plan = big_plan()
    path = tmp_path / "plan.json"
    written = write_plan(path, plan, segment_size=5)
    found = read_any_plan(path)
    assert isinstance(found, SegmentedPlan)
    assert found.digest == written.digest != plan.digest
    manifest = found.manifest
    assert [ref.changes for ref in manifest.segments] == [5, 5, 5, 5, 5, 3]
    assert sorted(p.name for p in segments_folder(path).iterdir()) == sorted(
        Path(ref.file).name for ref in manifest.segments
    )
    # every change, in the canonical order: writes first, deletes last
    changes = list(found.changes())
    assert changes == sorted(plan.changes, key=change_order)
    assert [c.action for c in changes][-5:] == [Action.DELETE] * 5
    assert manifest.change_set_digest == change_set_digest(sorted_lines(plan.changes))
    assert dict(manifest.header.summary) == dict(plan.summary)
    assert manifest.header.diagnostics == plan.diagnostics
    found.verify()
    # what approvals read: same digest, same addresses and diagnostics, no values
    review = found.review()
    assert review.digest == found.digest
    assert [str(c.address) for c in review.changes] == [str(c.address) for c in changes]
    assert all(written_data(c) in (None, WITHHELD) and c.diff == () for c in review.changes)
    assert review.destructive == plan.destructive
    assert review.all_diagnostics == tuple(
        d for c in [plan, *sorted(plan.changes, key=change_order)] for d in c.diagnostics
    )


def test_manifest_validates_against_its_schema(tmp_path: Path) -> None:
    from referencing import Registry, Resource

    from dsgit.plan.io import plan_schema

    schema = manifest_schema()
    Draft202012Validator.check_schema(schema)
    registry = Registry().with_resource(plan_schema()["$id"], Resource.from_contents(plan_schema()))
    path = tmp_path / "plan.json"
    write_plan(path, big_plan(), segment_size=4)
    raw = json.loads(path.read_bytes())
    assert list(Draft202012Validator(schema, registry=registry).iter_errors(raw)) == []
    line_schema = json.loads(
        (Path(__file__).parents[2] / "schemas/plan-segment-line.schema.json").read_text()
    )
    line_validator = Draft202012Validator(line_schema, registry=registry)
    first = segments_folder(path) / Path(raw["segments"][0]["file"]).name
    for line in first.read_bytes().splitlines():
        assert list(line_validator.iter_errors(json.loads(line))) == []


def test_an_edited_segment_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    manifest = write_plan(path, big_plan(), segment_size=5)
    assert not isinstance(manifest, Plan)
    victim = tmp_path / manifest.segments[2].file
    victim.write_bytes(victim.read_bytes().replace(b'"n":11', b'"n":12'))
    found = read_any_plan(path)
    assert isinstance(found, SegmentedPlan)
    with pytest.raises(StalePlan, match=r"segment .* does not match the plan"):
        found.verify()
    with pytest.raises(StalePlan, match="does not match"):
        found.segment(2)
    assert len(found.segment(1)) == 5  # the others still read


def test_an_edited_manifest_is_stale_and_a_missing_segment_named(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    manifest = write_plan(path, big_plan(), segment_size=5)
    assert not isinstance(manifest, Plan)
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"changes":5', b'"changes":6', 1))
    with pytest.raises(StalePlan, match="digest mismatch"):
        read_any_plan(path)
    path.write_bytes(data)
    (tmp_path / manifest.segments[0].file).unlink()
    found = read_any_plan(path)
    assert isinstance(found, SegmentedPlan)
    with pytest.raises(ConfigError, match=r"segment file .* is missing"):
        found.verify()


def test_a_small_plan_stays_one_document_and_old_segments_go(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan(path, big_plan(), segment_size=5)
    small = big_plan(3)
    assert write_plan(path, small, segment_size=10) is small
    assert read_any_plan(path) == small
    assert not segments_folder(path).exists()


def test_writer_streams_any_order_through_bounded_runs(tmp_path: Path) -> None:
    plan = big_plan(40)
    shuffled = list(plan.changes)
    random.Random(7).shuffle(shuffled)
    with SegmentWriter(tmp_path / "p.json", segment_size=6) as writer:
        for change in shuffled:
            writer.add(change)
            assert len(writer._buffer) < 6  # never more than one segment in memory
        manifest = writer.finish(replace(plan, changes=()))
    assert manifest.change_set_digest == change_set_digest(sorted_lines(plan.changes))
    assert not [p for p in segments_folder(tmp_path / "p.json").iterdir() if p.is_dir()]
    found = read_any_plan(tmp_path / "p.json")
    assert isinstance(found, SegmentedPlan)
    assert list(found.changes()) == sorted(plan.changes, key=change_order)


def test_writer_refuses_two_changes_of_one_entry(tmp_path: Path) -> None:
    plan = big_plan(8)
    with SegmentWriter(tmp_path / "p.json", segment_size=3) as writer:
        for change in (*plan.changes, plan.changes[4]):
            writer.add(change)
        with pytest.raises(DuplicateChange, match=str(plan.changes[4].address)):
            writer.finish(plan)
    assert not (tmp_path / "p.json").exists()


def test_a_segment_outside_the_folder_is_refused_by_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_plan(path, big_plan(), segment_size=5)
    raw = json.loads(path.read_bytes())
    raw["segments"][0]["file"] = "../elsewhere.jsonl"
    from dsgit.plan.digest import canonical_json, sha256_digest

    raw.pop("digest")
    raw["digest"] = sha256_digest(canonical_json(raw))
    path.write_bytes(canonical_json(raw) + b"\n")
    with pytest.raises(ConfigError, match="invalid plan manifest"):
        read_any_plan(path)


def test_a_malformed_segment_line_names_its_line_and_field(tmp_path: Path) -> None:
    from dsgit.plan.segments import change_from_line

    first = next(c for c in big_plan(1).changes if c.action is Action.CREATE)
    line = change_line_of(first).replace(b'"actions":["create"]', b'"actions":[]')
    with pytest.raises(ConfigError, match=r"s\.jsonl:3: invalid change: .* \(/actions\)"):
        change_from_line(line, "s.jsonl", 3)
    with pytest.raises(ConfigError, match=r"s\.jsonl:4: segment line is not JSON"):
        change_from_line(b"{nope\n", "s.jsonl", 4)
    broken = line.replace(b'"reason":', b'"reasons":')
    with pytest.raises(ConfigError, match=r"s\.jsonl:5: invalid change"):
        change_from_line(broken, "s.jsonl", 5)


def change_line_of(change: object) -> bytes:
    from dsgit.plan.segments import change_line

    return change_line(change)  # type: ignore[arg-type]
