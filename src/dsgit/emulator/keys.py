"""API keys for a served emulator, from flags, a keys file and an environment variable.

- ``--api-key KEY`` grants every scope; ``--api-key KEY:SCOPE,SCOPE`` grants those scopes (the
  key ends at the first ``:``; scopes themselves contain ``:``).
- ``--api-keys-file PATH``: a JSON object ``{"KEY": ["scope", ...], "OTHER": "*"}``.
- ``DSGIT_EMULATOR_API_KEYS``: entries in the ``--api-key`` form separated by whitespace or ``;``.

Error messages name the entry by position, never the key itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from dsgit.errors import ConfigError, Location

__all__ = ["ENV_VAR", "keys_from_env", "keys_from_file_text", "parse_key_spec"]

ENV_VAR = "DSGIT_EMULATOR_API_KEYS"

_SCOPE = re.compile(r"^(\*|[A-Za-z0-9._-]+:(\*|[A-Za-z0-9._-]+))$")


def _scopes(items: Iterable[str], where: str) -> frozenset[str]:
    scopes = frozenset(item.strip() for item in items if item.strip())
    for scope in scopes:
        if not _SCOPE.match(scope):
            raise ValueError(
                f"{where}: {scope!r} is not a scope such as universe-datastores.objects:read"
            )
    return scopes or frozenset({"*"})


def parse_key_spec(spec: str, where: str = "api key") -> tuple[str, frozenset[str]]:
    """``KEY`` or ``KEY:SCOPE,SCOPE`` to the key and its scopes. Raises ``ValueError``."""
    key, _, scopes = spec.strip().partition(":")
    if not key:
        raise ValueError(f"{where}: the key is empty")
    return key, _scopes(scopes.split(","), where)


def keys_from_env(text: str) -> dict[str, frozenset[str]]:
    keys: dict[str, frozenset[str]] = {}
    for index, spec in enumerate(re.split(r"[\s;]+", text.strip()), start=1):
        if spec:
            key, scopes = parse_key_spec(spec, f"${ENV_VAR} entry {index}")
            keys[key] = scopes
    return keys


def keys_from_file_text(text: str, file: str) -> dict[str, frozenset[str]]:
    """The keys file's content. Raises :class:`ConfigError` naming the file and entry."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"not valid JSON: {exc.args[0]}", Location(file)) from None
    if not isinstance(data, Mapping):
        raise ConfigError('must be a JSON object {"KEY": ["scope", ...]}', Location(file))
    keys: dict[str, frozenset[str]] = {}
    for index, (key, scopes) in enumerate(data.items(), start=1):
        where = Location(file, field=f"entry {index}")
        items = [scopes] if isinstance(scopes, str) else scopes
        if not key or not isinstance(items, list) or not all(isinstance(s, str) for s in items):
            raise ConfigError('each key must map to a list of scope strings or "*"', where)
        try:
            keys[key] = _scopes(items, f"entry {index}")
        except ValueError as exc:
            raise ConfigError(str(exc), where) from None
    return keys
