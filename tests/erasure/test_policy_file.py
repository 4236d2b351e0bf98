"""policies/erasure.yaml: Roblox's template rules and dsgit's rule checks (DS871-DS878)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dsgit.erasure.policy import ErasureAction, KeyTemplate, StoreTemplate
from dsgit.erasure.policy_file import erasure_problems, load_erasure
from dsgit.errors import ConfigError
from dsgit.model.entry import StoreKind
from dsgit.repo.yamlload import parse_yaml

GOOD = """\
version: 1
user_data_templates:
  - key_template:
      data_store_type: STANDARD
      data_store_name: PlayerStore
      key_pattern: "{UserId}"
  - key_template:
      data_store_type: ORDERED
      data_store_name: Leaderboard
      key_pattern: "Player_{UserId}"
      scope_pattern: season1
  - data_store_template:
      data_store_type: STANDARD
      data_store_pattern: "DATA/{UserId}"
rules:
  - name: tagged
    store: "*"
    users_metadata: true
    action: delete
  - name: rosters
    store: Guilds
    pointers: [/members]
    action: remove
  - name: ds2-ordered
    store: "DATA/{UserId}"
    kind: ordered
    action: delete
auto_apply: [staging]
"""


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    document, problems = parse_yaml(textwrap.dedent(text), "policies/erasure.yaml")
    assert document is not None and not problems
    return [(p.line, p.code, p.message) for p in erasure_problems(document.value, document.node)]


def test_a_good_policy_loads(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "erasure.yaml").write_text(GOOD)
    assert _problems(GOOD) == []
    policy = load_erasure(tmp_path)
    assert policy.templates[0] == KeyTemplate(
        StoreKind.STANDARD, "PlayerStore", "{UserId}", "global", 3
    )
    assert policy.templates[1].kind is StoreKind.ORDERED  # type: ignore[union-attr]
    assert policy.templates[1].scope == "season1"  # type: ignore[union-attr]
    assert isinstance(policy.templates[2], StoreTemplate)
    assert [r.name for r in policy.rules] == ["tagged", "rosters", "ds2-ordered"]
    assert policy.rules[1].action is ErasureAction.REMOVE
    assert policy.rules[1].pointers == ("/members",)
    assert policy.rules[2].kind is StoreKind.ORDERED
    assert policy.auto_applies("staging") and not policy.auto_applies("production")
    assert policy.digest.startswith("sha256:")


def test_no_file_means_no_templates_and_no_rules(tmp_path: Path) -> None:
    policy = load_erasure(tmp_path)
    assert policy.empty and not policy.auto_applies("local")


@pytest.mark.parametrize(
    ("pattern", "expect"),
    [
        ('"Player_{userid}"', "'{userid}' is not the token: Roblox's {UserId} is case-sensitive"),
        ('"Player_{UserID}"', "case-sensitive"),
        ('"Player_"', "no {UserId} token"),
    ],
)
def test_key_templates_need_the_exact_token(pattern: str, expect: str) -> None:
    found = _problems(
        f"""\
        version: 1
        user_data_templates:
          - key_template:
              data_store_type: STANDARD
              data_store_name: PlayerData
              key_pattern: {pattern}
        """
    )
    assert len(found) == 1
    line, code, message = found[0]
    assert (line, code) == (6, "DS873")
    assert expect in message
    assert "user_data_templates.0.key_template.key_pattern" in message


def test_the_token_in_the_store_name_is_enough_for_a_key_template() -> None:
    assert (
        _problems(
            """\
            version: 1
            user_data_templates:
              - key_template:
                  data_store_type: STANDARD
                  data_store_name: "Inventory_{UserId}"
                  key_pattern: main
            """
        )
        == []
    )


def test_whole_store_templates_are_for_standard_stores_only() -> None:
    found = _problems(
        """\
        version: 1
        user_data_templates:
          - data_store_template:
              data_store_type: ORDERED
              data_store_pattern: "DATA/{UserId}"
        """
    )
    assert [(line, code) for line, code, _ in found] == [(4, "DS874")]


_ONE = """
  - key_template:
      data_store_type: STANDARD
      data_store_name: S{n}
      key_pattern: "{{UserId}}"
