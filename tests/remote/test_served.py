"""End to end over a real socket: the client against a served emulator on 127.0.0.1."""

from __future__ import annotations

import pytest

from dsgit.config import Budget, Environment
from dsgit.emulator import Emulator, FaultSpec
from dsgit.errors import AuthError
from dsgit.model.entry import EntryData
from dsgit.remote.connect import open_client
from dsgit.remote.testing import FAST_RETRIES, no_sleep


def test_served_round_trip_with_budget_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = Emulator(
        db=":memory:",
        ccu=1000,
        api_keys={
            "served-key": frozenset(
                {
                    "universe-datastores.objects:read",
                    "universe-datastores.objects:list",
                    "universe-datastores.objects:update",
                    "universe-datastores.objects:create",
                    "universe-datastores.versions:list",
                }
            )
        },
        faults=FaultSpec.parse("lost=0.2,seed=4"),
    )
    monkeypatch.setenv("DSGIT_SERVED_KEY", "served-key")
    with emulator.serve(host="127.0.0.1", port=0) as server:
        env = Environment(
            "served", 77, url=server.url, api_key_env="DSGIT_SERVED_KEY", budget=Budget(1000, 1.0)
        )
        with open_client(env, retry=FAST_RETRIES, sleep=no_sleep) as client:
            for i in range(20):
                client.update_entry("S", f"k/{i}", EntryData({"i": i}), allow_missing=True)
            keys = sorted(k.key for k in client.list_keys("S"))
            assert keys == sorted(f"k/{i}" for i in range(20))
            read = dict(client.get_entries(("S", "global", key) for key in keys))
            assert all(entry is not None for entry in read.values())
            emulator.faults = None
            assert all(len(list(client.list_revisions("S", key))) == 1 for key in keys)
        monkeypatch.setenv("DSGIT_SERVED_KEY", "wrong-key")
        with open_client(env) as client, pytest.raises(AuthError) as caught:
            client.get_entry("S", "k/1")
        assert "wrong-key" not in str(caught.value)
