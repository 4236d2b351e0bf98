"""Random operation sequences through raw HTTP against a simple reference model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dsgit.emulator import Emulator
from dsgit.emulator.clock import parse_time, to_ticks

from .conftest import FakeClock, validated_client
from .helpers import V1, entries_url, entry_url

V1_ENTRY = f"{V1}/datastore/entries/entry"

KEYS = st.sampled_from(["a", "b/c", "d@e", "ü ß", "x:y", "100%"])
SCOPES = st.sampled_from(["global", "season 2"])
VALUES = st.one_of(
    st.integers(-1000, 1000),
    st.text(max_size=8),
    st.lists(st.integers(0, 9), max_size=3),
    st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 9), max_size=2),
)
USERS = st.lists(st.integers(1, 10**9), max_size=3, unique=True)
ATTRIBUTES = st.dictionaries(st.sampled_from(["tag", "v"]), st.text(max_size=5), max_size=2)


RETENTION = 30 * 86_400 * 10_000_000  # ticks


@dataclass
class Revision:
    revision_id: str
    value: Any  # None: a tombstone
    users: list[int]
    attributes: dict[str, Any]
    time: int  # ticks


@dataclass
class Model:
    revisions: list[Revision] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.revisions) and self.revisions[-1].value is not None

    @property
    def etag(self) -> str:
        return self.revisions[-1].revision_id

    def expire(self, now: int) -> None:
        """Roblox's retention: a tombstone older than 30 days takes the whole key with it."""
        last = self.revisions[-1] if self.revisions else None
        if last is not None and last.value is None and last.time + RETENTION <= now:
            self.revisions = []

    def visible(self, now: int) -> list[Revision]:
        """Revisions still kept: the latest, and any younger than 30 days."""
        return [r for r in self.revisions if r is self.revisions[-1] or r.time + RETENTION > now]


def read_url(scope: str, key: str, suffix: str = "") -> str:
    if not suffix and "@" in key:
        suffix = "@latest"
    return entry_url("S", key, scope, suffix)


class EmulatorMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.emulator = Emulator(clock=self.clock, versions="all")
        self.client = validated_client(self.emulator.transport())
        self.model: dict[tuple[str, str], Model] = {}

    def teardown(self) -> None:
        self.client.close()
        self.emulator.close()

    def _now(self) -> int:
        return to_ticks(self.clock.now)

    def _entry(self, scope: str, key: str) -> Model:
        entry = self.model.setdefault((scope, key), Model())
        entry.expire(self._now())
        return entry

    def _record(
        self,
        scope: str,
        key: str,
        response: httpx.Response,
        value: Any,
        users: list[int],
        attributes: dict[str, Any],
    ) -> None:
        assert response.status_code == 200, response.text
        body = response.json()
        entry = self._entry(scope, key)
        assert body["value"] == value and body["id"] == key
        assert body["users"] == [f"users/{u}" for u in users]
        assert body["attributes"] == attributes
        assert body["etag"] == body["revisionId"]
        assert int(body["revisionId"].split(".")[1]) == len(entry.revisions) + 1
        moment = parse_time(body["revisionCreateTime"])
        entry.revisions.append(Revision(body["revisionId"], value, users, attributes, moment))

    @rule(scope=SCOPES, key=KEYS, value=VALUES, users=USERS, attributes=ATTRIBUTES)
    def create(
        self, scope: str, key: str, value: Any, users: list[int], attributes: dict[str, Any]
    ) -> None:
        response = self.client.post(
            entries_url("S", scope),
            params={"id": key},
            json={"value": value, "users": [f"users/{u}" for u in users], "attributes": attributes},
        )
        if self._entry(scope, key).active:
            assert response.status_code == 400
        else:
            self._record(scope, key, response, value, users, attributes)

    @rule(
        scope=SCOPES,
        key=KEYS,
        value=VALUES,
        users=USERS,
        etag=st.sampled_from(["none", "current", "stale"]),
        allow_missing=st.booleans(),
    )
    def update(
        self, scope: str, key: str, value: Any, users: list[int], etag: str, allow_missing: bool
    ) -> None:
        entry = self._entry(scope, key)
        body: dict[str, Any] = {"value": value, "users": [f"users/{u}" for u in users]}
        if etag == "current" and entry.revisions:
            body["etag"] = entry.etag
        elif etag == "stale":
            body["etag"] = "08DC000000000000.0000000001.08DC000000000000.01"
        params = {"allowMissing": "true"} if allow_missing else {}
        response = self.client.patch(entry_url("S", key, scope), params=params, json=body)
        if not entry.active and not allow_missing:
            assert response.status_code == 404
        elif "etag" in body and (not entry.active or body["etag"] != entry.etag):
            assert response.status_code == 409
        else:
            self._record(scope, key, response, value, users, {})

    @rule(scope=SCOPES, key=KEYS)
    def delete(self, scope: str, key: str) -> None:
        entry = self._entry(scope, key)
        response = self.client.delete(entry_url("S", key, scope))
        if not entry.active:
            assert response.status_code == 404
            return
        assert response.status_code == 200 and response.json() == {}
        latest = self.client.get(read_url(scope, key)).json()
        assert latest["state"] == "DELETED"
        moment = parse_time(latest["revisionCreateTime"])
        entry.revisions.append(Revision(latest["revisionId"], None, [], {}, moment))

    @rule(scope=SCOPES, key=KEYS, amount=st.integers(-50, 50))
    def increment(self, scope: str, key: str, amount: int) -> None:
        entry = self._entry(scope, key)
        response = self.client.post(
            entry_url("S", key, scope, ":increment"), json={"amount": amount}
        )
        current = entry.revisions[-1].value if entry.active else 0
        if isinstance(current, bool) or not isinstance(current, int):
            assert response.status_code == 400
            return
        self._record(scope, key, response, current + amount, [], {})

    def _v1(self, scope: str, key: str) -> dict[str, str]:
        return {"datastoreName": "S", "entryKey": key, "scope": scope}

    @rule(
        scope=SCOPES,
        key=KEYS,
        value=VALUES,
        users=USERS,
        mode=st.sampled_from(["plain", "exclusive", "current", "stale"]),
    )
    def v1_set(self, scope: str, key: str, value: Any, users: list[int], mode: str) -> None:
        entry = self._entry(scope, key)
        params = self._v1(scope, key)
        if mode == "exclusive":
            params["exclusiveCreate"] = "true"
        elif mode == "current" and entry.revisions:
            params["matchVersion"] = entry.etag
        elif mode == "stale":
            params["matchVersion"] = "08DC000000000000.0000000001.08DC000000000000.01"
        response = self.client.post(
            V1_ENTRY,
            params=params,
            content=json.dumps(value).encode(),
            headers={"roblox-entry-userids": json.dumps(users)},
        )
        refused = (mode == "exclusive" and entry.active) or (
            "matchVersion" in params and (not entry.active or params["matchVersion"] != entry.etag)
        )
        if refused:
            assert response.status_code == 412
            if entry.active:
                assert response.json() == entry.revisions[-1].value
                assert response.headers["roblox-entry-version"] == entry.etag
            return
        assert response.status_code == 200, response.text
        version = response.json()
        assert int(version["version"].split(".")[1]) == len(entry.revisions) + 1
        moment = parse_time(version["createdTime"])
        entry.revisions.append(Revision(version["version"], value, users, {}, moment))

    @rule(scope=SCOPES, key=KEYS)
    def v1_get(self, scope: str, key: str) -> None:
        entry = self._entry(scope, key)
        response = self.client.get(V1_ENTRY, params=self._v1(scope, key))
        if not entry.revisions:
            assert response.status_code == 404
        elif not entry.active:
            assert response.status_code == 204
        else:
            latest = entry.revisions[-1]
            assert response.json() == latest.value
            assert response.headers["roblox-entry-version"] == latest.revision_id
            assert json.loads(response.headers["roblox-entry-userids"]) == latest.users

    @rule(scope=SCOPES, key=KEYS)
    def v1_delete(self, scope: str, key: str) -> None:
        entry = self._entry(scope, key)
        response = self.client.delete(V1_ENTRY, params=self._v1(scope, key))
        if not entry.active:
            assert response.status_code == 404
            return
        assert response.status_code == 204
        latest = self.client.get(read_url(scope, key)).json()
        moment = parse_time(latest["revisionCreateTime"])
        entry.revisions.append(Revision(latest["revisionId"], None, [], {}, moment))

    @rule(scope=SCOPES, key=KEYS)
    def get(self, scope: str, key: str) -> None:
        entry = self._entry(scope, key)
        response = self.client.get(read_url(scope, key))
        if not entry.revisions:
            assert response.status_code == 404
            return
        body = response.json()
        latest = entry.revisions[-1]
        assert body["etag"] == latest.revision_id
        assert body["state"] == ("ACTIVE" if entry.active else "DELETED")
        assert body["value"] == latest.value
        assert body["users"] == [f"users/{u}" for u in latest.users]

    @rule(hours=st.integers(0, 40).map(lambda days: 24 * days + 7))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @precondition(lambda self: any(m.revisions for m in self.model.values()))
    @rule(data=st.data())
    def read_revision(self, data: st.DataObject) -> None:
        for entry in self.model.values():
            entry.expire(self._now())
        choices = sorted(k for k, m in self.model.items() if m.revisions)
        if not choices:
            return
        scope, key = data.draw(st.sampled_from(choices))
        entry = self.model[scope, key]
        revision = data.draw(st.sampled_from(entry.visible(self._now())))
        body = self.client.get(read_url(scope, key, f"@{revision.revision_id}")).json()
        assert body["value"] == revision.value
        assert body["state"] == ("DELETED" if revision.value is None else "ACTIVE")
        listed = self.client.get(
            read_url(scope, key, ":listRevisions"), params={"maxPageSize": 100}
        ).json()["dataStoreEntries"]
        kept = entry.visible(self._now())
        assert [item["revisionId"] for item in listed] == [r.revision_id for r in kept]

    @invariant()
    def listings_match(self) -> None:
        for entry in self.model.values():
            entry.expire(self._now())
        for scope in ("global", "season 2"):
            listed = self.client.get(entries_url("S", scope), params={"maxPageSize": 256})
            ids = [item["id"] for item in listed.json().get("dataStoreEntries", [])]
            expected = sorted(k for (s, k), m in self.model.items() if s == scope and m.active)
            assert ids == expected
        everything = self.client.get(entries_url("S", "-"), params={"maxPageSize": 256}).json()
        pairs = [
            (item["path"].split("/scopes/")[1].split("/entries/")[0], item["id"])
            for item in everything.get("dataStoreEntries", [])
        ]
        assert pairs == sorted(k for k, m in self.model.items() if m.active)


TestEmulatorMachine = EmulatorMachine.TestCase
TestEmulatorMachine.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
