"""`notifications:` parsed into sinks, the deadline setting, and `emit` never raising."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from dsgit.config import parse_project_config
from dsgit.errors import ConfigError
from dsgit.notify import deadline_from, emit
from dsgit.notify.events import EventKind
from dsgit.notify.sinks import SinkType, sinks_of
from notify.events import conflict_event
from support import LOCAL_CONFIG


def _config(text: str):  # type: ignore[no-untyped-def]
    return parse_project_config(LOCAL_CONFIG + text, Path("/repo"), "dsgit.yaml")


def test_sinks_get_names_defaults_and_filters() -> None:
    config = _config(
        """\
notifications:
  - type: slack
    url_env: A
  - type: slack
    url_env: B
    events: [drift]
  - type: discord
    url_env: C
    environments: [local]
  - name: audit-log
    type: webhook
    url_env: D
    secret_env: E
"""
    )
    sinks = sinks_of(config.raw)
    assert [(s.name, s.type) for s in sinks] == [
        ("slack-1", SinkType.SLACK),
        ("slack-2", SinkType.SLACK),
        ("discord", SinkType.DISCORD),
        ("audit-log", SinkType.WEBHOOK),
    ]
    assert sinks[0].events == frozenset(EventKind) - {EventKind.TEST}
    assert sinks[1].events == {EventKind.DRIFT}
    assert sinks[2].environments == {"local"} and sinks[0].environments is None
    assert sinks[3].secret_env == "E"
    assert sinks[2].wants(conflict_event(environment="local"))
    assert not sinks[2].wants(conflict_event(environment="production"))
    assert not sinks[1].wants(conflict_event())


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("  - type: teams\n    url_env: A\n", "DS861", "dsgit.yaml:8"),
        ("  - type: webhook\n    url_env: A\n", "DS861", "dsgit.yaml:8"),
        ("  - type: slack\n    url_env: A\n    environments: [prod]\n", "DS862", "dsgit.yaml:10"),
        ("  - type: slack\n    url_env: A\n    url: https://hooks.slack.com/x\n", "DS863", ":10"),
    ],
)
def test_bad_sinks_are_one_error_naming_file_line_and_code(
    text: str, code: str, where: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        _config("notifications:\n" + text)
    message = str(raised.value)
    assert code in message and where in message
    assert "hooks.slack.com" not in message


def test_deadline_setting() -> None:
    warnings: list[str] = []
    assert deadline_from({}, warnings.append) == 10.0
    assert deadline_from({"DSGIT_NOTIFY_DEADLINE": "2.5"}, warnings.append) == 2.5
    assert deadline_from({"DSGIT_NOTIFY_DEADLINE": "soon"}, warnings.append) == 10.0
    assert deadline_from({"DSGIT_NOTIFY_DEADLINE": "0"}, warnings.append) == 10.0
    assert len(warnings) == 2 and "DSGIT_NOTIFY_DEADLINE" in warnings[0]


class _Broken(httpx.BaseTransport):
    """A transport that fails as no HTTP error does: `emit` still only warns."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug")


def test_emit_never_raises_and_warns_once_per_failure() -> None:
    config = _config("notifications:\n  - type: discord\n    url_env: TEST_URL\n")
    warnings: list[str] = []
    results = emit(
        conflict_event(),
        config,
        warn=warnings.append,
        environ={"TEST_URL": "http://127.0.0.1:9/x"},
        transport=_Broken(),  # type: ignore[arg-type]
    )
    assert results == []
    assert warnings == ["warning: notifications not sent (RuntimeError); the result is unchanged"]
    warnings.clear()
    assert emit(conflict_event(), config, warn=warnings.append, environ={})[0].problem == (
        "$TEST_URL is not set"
    )
    assert warnings == [
        "warning: notification sink 'discord' failed: $TEST_URL is not set (conflict event not "
        "delivered; the command's result is unchanged)"
    ]
    none = _config("")
    assert emit(conflict_event(), none, warn=warnings.append) == []
