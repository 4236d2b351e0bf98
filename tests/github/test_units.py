"""Small pure pieces of the Action: changed lines, ledger merges, names, outputs, workflows."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from dsgit.github.annotations import annotate, changed_lines
from dsgit.github.artifacts import artifact_name, plan_member
from dsgit.github.audit_branch import _merged
from dsgit.github.outputs import write_outputs
from dsgit.repo.problems import Problem

ROOT = Path(__file__).resolve().parents[2]


def test_changed_lines_follow_hunks() -> None:
    patch = "@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n@@ -10,2 +11,2 @@\n x\n-y\n+Y"
    assert changed_lines({"f.yaml": patch, "big.bin": None}) == {
        "f.yaml": {2, 3, 12},
        "big.bin": None,
    }


def test_only_problems_on_changed_lines_are_annotated() -> None:
    problems = [
        Problem("a.yaml", 2, 1, "DS202", "unknown field `x`"),
        Problem("a.yaml", 9, 1, "DS202", "unknown field `y`"),
        Problem("b.yaml", 1, 1, "DS202", "unknown field `z`"),
    ]
    found = annotate(problems, {"a.yaml": {2}})
    assert found.on_changed_lines == 1 and found.shown == 1
    assert "a.yaml,line=2" in found.commands and "line=9" not in found.commands
    assert found.summary.count("| :x: |") == 3


def test_an_appended_ledger_keeps_what_the_branch_has() -> None:
    before, after = b"r1\n", b"r1\nr2\n"
    assert _merged("audit/ledger.jsonl", before, after, b"r1\nother\n") == b"r1\nother\nr2\n"
    assert _merged("audit/ledger.jsonl", before, after, None) == after
    assert _merged("audit/prod/x.jsonl", None, b"new\n", None) == b"new\n"


def test_artifact_names() -> None:
    sha = "a" * 40
    assert artifact_name(("staging", "production"), sha) == f"dsgit-plan-staging+production-{sha}"
    assert plan_member("prod:eu") == "prod_eu/plan.json"


def test_multiline_outputs_use_a_delimiter(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(out, {"one": "x", "two": "a\nb"})
    text = out.read_text()
    assert text.startswith("one=x\ntwo<<dsgit_") and "\na\nb\n" in text


def test_docs_show_every_example_workflow_in_full() -> None:
    doc = (ROOT / "docs/github-action.md").read_text(encoding="utf-8")
    workflows = sorted((ROOT / "examples/workflows").glob("*.yml"))
    assert len(workflows) == 7
    for path in workflows:
        assert path.read_text(encoding="utf-8") in doc, f"{path.name} differs in the docs"


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    files = [ROOT / "action.yml", *sorted((ROOT / "examples/workflows").glob("*.yml"))]
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"\s*(?:- )?uses: (\S+)", line)
            if match is None or match.group(1) == "./":
                continue
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", match.group(1)), line
            assert re.search(r"# v\d+\.\d+\.\d+$", line), line


def test_action_inputs_reach_the_command() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    steps = action["runs"]["steps"]
    run_step = next(step for step in steps if step.get("id") == "dsgit")
    assert "${{" not in run_step["run"]  # inputs come in through env, never into the script
    for name in ("command", "environments", "bot-login", "audit-branch", "plan-workflow"):
        assert f"inputs.{name}" in str(run_step["env"])
    for output in action["outputs"].values():
        assert output["value"].startswith("${{ steps.dsgit.outputs.")
