from __future__ import annotations

from datetime import UTC, datetime

from jsonschema import Draft202012Validator

from dsgit.insight.figures import Settings, StoreFigures
from dsgit.model.limits import MAX_VALUE_CHARS
from dsgit.plan.masking import PointerPatterns

from .fixtures import catalog_item, datastore2_blob, entry, player_store, profile
from .world import PROFILE_SCHEMA

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def figures(**kw: object) -> StoreFigures:
    return StoreFigures("PlayerStore", "global", Settings(NOW, stale_days=365), **kw)  # type: ignore[arg-type]


def test_profile_store_figures() -> None:
    built = figures(validator=Draft202012Validator(PROFILE_SCHEMA), schema="schemas/p.json")
    for item in player_store(60):
        built.add(item)
    built.keys = 60
    summary = built.summary()
    assert (summary.keys, summary.read, summary.sampled) == (60, 60, False)
    # session locks: users 1001 and 1002
    assert summary.locks.count == 2 and summary.locks.keys == ["1001", "1002"]
    # stale: user 1003, written in 2023
    assert summary.stale.count == 1 and summary.stale.keys == ["1003"]
    assert summary.oldest[0] == ("1003", "2023-01-05T08:00:00Z")
    # conformance: the hoarder breaks the maximum, the others conform
    assert summary.conforming == 59 and summary.conformance == 59 / 60
    assert list(summary.violations) == [("/Data/Coins", "maximum", "maximum 1000000")]
    assert summary.violations[("/Data/Coins", "maximum", "maximum 1000000")].keys == ["1007"]
    # outliers: the hoarder's coins, and nothing else in /Data/Coins
    coins = {f.pointer: f for f in summary.outliers}["/Data/Coins"]
    assert [(o.key, o.value) for o in coins.outliers] == [("1007", 9_000_000.0)]
    assert coins.values == 60
    # every profile carries users metadata: UserIds are no PII finding
    assert summary.with_users == 60 and summary.pii == {}
    assert summary.last_writes == {"2023-01-05": 1, "2026-11-20": 59}
    assert summary.sizes.count == 60 and summary.near_limit_count == 0
    assert summary.estimated_bytes == summary.sizes.total


def test_user_ids_without_users_metadata_and_emails_are_pii() -> None:
    built = figures()
    built.add(entry("PlayerStore", "1", profile(1, 10)))  # no users metadata
    tagged = profile(2, 10)
    tagged["Data"]["Email"] = "kid@example.com"
    built.add(entry("PlayerStore", "2", tagged, users=(2,)))
    summary = built.summary()
    assert {k: v.keys for k, v in summary.pii.items()} == {
        ("email", "/Data/Email"): ["2"],
        ("user-id", "/UserIds"): ["1"],
    }


def test_near_the_limit_and_sampled_estimate() -> None:
    built = StoreFigures("DATA/12345", "global", Settings(NOW))
    big = {"coins": 1, "inventory": ["x" * (MAX_VALUE_CHARS - 100)]}
    built.add(entry("DATA/12345", "2", big))
    built.add(entry("DATA/12345", "1", datastore2_blob(150, [])))
    built.keys, built.sampled = 20, True
    summary = built.summary()
    assert summary.near_limit_count == 1 and summary.near_limit[0][0] == "2"
    assert summary.near_limit[0][1] > 0.9 * MAX_VALUE_CHARS
    assert summary.estimated_bytes == round(summary.sizes.total * 10)
    assert summary.conformance is None


def test_sensitive_pointers_give_no_outlier_values() -> None:
    built = StoreFigures(
        "ShopCatalog", "global", Settings(NOW), sensitive=PointerPatterns(["/price"])
    )
    for index in range(40):
        built.add(entry("ShopCatalog", f"item_{index}", catalog_item(index)))
    built.add(entry("ShopCatalog", "golden", catalog_item(0) | {"price": 10**9}))
    summary = built.summary()
    assert all(f.pointer != "/price" for f in summary.outliers)


def test_per_key_rules_schema_override_and_sensitive() -> None:
    from dsgit.insight.figures import KeyRules

    validator = Draft202012Validator({"type": "object"})
    counter = KeyRules(None, PointerPatterns(()))  # an override with `schema: null`

    def rules(key: str) -> KeyRules:
        return counter if key == "epoch" else KeyRules(validator, PointerPatterns(["/secret"]))

    built = StoreFigures("FeatureFlags", "global", Settings(NOW), rules=rules)
    built.add(entry("FeatureFlags", "epoch", 7))
    for index in range(30):
        built.add(entry("FeatureFlags", f"f{index}", {"on": True, "secret": 5}))
    built.add(entry("FeatureFlags", "leak", {"on": True, "secret": 10**12}))
    summary = built.summary()
    assert (summary.checked, summary.conforming, summary.conformance) == (31, 31, 1.0)
    assert all(f.pointer != "/secret" for f in summary.outliers)
