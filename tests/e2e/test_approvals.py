"""Approvals end to end: `dsgit` in subprocesses against a served emulator (docs/approvals.md).

A protected environment, a policy with two data owners, keys made with `dsgit keys generate`,
plans signed with `dsgit approve`, `dsgit approvals check` saying what is missing, and apply
refusing (exit 3, nothing written) until the policy is met; the ledger holds the approvals.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.errors import EXIT_OK, EXIT_POLICY, EXIT_STALE

from .conftest import SERVED_KEY_ENV, UNIVERSE, Repo, serve

pytestmark = pytest.mark.slow

PRUNED = {
    "prune": True,
    "suppress": [{"code": "DSP002", "reason": "the shop is git's; unknown items go"}],
}


def _policy(alice: str, bob: str) -> dict[str, object]:
    return {
        "version": 1,
        "max_age": "7d",
        "approvers": [
            {"name": "alice", "github": "alice-gh", "key": alice},
            {"name": "bob", "github": "bobdev", "key": bob},
        ],
        "groups": {"data-owners": ["alice", "bob"]},
        "rules": [
            {
                "name": "production changes need two data owners",
                "environments": ["prod"],
                "classes": ["any"],
                "min_approvals": 2,
                "from": ["data-owners"],
            }
        ],
    }


def _value(repo: Repo, key: str) -> object:
    got = repo.dsgit("get", "-e", "prod", "Shop", key, "--format", "json", expect=None)
    return json.loads(got.out)["value"] if got.code == 0 else None


def test_two_signed_approvals_then_apply_and_a_destructive_plan_needs_both(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "keys"  # outside the repository
    with serve("--ccu", "20000") as served:
        fast = {"ccu": 20000, "share": 1}
        prod = {
            "universe_id": UNIVERSE,
            "url": served.url,
            "api_key_env": SERVED_KEY_ENV,
            "budget": fast,
            "protected": True,
        }
        repo = Repo(tmp_path / "game", served.url, {"prod": prod})
        made = {}
        for name in ("alice", "bob"):
            out = repo.dsgit("keys", "generate", "--name", name, "--out", str(keys / f"{name}.key"))
            made[name] = out.out.strip()
            assert made[name].startswith("ed25519:")
            assert (keys / f"{name}.key").stat().st_mode & 0o777 == 0o600
            assert "PRIVATE" not in out.out + out.err
        repo.write("policies/approvals.yaml", _policy(made["alice"], made["bob"]))
        repo.write("datastores/Shop/_store.yaml", PRUNED)
        repo.entry("Shop", "sword", {"price": 100})
        repo.entry("Shop", "shield", {"price": 60})
        repo.commit("shop with an approvals policy")
        repo.dsgit("validate")

        repo.dsgit("plan", "-e", "prod", "-o", "plans/prod.json")
        missing = repo.dsgit("approvals", "check", "plans/prod.json", expect=EXIT_POLICY)
        assert "production changes need two data owners" in missing.out
        assert "needs 2 more approvals from data-owners" in missing.out
        refused = repo.dsgit("apply", "plans/prod.json", expect=EXIT_POLICY)
        assert "needs 2 more approvals" in refused.err and _value(repo, "sword") is None

        signed = repo.dsgit("approve", "plans/prod.json", "--key", str(keys / "alice.key"))
        assert "-----BEGIN DSGIT APPROVAL-----" in signed.out
        assert (repo.root / "plans/prod.json.approvals/alice.json").is_file()
        half = repo.dsgit("approvals", "check", "plans/prod.json", "--format", "json", expect=3)
        body = json.loads(half.out)
        assert body["rules"][0]["missing"] == 1
        assert [c["policy_approver"] for c in body["rules"][0]["counted"]] == ["alice"]

        # bob approves by pasting nothing but the text block (as into a pull-request comment)
        bob = repo.dsgit(
            "approve",
            "plans/prod.json",
            "--key",
            str(keys / "bob.key"),
            "--out",
            str(tmp_path / "bob.json"),
        )
        comment = tmp_path / "comment.md"
        comment.write_text("LGTM\n\n" + bob.out.split("comment:\n", 1)[1], encoding="utf-8")
        ok = repo.dsgit("approvals", "check", "plans/prod.json", "--approvals", str(comment))
        assert ok.code == EXIT_OK and "SATISFIED" in ok.out

        applied = repo.dsgit("apply", "plans/prod.json", "--approvals", str(comment))
        assert "Approved by alice (signature), bob (signature)" in applied.out
        assert _value(repo, "sword") == {"price": 100}

        log = repo.dsgit("audit", "log", "--format", "json")
        records = json.loads(log.out)
        approvals = [r for r in records if r.get("type") == "approval"]
        assert sorted(r["approver"] for r in approvals) == ["alice", "bob"]
        assert all(r["method"] == "signature" and r["signature_digest"] for r in approvals)
        repo.dsgit("audit", "verify")

        # a destructive plan (a prune delete) with one approval: refused, nothing written
        (repo.root / "datastores/Shop/global/shield.yaml").unlink()
        repo.commit("retire the shield")
        repo.dsgit("plan", "-e", "prod", "-o", "plans/prune.json")
        repo.dsgit("approve", "plans/prune.json", "--key", str(keys / "alice.key"))
        before = (repo.root / "audit").exists() and sorted(
            p.name for p in (repo.root / "audit").rglob("*")
        )
        one = repo.dsgit("apply", "plans/prune.json", expect=EXIT_POLICY)
        assert "needs 1 more approval" in one.err
        assert _value(repo, "shield") == {"price": 60}
        after = sorted(p.name for p in (repo.root / "audit").rglob("*"))
        assert before == after  # no ledger record, no pre-image

        # a replayed approval of the older plan does not count for this one
        replay = repo.dsgit(
            "approvals",
            "check",
            "plans/prune.json",
            "--approvals",
            str(repo.root / "plans/prod.json.approvals"),
            expect=EXIT_POLICY,
        )
        assert "approves another plan" in replay.out

        # the policy edited after the plan: refused with the reason, even when approved
        repo.write(
            "policies/approvals.yaml", {**_policy(made["alice"], made["bob"]), "max_age": "30d"}
        )
        repo.commit("loosen the policy")
        repo.dsgit("approve", "plans/prune.json", "--key", str(keys / "bob.key"))
        tampered = repo.dsgit("approvals", "check", "plans/prune.json", expect=EXIT_STALE)
        assert "changed since the plan was made" in tampered.out
        stale = repo.dsgit("apply", "plans/prune.json", expect=EXIT_STALE)  # the same word
        assert "policies/approvals.yaml" in stale.err
        assert _value(repo, "shield") == {"price": 60}

        # private keys never reach the repository, the ledger or any output
        secret = (keys / "alice.key").read_text().split("-----")[2].strip()
        for path in repo.root.rglob("*"):
            if path.is_file() and ".git" not in path.parts:
                assert secret not in path.read_text(errors="replace"), path