"""


def _templates(count: int) -> str:
    return "version: 1\nuser_data_templates:" + "".join(_ONE.format(n=n) for n in range(count))


def test_at_most_100_templates_and_no_duplicates() -> None:
    one = _ONE
    assert [code for _, code, _ in _problems(_templates(101))] == ["DS875"]
    twice = (
        "version: 1\nuser_data_templates:"
        + one.format(n=1)
        + one.format(n=1).replace('"{UserId}"', '"{UserId}"\n      scope_pattern: global')
    )
    assert [code for _, code, _ in _problems(twice)] == ["DS876"]


def test_more_than_10_templates_is_a_warning_at_the_11th(tmp_path: Path) -> None:
    document, _ = parse_yaml(_templates(11), "policies/erasure.yaml")
    assert document is not None
    (problem,) = erasure_problems(document.value, document.node)
    assert problem.code == "DS878" and not problem.is_error
    assert problem.file == "policies/erasure.yaml"
    assert problem.line == 3 + 10 * 5  # the 11th template's line
    assert "`user_data_templates.10`" in problem.message
    assert "11 templates" in problem.message and "may refuse more than 10" in problem.message
    assert _problems(_templates(10)) == []
    # over 100 the error says it all
    assert [code for _, code, _ in _problems(_templates(101))] == ["DS875"]
    # a warning does not stop the commands that load the policy
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "erasure.yaml").write_text(_templates(12))
    assert len(load_erasure(tmp_path).templates) == 12


def test_validate_shows_ds878_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from support import LOCAL_CONFIG, invoke_cli

    (tmp_path / "dsgit.yaml").write_text(LOCAL_CONFIG)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "erasure.yaml").write_text(_templates(11))
    code, out, err = invoke_cli(["-C", str(tmp_path), "validate"], capsys)
    assert code == 0, (out, err)
    assert "policies/erasure.yaml:53:" in out + err and "DS878" in out + err


@pytest.mark.parametrize(
    ("rule", "expect"),
    [
        ("store: Guilds\n    action: remove", "needs pointers or users_metadata"),
        ("store: Everything\n    action: delete", "selects every user's entries"),
        (
            "store: Board\n    kind: ordered\n    users_metadata: true\n    action: delete",
            "ordered entries",
        ),
        (
            'store: "DATA/{UserId}"\n    kind: ordered\n    scope: "-"\n    action: delete',
            "one scope at a time",
        ),
    ],
)
def test_rules_that_cannot_be_run(rule: str, expect: str) -> None:
    found = _problems(f"version: 1\nrules:\n  - name: r\n    {rule}\n")
    assert any(code == "DS877" and expect in message for _, code, message in found), found


def test_duplicate_rule_names_and_schema_problems() -> None:
    text = """\
    version: 1
    rules:
      - {name: a, store: "X_{UserId}", action: delete}
      - {name: a, store: "Y_{UserId}", action: delete}
    """
    assert [(line, code) for line, code, _ in _problems(text)] == [(4, "DS876")]
    assert [
        code
        for _, code, _ in _problems("version: 1\nrules:\n  - {name: a, store: S, action: wipe}\n")
    ] == ["DS871"]
    assert [code for _, code, _ in _problems("version: 1\nauto_aply: true\n")] == ["DS872"]


def test_load_names_file_line_and_field(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "erasure.yaml").write_text(
        "version: 1\nuser_data_templates:\n  - data_store_template:\n"
        "      data_store_type: STANDARD\n      data_store_pattern: DATA\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_erasure(tmp_path)
    assert "DS873" in str(caught.value)
    assert "data_store_pattern" in str(caught.value)
    assert caught.value.location is not None and caught.value.location.line == 5
