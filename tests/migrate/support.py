"""Building migrations from YAML text in tests, as the files module does from a file."""

from __future__ import annotations

from typing import Any

from dsgit.migrate.files import with_lines
from dsgit.migrate.model import Migration
from dsgit.migrate.parse import migration_from_document
from dsgit.repo.file_schemas import FileKind, check_file
from dsgit.repo.yamlload import parse_yaml


def migration_of(text: str, migration_id: str = "m1") -> Migration:
    file = f"migrations/{migration_id}.yaml"
    document, problems = parse_yaml(text, file)
    assert document is not None and not problems, problems
    schema_problems = check_file(FileKind.MIGRATION, document.value, document.node, file)
    assert not schema_problems, schema_problems
    value: Any = document.value
    migration, issues = migration_from_document(migration_id, file, value)
    assert not issues, issues
    return with_lines(migration, document.node)


def steps_yaml(*lines: str) -> str:
    body = "".join(f"  - {line}\n" for line in lines)
    return f"version: 1\nselect: {{store: PlayerStore}}\ntransform:\n{body}"
