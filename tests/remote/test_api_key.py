"""API keys read from the environment: stray whitespace stripped, other characters refused
without showing the key."""

from __future__ import annotations

import pytest

from dsgit.config import Environment
from dsgit.errors import ConfigError

CANARY = "canary-5e0f77aa"


@pytest.mark.parametrize(
    "saved", [CANARY + "\r", CANARY + "\r\n", " " + CANARY, "\t" + CANARY + "\n"]
)
def test_surrounding_whitespace_is_stripped(saved: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSGIT_TEST_KEY", saved)
    assert Environment("prod", 1, api_key_env="DSGIT_TEST_KEY").api_key() == CANARY


def test_whitespace_only_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSGIT_TEST_KEY", " \r\n")
    assert Environment("prod", 1, api_key_env="DSGIT_TEST_KEY").api_key() is None


@pytest.mark.parametrize(
    ("inside", "named"),
    [("\t", "a tab"), (" ", "a space"), ("\x01", "a control character"), ("é", "non-ASCII")],
)
def test_other_characters_are_refused_without_the_key(
    inside: str, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSGIT_TEST_KEY", CANARY[:7] + inside + CANARY[7:])
    with pytest.raises(ConfigError) as caught:
        Environment("prod", 1, api_key_env="DSGIT_TEST_KEY").api_key()
    message = str(caught.value)
    assert named in message and "$DSGIT_TEST_KEY" in message
    assert "environments.prod.api_key_env" in message
    assert CANARY[:7] not in message and CANARY[7:] not in message
