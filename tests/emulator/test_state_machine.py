"""Random operation sequences through raw HTTP against a simple reference model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dsgit.emulator import Emulator

from .conftest import FakeClock, validated_client
from .helpers import entries_url, entry_url

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


@dataclass
class Revision:
    revision_id: str
    value: Any  # None: a tombstone
    users: list[int]
    attributes: dict[str, Any]


@dataclass
class Model:
    revisions: list[Revision] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.revisions) and self.revisions[-1].value is not None

    @property
    def etag(self) -> str:
        return self.revisions[-1].revision_id


def read_url(scope: str, key: str, suffix: str = "") -> str:
    if not suffix and "@" in key:
        suffix = "@latest"
    return entry_url("S", key, scope, suffix)


class EmulatorMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.emulator = Emulator(clock=FakeClock())
        self.client = validated_client(self.emulator.transport())
        self.model: dict[tuple[str, str], Model] = {}

    def teardown(self) -> None:
        self.client.close()
        self.emulator.close()

    def _entry(self, scope: str, key: str) -> Model:
        return self.model.setdefault((scope, key), Model())

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
        entry.revisions.append(Revision(body["revisionId"], value, users, attributes))

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
        entry.revisions.append(Revision(latest["revisionId"], None, [], {}))

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

    @precondition(lambda self: any(m.revisions for m in self.model.values()))
    @rule(data=st.data())
    def read_revision(self, data: st.DataObject) -> None:
        choices = sorted(k for k, m in self.model.items() if m.revisions)
        scope, key = data.draw(st.sampled_from(choices))
        entry = self.model[scope, key]
        revision = data.draw(st.sampled_from(entry.revisions))
        body = self.client.get(read_url(scope, key, f"@{revision.revision_id}")).json()
        assert body["value"] == revision.value
        assert body["state"] == ("DELETED" if revision.value is None else "ACTIVE")
        listed = self.client.get(
            read_url(scope, key, ":listRevisions"), params={"maxPageSize": 100}
        ).json()["dataStoreEntries"]
        assert [item["revisionId"] for item in listed] == [r.revision_id for r in entry.revisions]

    @invariant()
    def listings_match(self) -> None:
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
