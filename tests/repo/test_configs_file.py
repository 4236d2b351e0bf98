"""``configs/<repository>.yaml`` parses into frozen declarations (a pure function)."""

from __future__ import annotations

import dataclasses

import pytest

from dsgit.model.configs import DEFAULT_MAX_KEYS, ConfigType, Strategy
from dsgit.repo.configs_file import parse_configs_file, repository_of
from dsgit.repo.yamlload import parse_yaml

TEXT = """\
# yaml-language-server: $schema=../schemas/dsgit/configs.schema.json
repository: InExperienceConfig
publish:
  strategy: GradualRollout
conditions:
  - id: new
    rule: {tokens: [{operand: {attributeReference: IsNewUser}}], future_field: 1}
  - id: payers
    rule: {tokens: []}
entries:
  features.double_xp:
    type: boolean
    value: false
    description: Double XP weekend switch
    environments:
      staging: true
  shop.sword_price:
    type: number
    value: 400
    conditional:
      payers: 300
  shop.bundle:
    type: json
    value: {items: [sword, shield]}
"""


def parse(text: str, path: str = "configs/InExperienceConfig.yaml"):  # type: ignore[no-untyped-def]
    document, problems = parse_yaml(text, path)
    assert not problems and document is not None
    return parse_configs_file(path, document.value, document.node)


def test_a_file_parses_into_a_frozen_declaration() -> None:
    declaration, problems = parse(TEXT)
    assert problems == [] and declaration is not None
    assert declaration.repository == "InExperienceConfig"
    assert declaration.strategy is Strategy.GRADUAL_ROLLOUT
    assert declaration.condition_ids == ("new", "payers")
    # a rule is kept exactly, fields dsgit does not know included
    assert declaration.conditions[0].rule == {
        "tokens": [{"operand": {"attributeReference": "IsNewUser"}}],
        "future_field": 1,
    }
    price = declaration.entries["shop.sword_price"]
    assert price.type is ConfigType.NUMBER and price.value == 400
    assert dict(price.conditional) == {"payers": 300} and price.line == 17
    xp = declaration.entries["features.double_xp"]
    assert xp.description == "Double XP weekend switch" and dict(xp.environments) == {
        "staging": True
    }
    assert declaration.max_keys == DEFAULT_MAX_KEYS
    with pytest.raises(dataclasses.FrozenInstanceError):
        declaration.repository = "x"  # type: ignore[misc]


def test_defaults_and_the_repository_name() -> None:
    declaration, problems = parse("repository: InExperienceConfig\nentries: {}\n")
    assert problems == [] and declaration is not None
    assert declaration.strategy is Strategy.IMMEDIATE and declaration.conditions == ()
    assert repository_of("configs/InExperienceConfig.yaml") == "InExperienceConfig"
    assert repository_of("configs/sub/InExperienceConfig.yaml") is None
    assert repository_of("configs/readme.txt") is None


def test_a_broken_shape_gives_no_declaration() -> None:
    declaration, problems = parse("repository: InExperienceConfig\nentries: {k: {type: string}}\n")
    assert declaration is None
    assert [(p.code, p.line) for p in problems] == [("DS701", 2)]
