"""Renderers: text, markdown, json from the same plan; secrets masked everywhere."""

from __future__ import annotations

import json
import logging

import pytest
from plan_fakes import NOW, FakeApi, declaration, plan_of, store

from dsgit.crypto import Keyring, encrypt_value, generate_key
from dsgit.crypto.keys import Key
from dsgit.crypto.walk import decrypt_all
from dsgit.model.declaration import StorePolicy, Suppression
from dsgit.model.entry import Address
from dsgit.plan.build import PlanSettings, build_plan
from dsgit.plan.desired import desired_from_declaration
from dsgit.plan.io import plan_to_json
from dsgit.plan.model import Plan
from dsgit.plan.targets import AddressFilter
from dsgit.planning.read import read_live
from dsgit.planning.usecase import schema_check_for
from dsgit.render.json import render_json
from dsgit.render.markdown import GITHUB_COMMENT_LIMIT, render_markdown
from dsgit.render.text import render_text

CANARY_LIVE = "CANARY-live-7f3a9c"
CANARY_GIT = "CANARY-git-51be02"
CANARY_ENC = "CANARY-enc-90d1aa"
CANARY_GONE = "CANARY-gone-c3c3c3"


def secret_plan() -> Plan:
    key = Key(generate_key())
    keyring = Keyring((key,))
    api = FakeApi()
    api.put("Accounts", "a", {"name": "x", "token": CANARY_LIVE, "pin": "old"})
    api.put("Accounts", "stray", {"token": CANARY_GONE})
    api.put("Accounts", "c", {"name": "z", "token": CANARY_LIVE, "pin": CANARY_LIVE})
    address = Address.standard("Accounts", "b")
    pin_c = encrypt_value(CANARY_ENC, key, Address.standard("Accounts", "c"), "/pin")
    pin_b = encrypt_value(CANARY_ENC, key, address, "/pin")
    policy = StorePolicy(
        prune=True,
        sensitive=("/token",),
        encrypted=("/pin",),
        schema="schemas/a.json",
        suppress=(Suppression("DSP002", "cleanup"),),
    )
    decl = declaration(
        store(
            "Accounts",
            {
                "a": {"name": "y", "token": CANARY_GIT, "pin": "old"},
                "b": {"name": "new", "token": CANARY_GIT, "pin": pin_b},
                "c": {"name": "z", "token": 5, "pin": pin_c},
            },
            policy=policy,
        ),
        schemas={
            "schemas/a.json": {
                "type": "object",
                "properties": {"token": {"type": "string", "minLength": 100}},
            }
        },
    )

    def decrypt(where: Address, value: object) -> object:
        return decrypt_all(value, keyring, where)  # type: ignore[arg-type]

    desired = desired_from_declaration(decl, decrypt=decrypt)  # type: ignore[arg-type]
    live = read_live(api, desired, AddressFilter())  # type: ignore[arg-type]
    return build_plan(
        desired, live, PlanSettings("prod", 7, NOW, schema_check=schema_check_for(decl))
    )


def test_sensitive_values_never_leave_the_plan(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    plan = secret_plan()
    outputs = {
        "file": plan_to_json(plan).decode(),
        "text": render_text(plan),
        "color": render_text(plan, color=True),
        "markdown": render_markdown(plan),
        "json": render_json(plan),
        "repr": repr(plan),
        "logs": caplog.text,
    }
    for name, text in outputs.items():
        for canary in (CANARY_LIVE, CANARY_GIT, CANARY_ENC, CANARY_GONE):
            assert canary not in text, (name, canary)
    assert "(sensitive)" in outputs["text"]
    by = {str(c.address): c for c in plan.changes}
    after = by["Accounts/global/b"].after
    assert after is not None and isinstance(after.value, dict)
    assert set(after.value["token"]) == {"$sensitive"}  # placeholder with the digest
    assert str(after.value["pin"]).startswith("ENC[")  # ciphertext stays
    assert by["Accounts/global/stray"].diff[0].old == {"token": "(sensitive)"}


def test_text_rendering() -> None:
    api = FakeApi()
    api.put("Config", "k", {"Items": [1, 2]})
    plan = plan_of(declaration(store("Config", {"k": {"Items": [1, 3]}, "n": 1})), api)
    text = render_text(plan)
    assert "\x1b[" not in text
    assert "~ Config/global/k  update" in text
    assert "~ /Items/1: 2 -> 3" in text
    assert "+ Config/global/n  create" in text
    assert "Plan: 1 to create, 1 to update, 0 to delete, 0 to increment, 0 unchanged." in text
    assert plan.digest in text
    assert "\x1b[33m" in render_text(plan, color=True)


def test_no_changes_text() -> None:
    api = FakeApi()
    api.put("Config", "k", 1)
    text = render_text(plan_of(declaration(store("Config", {"k": 1})), api))
    assert "No changes" in text and "1 unchanged" in text


def test_markdown_has_summary_table_details_and_digest() -> None:
    api = FakeApi()
    api.put("Config", "stray", "x|y")
    plan = plan_of(declaration(store("Config", {"k": 1}, policy=StorePolicy(prune=True))), api)
    md = render_markdown(plan)
    assert "**Plan:** 1 to create, 0 to update, 1 to delete" in md
    assert "| :no_entry: | `DSP002` | blocking |" in md
    assert "<details><summary><b>Config</b>: 2 changes</summary>" in md
    assert "```diff" in md and plan.digest in md
    assert "apply would refuse this plan" in md
    assert "This plan is **destructive**" in md


def test_markdown_fits_github_limit() -> None:
    api = FakeApi()
    entries = {f"key{n:04d}": {"blob": "v" * 200, "n": n} for n in range(600)}
    plan = plan_of(declaration(store("Big", entries), store("Other", {"x": 1})), api)
    md = render_markdown(plan)
    assert len(md) <= GITHUB_COMMENT_LIMIT
    assert "not shown to fit GitHub's comment limit" in md
    assert plan.digest in md
    small = render_markdown(plan, limit=5000)
    assert len(small) <= 5000 and plan.digest in small


def test_markdown_fence_survives_backticks() -> None:
    api = FakeApi()
    plan = plan_of(declaration(store("Config", {"k": "````` not a fence"})), api)
    md = render_markdown(plan)
    assert "``````diff" in md


def test_json_rendering_is_the_plan_file() -> None:
    plan = plan_of(declaration(store("Config", {"k": 1})), FakeApi())
    assert render_json(plan).encode() == plan_to_json(plan)
    assert json.loads(render_json(plan))["digest"] == plan.digest


def test_long_values_are_shown_whole_in_text_and_markdown() -> None:
    """A reviewer sees every member of a created value, not a line cut at 160 characters."""
    members = {f"item_{index:02d}": f"description number {index}" for index in range(20)}
    api = FakeApi()
    api.put("Shop", "bundle", {**members, "item_07": "old description"})
    plan = plan_of(declaration(store("Shop", {"bundle": members, "fresh": members})), api)
    text = render_text(plan)
    markdown = render_markdown(plan)
    for rendered in (text, markdown):
        assert "…" not in rendered
        for value in members.values():
            assert value in rendered
    assert '~ /item_07: "old description" -> "description number 7"' in text
    assert '-     /item_07: "old description"' in markdown
    # the created value is one `+` line per member, so GitHub colours all of it
    assert sum(line.startswith('+          "item_') for line in markdown.splitlines()) == 20
