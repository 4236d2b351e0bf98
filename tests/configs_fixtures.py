"""Live Experience Configs for tests: a repository with targeting rules, as Creator Hub makes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dsgit.emulator import Emulator

REPOSITORY = "InExperienceConfig"
PAYERS = {
    "tokens": [
        {"operand": {"attributeReference": "IsPayer"}},
        {"operand": {"literalValue": {"booleanValue": "true"}}},
        {"operator": "EQUALS"},
    ]
}
BRAZIL = {
    "tokens": [
        {"operand": {"attributeReference": "Country"}},
        {"operand": {"literalValue": {"stringValue": "BR"}}},
        {"operator": "EQUALS"},
    ]
}
RULES = {"rules": {"payers": PAYERS, "brazil": BRAZIL}, "rulesOrder": ["brazil", "payers"]}
ENTRIES: dict[str, Any] = {
    "shop.sword_price": 400,
    "shop.sword_price.RBX.conditional.payers": 300,
    "shop.sword_price.RBX.conditional.brazil": 350,
    "features.double_xp": False,
    "motd": "Welcome!",
    "shop.bundle": {"items": ["sword", "shield"], "discount": 0.25},
}
DESCRIPTIONS = {"features.double_xp": "Double XP weekend switch"}


def publish_live(
    emulator: Emulator,
    universe: int = 1,
    entries: dict[str, Any] | None = None,
    rules: dict[str, Any] | None = None,
    descriptions: dict[str, str] | None = None,
    message: str = "from Creator Hub",
) -> int:
    """Stage (as Creator Hub would) and publish a repository; returns its configVersion."""
    wanted = RULES if rules is None else rules
    configs = emulator.configs
    configs.reset_draft(universe, REPOSITORY, None)
    published = configs.read(universe, REPOSITORY).published
    body: dict[str, Any] = {"entries": ENTRIES if entries is None else entries}
    removed = {key: None for key in published["entries"] if key not in body["entries"]}
    body["entries"] = {**removed, **body["entries"]}
    gone = {
        rule: None for rule in published["rules"]["rules"] if rule not in wanted.get("rules", {})
    }
    body["conditionalRules"] = {
        "rules": {**gone, **wanted.get("rules", {})},
        "rulesOrder": wanted.get("rulesOrder", []),
    }
    staged = configs.stage_from_creator_hub(
        universe, REPOSITORY, body, DESCRIPTIONS if descriptions is None else descriptions
    )
    return configs.publish(universe, REPOSITORY, staged, message, "Immediate", emulator.now_ticks())


def seed_repository(root: Path, **kw: Any) -> int:
    """Publish into the embedded emulator of a repository's `local` environment."""
    (root / ".dsgit").mkdir(exist_ok=True)
    with Emulator(db=root / ".dsgit/emulator.db") as emulator:
        return publish_live(emulator, **kw)


def start_experiment(
    emulator: Emulator, key: str, value: Any, *, universe: int = 1, name: str = "Experiment"
) -> str:
    """Create and start an in-experience experiment on ``key`` (as Creator Hub would)."""
    variants = [
        {"variantMeta": {"label": "Control", "isBaseline": True}, "configEntry": {"key": key}},
        {"variantMeta": {"label": "Variant"}, "configEntry": {"key": key, "entryValue": value}},
    ]
    body = {
        "name": name,
        "experimentConfiguration": {
            "productType": "EXPERIMENT_PRODUCT_TYPE_IN_GAME_CONFIGS",
            "inGameConfigExperimentConfiguration": {"variants": variants},
        },
    }
    now = emulator.now_ticks()
    created = emulator.experiments.create(universe, body, now)["experiment"]
    emulator.experiments.start(universe, created["id"], now)
    return str(created["id"])
