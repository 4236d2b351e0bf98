"""Plan files: canonical bytes, round trip, digest, schema, damage detection."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from jsonschema import Draft202012Validator
from plan_fakes import FakeApi, declaration, plan_of, store

from dsgit.errors import ConfigError, StalePlan
from dsgit.model.declaration import StorePolicy
from dsgit.plan.digest import canonical_json
from dsgit.plan.io import plan_digest, plan_from_json, plan_schema, plan_to_json
from dsgit.plan.model import Plan


def sample() -> Plan:
    api = FakeApi()
    api.put("Config", "a", {"x": [1, 2.5, "é"]}, attributes={"k": "v"}, users=(5,))
    api.put("Config", "stray", 1)
    decl = declaration(
        store("Config", {"a": {"x": [1, 3]}, "b": None}, policy=StorePolicy(prune=True))
    )
    return plan_of(decl, api)


def test_round_trip_and_canonical_bytes() -> None:
    plan = sample()
    data = plan_to_json(plan)
    assert data.endswith(b"}\n") and b"\n" not in data[:-1]
    assert data == canonical_json(json.loads(data)) + b"\n"
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'.encode()
    assert plan_from_json(data, source="p.json") == plan
    assert plan_to_json(plan_from_json(data, source="p.json")) == data
    assert plan.digest == plan_digest(plan)


def test_every_plan_validates_against_the_schema() -> None:
    schema = plan_schema()
    Draft202012Validator.check_schema(schema)
    errors = list(Draft202012Validator(schema).iter_errors(json.loads(plan_to_json(sample()))))
    assert errors == []


def test_edited_value_is_stale() -> None:
    data = plan_to_json(sample()).replace(b'"x":[1,3]', b'"x":[1,4]')
    with pytest.raises(StalePlan, match="digest mismatch"):
        plan_from_json(data, source="p.json")


def test_whitespace_edit_is_stale() -> None:
    data = plan_to_json(sample()).replace(b'"kind":', b'"kind": ')
    with pytest.raises(StalePlan, match="canonical"):
        plan_from_json(data, source="p.json")


def test_broken_json_of_a_plan_is_stale() -> None:
    data = plan_to_json(sample())
    with pytest.raises(StalePlan):
        plan_from_json(data[:-10], source="p.json")


def test_not_a_plan_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a plan"):
        plan_from_json(b"hello: world\n", source="x.yaml")
    with pytest.raises(ConfigError, match="format_version"):
        plan_from_json(b'{"format_version": 9}', source="x.json")


def test_a_well_digested_but_invalid_plan_is_a_config_error() -> None:
    plan = replace(sample(), kind="nonsense")
    plan = replace(plan, digest=plan_digest(plan))
    with pytest.raises(ConfigError, match="kind"):
        plan_from_json(plan_to_json(plan), source="p.json")


def test_expiry() -> None:
    from datetime import timedelta

    from plan_fakes import NOW

    plan = sample()
    assert not plan.expired(NOW)
    assert plan.expired(NOW + timedelta(hours=24))
