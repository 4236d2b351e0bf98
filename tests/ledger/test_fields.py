"""What an apply record says: who, what and why (plan kind, commit, dirty flag and declaration
digest, suppressions with codes, value digests, diffs without sensitive values, the actor)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsgit.apply.run import ApplyDeps, ApplyOptions, apply_plan
from dsgit.config import Environment
from dsgit.crypto import Key, Keyring
from dsgit.emulator import Emulator
from dsgit.ledger import ApplyRecord, ChangeRecord, Ledger, Suppression
from dsgit.ledger.actor import Actor, resolve_actor
from dsgit.model.declaration import StorePolicy
from dsgit.model.declaration import Suppression as Suppress
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.digest import entry_digest
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client
from support import declaration_of, invoke_cli, run_git, seed_live

ENV = "local"
CANARY = "canary-5e1d-never-in-the-ledger"
PRICE = Address.standard("Shop", "sword")
OLD = Address.standard("Shop", "retired")
SECRET = Address.standard("Secrets", "webhook")
POLICIES = {
    (StoreKind.STANDARD, "Shop"): StorePolicy(
        prune=True, suppress=(Suppress("DSP002", "retired item, approved by live-ops"),)
    ),
    (StoreKind.STANDARD, "Secrets"): StorePolicy(sensitive=("/token",)),
}


@pytest.fixture
def api() -> Iterator[OpenCloudClient]:
    client = emulated_client(Emulator(db=":memory:"), universe_id=1)
    try:
        yield client
    finally:
        client.close()


def apply_once(root: Path, api: OpenCloudClient, actor: str) -> str:
    seed_live(
        api,
        {
            PRICE: EntryData({"price": 300}),
            OLD: EntryData({"price": 1}),
            SECRET: EntryData({"token": "old-" + CANARY, "url": "https://a"}),
        },
    )
    declaration = declaration_of(
        {
            PRICE: EntryData({"price": 250}),
            SECRET: EntryData({"token": CANARY, "url": "https://b"}),
        },
        POLICIES,
        commit="c0ffee" * 6 + "abcd",
    )
    plan = make_plan(declaration, api, PlanRequest(ENV, 1, now=datetime.now(UTC)))
    deps = ApplyDeps(
        root=root,
        env=Environment(name=ENV, universe_id=1, url="http://emulator.test"),
        api=api,
        declaration=declaration,
        keyring=Keyring((Key(bytes(range(32)), "test"),)),
        actor=actor,
    )
    return apply_plan(plan, deps, ApplyOptions(workers=1)).apply_id


def test_the_apply_record_says_who_what_and_why(tmp_path: Path, api: OpenCloudClient) -> None:
    apply_id = apply_once(tmp_path, api, Actor("Ada Lovelace <ada@example.com>", "git"))
    records = Ledger(tmp_path, environment=ENV).records_of_apply(apply_id)
    (run,) = [r for r in records if isinstance(r.body, ApplyRecord)]
    body = run.body
    assert isinstance(body, ApplyRecord)
    assert run.actor == "Ada Lovelace <ada@example.com>" and body.actor_source == "git"
    assert body.plan_kind == "plan" and body.source_commit == "c0ffee" * 6 + "abcd"
    assert body.source_dirty is False and body.source_digest.startswith("sha256:")
    assert body.suppressions == (
        Suppression("DSP002", "retired item, approved by live-ops", "Shop/global/retired", None),
    )
    changes = {r.body.address: r.body for r in records if isinstance(r.body, ChangeRecord)}
    price = changes[str(PRICE)]
    assert price.before.value_digest == entry_digest(EntryData({"price": 300}))
    assert price.after.value_digest == entry_digest(EntryData({"price": 250}))
    assert price.diff == ({"pointer": "/price", "op": "replace", "old": 300, "new": 250},)
    deleted = changes[str(OLD)]
    assert deleted.action == "delete" and deleted.after.exists is False
    secret = changes[str(SECRET)]
    assert {"pointer": "/url", "op": "replace", "old": "https://a", "new": "https://b"} in (
        secret.diff
    )
    ledger_text = "".join(p.read_text() for p in (tmp_path / "audit/ledger").rglob("*.jsonl"))
    assert CANARY not in ledger_text  # the sensitive path is never in the ledger


def test_a_dirty_plan_is_recorded_as_dirty(tmp_path: Path, api: OpenCloudClient) -> None:
    declaration = declaration_of({PRICE: EntryData({"price": 1})})  # no commit: dirty
    plan = make_plan(declaration, api, PlanRequest(ENV, 1, now=datetime.now(UTC)))
    env = Environment(name=ENV, universe_id=1, url="http://emulator.test")
    deps = ApplyDeps(root=tmp_path, env=env, api=api, declaration=declaration)
    result = apply_plan(plan, deps, ApplyOptions(workers=1))
    (run,) = [
        r.body
        for r in Ledger(tmp_path, environment=ENV).records_of_apply(result.apply_id)
        if isinstance(r.body, ApplyRecord)
    ]
    assert run.source_dirty is True and run.source_commit is None
    assert run.source_digest == declaration.source.digest


def test_audit_log_shows_who_what_why_and_values_only_when_verbose(
    tmp_path: Path, api: OpenCloudClient, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "dsgit.yaml").write_text(
        "version: 1\nenvironments:\n  local:\n    universe_id: 1\n    emulator: .dsgit/e.db\n"
    )
    apply_id = apply_once(root, api, Actor("ci-bot", "DSGIT_ACTOR"))
    code, out, _ = invoke_cli(["-C", str(root), "audit", "log"], capsys)
    assert code == 0
    (apply_line,) = [line for line in out.splitlines() if f" apply {apply_id} " in line]
    assert " ci-bot plan apply " in apply_line and "commit=c0ffeec0ffee" in apply_line
    assert "(dirty)" not in apply_line
    assert "    suppressed DSP002 Shop/global/retired: retired item, approved by live-ops" in out
    (update,) = [line for line in out.splitlines() if "update Shop/global/sword" in line]
    digests = (
        entry_digest(EntryData({"price": 300})).removeprefix("sha256:")[:12]
        + "->"
        + entry_digest(EntryData({"price": 250})).removeprefix("sha256:")[:12]
    )
    assert digests in update
    assert "300 -> 250" not in out  # values only with --verbose
    code, verbose, _ = invoke_cli(["-C", str(root), "audit", "log", "--verbose"], capsys)
    assert "    ~ /price: 300 -> 250" in verbose and '~ /url: "https://a" -> "https://b"' in verbose
    assert CANARY not in verbose
    code, out, _ = invoke_cli(
        ["-C", str(root), "audit", "log", "--format", "json", "--store", "Shop"], capsys
    )
    shown = json.loads(out)
    assert shown and all("diff" not in record for record in shown)
    code, out, _ = invoke_cli(
        ["-C", str(root), "audit", "log", "--format", "json", "--verbose", "--apply", apply_id],
        capsys,
    )
    shown = json.loads(out)
    assert {record["apply_id"] for record in shown} == {apply_id}
    assert any(record.get("diff") for record in shown) and CANARY not in out
    # a unique prefix of the id is enough, as for revert; an unknown one is an error
    code, short, _ = invoke_cli(
        ["-C", str(root), "audit", "log", "--format", "json", "--apply", apply_id[:10]], capsys
    )
    assert code == 0 and {record["apply_id"] for record in json.loads(short)} == {apply_id}
    code, _, err = invoke_cli(["-C", str(root), "audit", "log", "--apply", "1999"], capsys)
    assert code == 1 and "no apply '1999' in the ledger" in err
    code, out, _ = invoke_cli(["-C", str(root), "audit", "log", "-e", "other"], capsys)
    assert "no matching records" in out


# --- the actor ---------------------------------------------------------------------------------


def no_git(root: Path | None, name: str) -> str | None:
    return None


def test_dsgit_actor_then_ci_actor_then_git_identity() -> None:
    def git(root: Path | None, name: str) -> str | None:
        return {"user.name": "Ada", "user.email": "ada@example.com"}[name]

    both = {"DSGIT_ACTOR": "release-bot", "GITHUB_ACTOR": "octocat"}
    assert resolve_actor(None, both, git) == "release-bot"
    assert resolve_actor(None, both, git).source == "DSGIT_ACTOR"
    ci = resolve_actor(None, {"GITHUB_ACTOR": "octocat"}, git)
    assert (ci, ci.source) == ("octocat", "GITHUB_ACTOR")
    local = resolve_actor(None, {}, git)
    assert (local, local.source) == ("Ada <ada@example.com>", "git")
    env_ident = resolve_actor(
        None, {"GIT_AUTHOR_NAME": "Bea", "GIT_AUTHOR_EMAIL": "bea@example.com"}, git
    )
    assert env_ident == "Bea <bea@example.com>"


def test_without_any_identity_the_actor_is_unknown_never_the_os_user() -> None:
    import getpass

    nobody = resolve_actor(None, {"USER": getpass.getuser()}, no_git)
    assert (nobody, nobody.source) == ("unknown", "none")
    assert resolve_actor(None, {"DSGIT_ACTOR": "   "}, no_git) == "unknown"


@pytest.mark.slow  # git subprocess
def test_the_git_identity_is_read_from_the_repository(tmp_path: Path) -> None:
    run_git(tmp_path, "init", "-q")
    run_git(tmp_path, "config", "user.name", "Grace Hopper")
    run_git(tmp_path, "config", "user.email", "grace@example.com")
    actor = resolve_actor(tmp_path, {})
    assert (actor, actor.source) == ("Grace Hopper <grace@example.com>", "git")


def test_dsgit_apply_records_the_resolved_actor_and_warns_when_it_is_nobody(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    (root / "datastores/Config/global").mkdir(parents=True)
    (root / "dsgit.yaml").write_text(
        "version: 1\nenvironments:\n  local:\n    universe_id: 1\n    emulator: .dsgit/e.db\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")

    def apply(value: int) -> str:
        (root / "datastores/Config/global/k.yaml").write_text(f"value: {value}\n")
        code, _, _ = invoke_cli(["-C", str(root), "plan", "-o", "plan.json"], capsys)
        assert code == 0
        code, _, err = invoke_cli(["-C", str(root), "apply", "plan.json"], capsys)
        assert code == 0, err
        return err

    err = apply(1)
    assert "the ledger will name nobody for this apply" in err
    monkeypatch.setenv("DSGIT_ACTOR", "release-bot")
    assert "name nobody" not in apply(2)
    runs = [
        (r.actor, r.body.actor_source)
        for r in Ledger(root).records()
        if isinstance(r.body, ApplyRecord)
    ]
    assert runs == [("unknown", "none"), ("release-bot", "DSGIT_ACTOR")]
