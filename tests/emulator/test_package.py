"""The package's public names, and the pure core every adapter shares."""

from __future__ import annotations

import dsgit.emulator as package
from dsgit.emulator import Emulator, Request


def test_public_names() -> None:
    assert sorted(package.__all__) == [
        "Emulator",
        "EmulatorTransport",
        "FaultSpec",
        "Request",
        "Response",
        "ServedEmulator",
    ]
    for name in package.__all__:
        assert getattr(package, name) is not None


def test_handle_is_the_shared_core() -> None:
    with Emulator() as emulator:
        created = emulator.handle(
            Request(
                "POST",
                "/cloud/v2/universes/7/data-stores/S/entries?id=k",
                {"content-type": "application/json"},
                b'{"value": [1]}',
            )
        )
        assert created.status == 200 and created.json()["value"] == [1]
        read = emulator.handle(Request("GET", "/cloud/v2/universes/7/data-stores/S/entries/k"))
        assert read.json()["path"] == "universes/7/data-stores/S/entries/k"
        assert dict(read.headers)["content-type"].startswith("application/json")
