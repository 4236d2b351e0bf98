"""Typed accessors for config keys with their declared defaults (``Configs.luau``)."""

from __future__ import annotations

import pytest

from dsgit.codegen import generate_luau
from dsgit.codegen.configs_luau import configs_module
from dsgit.model.configs import ConfigKey, ConfigsDeclaration, ConfigType
from dsgit.model.entry import JSONValue

from .conftest import LuauCheck
from .fixtures import declaration

SCHEMAS: dict[str, JSONValue] = {
    "schemas/reward.json": {
        "type": "object",
        "required": ["coins"],
        "properties": {"coins": {"type": "integer"}, "note": {"$ref": "#/$defs/note"}},
        "$defs": {"note": {"type": "string", "description": "Shown to the player."}},
    }
}


def configs(*keys: ConfigKey) -> dict[str, ConfigsDeclaration]:
    entries = {key.key: key for key in keys}
    return {
        "InExperienceConfig": ConfigsDeclaration(
            "InExperienceConfig", "configs/InExperienceConfig.yaml", entries=entries
        )
    }


EDGES = configs(
    ConfigKey("features.double_xp", ConfigType.BOOLEAN, False, "Double XP\nweekend switch"),
    ConfigKey("shop.sword_price", ConfigType.NUMBER, 400, conditional={"payers": 300}),
    ConfigKey("ratio", ConfigType.NUMBER, 0.25),
    ConfigKey("big", ConfigType.NUMBER, 1e300),
    ConfigKey("Keys", ConfigType.STRING, 'quote " and \\ and \n'),  # a reserved accessor name
    ConfigKey("shop-sword-price", ConfigType.STRING, "collides with shop.sword_price"),
    ConfigKey("end", ConfigType.STRING, "a Luau keyword"),
    ConfigKey("reward", ConfigType.JSON, {"coins": 5}, schema="schemas/reward.json"),
    ConfigKey("missing.schema", ConfigType.JSON, [1, 2], schema="schemas/nope.json"),
    ConfigKey(
        "catalog",
        ConfigType.JSON,
        {
            "items": [
                {"id": f"item_{n:02d}", "price": n * 100, "tags": ["a", "b"]} for n in range(6)
            ],
            "with space": {},
            "nested": {"deeper": {"list": []}},
        },
    ),
)


def test_accessors_are_typed_and_fall_back_to_the_default() -> None:
    module = configs_module(EDGES["InExperienceConfig"], SCHEMAS, "DsgitTypes")
    text = module.text
    assert module.file == "DsgitTypes/Configs.luau"
    assert module.accessors["features.double_xp"] == "FeaturesDoubleXp"
    assert module.accessors["shop-sword-price"] == "ShopSwordPrice"
    assert module.accessors["shop.sword_price"] == "ShopSwordPrice_2"  # sorted order decides
    assert module.accessors["Keys"] == "Keys_2" and module.accessors["end"] == "End"
    assert "function Configs.FeaturesDoubleXp(snapshot: ConfigSnapshot): boolean" in text
    assert "\treturn read(snapshot, Keys.FeaturesDoubleXp, Defaults.FeaturesDoubleXp)" in text
    assert "function Configs.ShopSwordPrice_2(snapshot: ConfigSnapshot): number" in text
    assert "--- Double XP\n--- weekend switch\n" in text
    assert '\tShopSwordPrice_2 = "shop.sword_price",' in text
    assert "\tShopSwordPrice_2 = 400," in text and "\tRatio = 0.25," in text
    assert "\tBig = 1e+300," in text
    # a json key with a schema gets that type; without one (or a missing one) any
    assert "export type RewardValue = {\n\tcoins: number,\n\tnote: Note?,\n}" in text
    assert "function Configs.Reward(snapshot: ConfigSnapshot): RewardValue" in text
    assert "function Configs.MissingSchema(snapshot: ConfigSnapshot): any" in text
    assert module.schemas == ("schemas/reward.json",)
    assert "Has 1 conditional value(s)" in text


def test_the_index_exposes_the_accessors_only_when_configs_are_declared() -> None:
    stores = declaration(SCHEMAS, {"Configs": "schemas/reward.json"})
    without = generate_luau(stores)
    assert "DsgitTypes/Configs.luau" not in without.files and without.configs is None
    with_configs = generate_luau(stores, configs=EDGES)
    index = with_configs.files["DsgitTypes/init.luau"]
    assert "local Configs = require(script.Configs)" in index
    assert "\tConfigs = Configs,\n" in index
    # a store named Configs keeps its module apart from the accessors
    assert "DsgitTypes/Configs_2.luau" in with_configs.files
    other = {"LeaderboardsConfig": EDGES["InExperienceConfig"]}
    assert generate_luau(stores, configs=other).configs is None  # game code reads one repository


def test_the_output_is_deterministic() -> None:
    first = generate_luau(declaration(SCHEMAS, {}), configs=EDGES).files
    assert first == generate_luau(declaration(SCHEMAS, {}), configs=EDGES).files


@pytest.mark.slow
def test_every_edge_parses_and_is_laid_out_as_stylua_does(luau_check: LuauCheck) -> None:
    luau_check(generate_luau(declaration(SCHEMAS, {}), configs=EDGES).files)
