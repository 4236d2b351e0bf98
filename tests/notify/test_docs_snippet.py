"""The signature check shown in docs/notifications.md verifies real deliveries."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from dsgit.notify.send import deliver
from dsgit.notify.signing import SIGNATURE_HEADER
from notify.events import SECRET, conflict_event, sinks
from notify.receiver import receiver

DOC = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"


def _snippet() -> Callable[..., bool]:
    text = DOC.read_text("utf-8")
    [code] = [
        block for block in re.findall(r"```python\n(.*?)```", text, re.S) if "def verify" in block
    ]
    scope: dict[str, object] = {}
    exec(compile(code, str(DOC), "exec"), scope)
    return scope["verify_dsgit_signature"]  # type: ignore[return-value]


def test_the_documented_check_accepts_dsgit_and_rejects_tampering() -> None:
    check = _snippet()
    with receiver() as rx:
        environ = {"TEST_HOOK_URL": rx.url, "TEST_HOOK_SECRET": SECRET}
        [result] = deliver(conflict_event(), sinks()[2:], environ)
    assert result.ok
    [request] = rx.requests
    header = request.headers[SIGNATURE_HEADER]
    assert check(SECRET, header, request.body)
    assert not check(SECRET, header, request.body.replace(b"production", b"staging"))
    assert not check("wrong", header, request.body)
    stale = "t=1000," + header.split(",", 1)[1]
    assert not check(SECRET, stale, request.body)
