"""Property: any published configs repository (with conditions) -> import -> the file parses
back to exactly what is published, and the client writes back exactly what it read."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsgit.emulator import Emulator
from dsgit.importer.configs import import_configs
from dsgit.remote.configs_api import ConfigContents, ConfigEntry, RuleSet
from dsgit.remote.testing import emulated_client
from dsgit.repo import validate_repository
from support import LOCAL_CONFIG

_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
_scalar = {
    "string": _text,
    "number": st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "json": st.recursive(
        st.none() | st.booleans() | st.integers(-1000, 1000) | _text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
        max_leaves=6,
    ).filter(lambda v: isinstance(v, dict | list)),
}
_rule = st.fixed_dictionaries(
    {
        "tokens": st.lists(
            st.one_of(
                st.fixed_dictionaries({"operator": st.sampled_from(["EQUALS", "AND", "NOT"])}),
                st.fixed_dictionaries(
                    {"operand": st.fixed_dictionaries({"attributeReference": _text})}
                ),
            ),
            min_size=1,
            max_size=4,
        )
    }
)
_key = st.from_regex(r"[a-z][a-z0-9_]{0,8}(\.[a-z0-9_]{1,8})?", fullmatch=True)


@st.composite
def repositories(draw: Any) -> ConfigContents:
    rule_ids = draw(st.lists(_key, unique=True, max_size=4))
    rules = {rule: draw(_rule) for rule in rule_ids}
    order = tuple(draw(st.permutations(rule_ids)))
    entries: dict[str, ConfigEntry] = {}
    for key in draw(st.lists(_key, unique=True, max_size=6)):
        kind = draw(st.sampled_from(sorted(_scalar)))
        variants = (
            {
                rule: draw(_scalar[kind])
                for rule in draw(st.lists(st.sampled_from(rule_ids), unique=True, max_size=3))
            }
            if rule_ids
            else {}
        )
        entries[key] = ConfigEntry(draw(_scalar[kind]), variants=variants)
    return ConfigContents(entries, RuleSet(rules, order))


def _plain(contents: ConfigContents) -> tuple[Any, ...]:
    entries = {k: (e.value, dict(e.variants)) for k, e in contents.entries.items()}
    return entries, dict(contents.rules.rules), contents.rules.order


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(repositories())
def test_published_import_parse_is_the_identity(contents: ConfigContents) -> None:
    emulator = Emulator(db=":memory:")
    with (
        tempfile.TemporaryDirectory() as folder,
        emulated_client(emulator, universe_id=1) as client,
    ):
        root = Path(folder)
        (root / "dsgit.yaml").write_text(LOCAL_CONFIG)
        if contents.entries or contents.rules.rules:
            client.publish(
                "InExperienceConfig", client.overwrite_draft("InExperienceConfig", contents), "m"
            )
        published = client.read_published("InExperienceConfig").contents
        assert _plain(published) == _plain(contents)
        import_configs(client, root)
        reading = validate_repository(root)
        assert not reading.errors, reading.errors
        declared = reading.configs["InExperienceConfig"]
        from_file = ConfigContents(
            {
                k: ConfigEntry(e.value, variants=dict(e.conditional))
                for k, e in declared.entries.items()
            },
            RuleSet({c.id: c.rule for c in declared.conditions}, declared.condition_ids),
        )
        assert _plain(from_file) == _plain(contents)
        again = import_configs(client, root)
        assert again.action.value == "unchanged"
    emulator.close()
