"""Reading ``environments:``: each environment's effective value checked, named, never leaked."""

from __future__ import annotations

from pathlib import Path

from dsgit.model.entry import Address, StoreKind
from dsgit.repo import read_worktree, validate_repository
from support import write_files

CONFIG = """\
version: 1
environments:
  local: {universe_id: 1, emulator: .dsgit/emulator.db}
  staging: {universe_id: 2, emulator: .dsgit/staging.db}
"""
SCHEMA = (
    "type: object\nrequired: [level]\n"
    "properties:\n  level: {type: integer}\n  note: {type: string, maxLength: 5}\n"
)
CANARY = "CANARY-note-9c1"


def repo(tmp_path: Path, entry: str, settings: str = "") -> Path:
    return write_files(
        tmp_path,
        {
            "dsgit.yaml": CONFIG,
            "schemas/s.schema.yaml": SCHEMA,
            "datastores/S/_store.yaml": "schema: schemas/s.schema.yaml\n" + settings,
            "datastores/S/global/k.yaml": entry,
        },
    )


def problems(root: Path) -> list[str]:
    return [str(p) for p in validate_repository(root).problems]


def test_a_sensitive_field_an_environment_breaks_is_named_not_shown(tmp_path: Path) -> None:
    entry = (
        f"value: {{level: 1, note: ok}}\nenvironments:\n  staging:\n    value: {{note: {CANARY}}}\n"
    )
    found = problems(repo(tmp_path, entry, "sensitive: [/note]\n"))
    assert len(found) == 1, found
    assert found[0].startswith("datastores/S/global/k.yaml:4:")
    assert "DS301 in environment 'staging'" in found[0] and "value/note" in found[0]
    assert CANARY not in found[0]


def test_a_problem_of_the_declared_value_is_reported_once(tmp_path: Path) -> None:
    entry = "value: {note: ok}\nenvironments:\n  staging:\n    value: {note: fine}\n"
    found = problems(repo(tmp_path, entry))
    assert [p.split(": ", 1)[1] for p in found] == [
        "DS301 `value` is missing required field `level`"
    ]
    # ... unless the environment's patch is what it is about
    entry = "value: {level: x}\nenvironments:\n  staging:\n    value: {level: y}\n"
    found = problems(repo(tmp_path, entry))
    assert len(found) == 2 and "in environment 'staging'" in found[1], found


def test_an_override_of_an_encrypted_field_must_be_encrypted(tmp_path: Path) -> None:
    entry = "value: {level: 1}\nenvironments:\n  staging:\n    value: {note: hunter}\n"
    found = problems(repo(tmp_path, entry, "encrypted: [/note]\n"))
    assert any("DS602" in p and "in environment 'staging'" in p and ":4:" in p for p in found)
    assert not any("hunter" in p for p in found)


def test_the_digest_covers_overrides_and_allow_lists(tmp_path: Path) -> None:
    entry = "value: {level: 1}\nenvironments:\n  staging:\n    value: {level: 2}\n"
    root = repo(tmp_path, entry)
    first = read_worktree(root).declaration
    (root / "datastores/S/global/k.yaml").write_text(entry.replace("2", "3"))
    second = read_worktree(root).declaration
    assert first.source.digest != second.source.digest
    (root / "datastores/S/_store.yaml").write_text(
        "schema: schemas/s.schema.yaml\nenvironments: [staging]\n"
    )
    third = read_worktree(root).declaration
    assert third.source.digest != second.source.digest
    store = third.stores[(StoreKind.STANDARD, "S")]
    assert store.environments == ("staging",)
    entry_read = third.entry(Address.standard("S", "k"))
    assert entry_read is not None and entry_read.environments["staging"].patch == {"level": 3}
