"""Schema failures of values: one clear message per problem."""

from __future__ import annotations

from pathlib import Path

from dsgit.repo import validate_repository
from support import write_files

CONFIG = "version: 1\nenvironments:\n  local: {universe_id: 1, emulator: .dsgit/emulator.db}\n"
SCHEMA = (
    '{"type": "object", "required": ["name", "price", "currency"],'
    ' "properties": {"price": {"type": "integer", "minimum": 0}}}'
)


def test_missing_required_fields_are_one_problem_naming_them_all(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "dsgit.yaml": CONFIG,
            "schemas/item.json": SCHEMA,
            "datastores/Shop/_store.yaml": "schema: schemas/item.json\n",
            "datastores/Shop/global/sword.yaml": "value:\n  price: -1\n",
        },
    )
    problems = [p for p in validate_repository(tmp_path).problems if p.code == "DS301"]
    messages = sorted(p.message for p in problems)
    assert messages == [
        "`value/price` must be >= 0",
        "`value` is missing required fields `name`, `currency`",
    ]
