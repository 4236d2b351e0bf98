"""The selection's ``match`` schema as a :data:`~dsgit.migrate.transform.Matcher`.

An inline schema is based at the migration file's own URI, so a ``$ref`` such as
``../schemas/PlayerV1.schema.json`` resolves against the repository's ``schemas/`` as a store's
schema would; a string names a schema there (``schemas/PlayerV1.schema.json#/$defs/V1``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from dsgit.migrate.model import Migration
from dsgit.migrate.transform import Matcher
from dsgit.model.entry import JSONValue
from dsgit.model.pointers import format_pointer
from dsgit.repo.schema_messages import safe_message
from dsgit.repo.value_schemas import ValueSchemas, format_checker, schema_uri

__all__ = ["matcher_for", "unresolved_match"]

_LIMIT = 160


def _validator(migration: Migration, schemas: ValueSchemas) -> Any:
    match = migration.selection.match
    if match is None:
        return None
    if isinstance(match, str):
        return schemas.validator(match)
    document: Any = match
    if isinstance(match, dict) and "$id" not in match:
        document = {**match, "$id": schema_uri(migration.file)}
    return Draft202012Validator(
        document, registry=schemas.registry, format_checker=format_checker()
    )


def unresolved_match(migration: Migration, schemas: ValueSchemas) -> str | None:
    """Why the ``match`` schema cannot be used (a reference that resolves to nothing)."""
    match = migration.selection.match
    if isinstance(match, str) and schemas.validator(match) is None:
        return f"schema {match} is not in schemas/ (or is invalid)"
    return None


def matcher_for(
    migration: Migration,
    schemas: ValueSchemas,
    hidden: Callable[[tuple[str, ...]], bool] = lambda _path: False,
) -> Matcher | None:
    """None when the migration has no ``match`` schema (every selected value matches).

    ``hidden`` says which paths are sensitive: the reason then names the pointer only."""
    validator = _validator(migration, schemas)
    if validator is None:
        return None

    def matches(value: JSONValue) -> str | None:
        error = best_match(validator.iter_errors(value))
        if error is None:
            return None
        path = tuple(str(part) for part in error.absolute_path)
        where = f"`{format_pointer(list(path)) or '/'}`"
        if hidden(path):
            return f"{where}: the (sensitive) value does not match"
        # never the value itself: it may be large, or a player's data
        message = safe_message(error, where) or f"{where} fails `{error.validator}`"
        return message[:_LIMIT] + "…" if len(message) > _LIMIT else message

    return matches
