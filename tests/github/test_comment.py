"""The sticky comment of a very large plan stays under GitHub's limit and keeps its structure."""

from __future__ import annotations

import re

from dsgit import __version__
from dsgit.apply.checks import require_approvals
from dsgit.config import Environment
from dsgit.github.comment import COMMENT_BUDGET, render_plan_comment
from dsgit.github.sticky import GITHUB_BODY_LIMIT, marker
from dsgit.model.declaration import SourceInfo
from dsgit.model.entry import Address, EntryData
from dsgit.plan.io import with_digest
from dsgit.plan.model import DiffLine, Plan, PlanKind, StandardPrecondition, UpdateChange, summarize

HEAD = "ab" * 20


def _big_plan(count: int) -> Plan:
    changes = tuple(
        sorted(
            (
                UpdateChange(
                    address=Address.standard(f"Store{i % 5}", f"Player_{i:05}"),
                    reason="declared, differs live",
                    precondition=StandardPrecondition(
                        True, f"etag{i}", f"rev{i}", "sha256:" + "0" * 64
                    ),
                    after=EntryData({"Coins": i, "Items": ["sword", "shield"]}),
                    diff=(
                        DiffLine("/Coins", "replace", i - 1, i),
                        DiffLine("/Items/1", "add", None, "shield"),
                    ),
                    sensitive=(),
                    encrypted=(),
                    diagnostics=(),
                )
                for i in range(count)
            ),
            key=lambda c: (c.address.store, c.address.key),
        )
    )
    plan = Plan(
        format_version=1,
        dsgit_version=__version__,
        kind=PlanKind.PLAN,
        created="2026-12-03T08:00:00Z",
        expires="2026-12-04T08:00:00Z",
        environment="production",
        universe_id=2,
        source=SourceInfo(HEAD, False, "sha256:" + "1" * 64),
        changes=changes,
        diagnostics=(),
        summary=summarize(changes),
        digest="",
    )
    return with_digest(plan)


def test_a_5000_change_plan_renders_under_the_limit_and_well_structured() -> None:
    plan = _big_plan(5000)
    verdict = require_approvals(plan, Environment("production", 2, protected=True))
    assert not verdict.satisfied
    body = render_plan_comment(
        plan, head_sha=HEAD, verdict=verdict, run_url="https://github.com/o/r/actions/runs/1"
    )
    full = f"{marker('plan', 'production')}\n{body}"
    assert len(body) <= COMMENT_BUDGET < GITHUB_BODY_LIMIT and len(full) < 60_100
    assert body.startswith("### dsgit plan: `production` (universe 2)")
    assert "5000 to update" in body
    # Collapsible blocks and code fences are all closed; the cut is inside a block and says so.
    assert body.count("<details>") == body.count("</details>") >= 1
    fences = re.findall(r"^```", body, flags=re.MULTILINE)
    assert len(fences) % 2 == 0 and fences
    first_block = body[body.index("<details>") : body.index("</details>")]
    assert "more changes not shown: see the plan file" in first_block
    assert re.search(r"_[\d,]+ changes? not shown to fit GitHub's comment limit", body)
    # What reviewers need is never cut: digest, head commit, approvals table.
    assert plan.digest in body and f"Head commit: `{HEAD}`" in body
    assert "| rule | needs | approved by | missing |" in body and "not satisfied" in body
    assert body.index("</details>") < body.index("**Approvals**")


def test_a_small_plan_is_shown_whole() -> None:
    plan = _big_plan(3)
    body = render_plan_comment(plan, head_sha=HEAD, verdict=None)
    assert "not shown" not in body and body.count("Player_") == 3
    assert "**Approvals:** not checked." in body
