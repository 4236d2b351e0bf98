"""The YAML examples in docs/repository.md form a repository that validates."""

from __future__ import annotations

import re
from pathlib import Path

from dsgit.repo import validate_repository

DOC = Path(__file__).resolve().parents[2] / "docs" / "repository.md"


def test_repository_doc_examples_validate(tmp_path: Path) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    project, entry, bans, ordered_store, ordered_scope, profile = blocks[:6]
    token = (
        "ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,"
        "type:str,kid:00000000]"
    )
    files = {
        "dsgit.yaml": project,
        "datastores/Shop/global/speed_coil.yaml": entry,
        "datastores/Bans/_store.yaml": bans.replace(
            'key_pattern: "^[1-9][0-9]*$"', 'key_pattern: "^([1-9][0-9]*|kill_switch_epoch)$"'
        ),
        "datastores/Bans/global/261.yaml": (
            f"value:\n  reason: exploiting\n  moderator_note: x\n  token: {token}\nusers: [261]\n"
        ),
        "datastores/Bans/global/kill_switch_epoch.yaml": "value: 3\n",
        "schemas/ban.schema.yaml": "type: object\n",
        "ordered/Leaderboard_Wins/_store.yaml": ordered_store,
        "ordered/Leaderboard_Wins/global.yaml": ordered_scope,
        "schemas/profile.schema.yaml": profile,
        "schemas/common.schema.yaml": (
            "$defs:\n  coins: {type: integer}\n"
            "  emptyTable: {type: [array, object], maxItems: 0, maxProperties: 0}\n"
        ),
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    reading = validate_repository(tmp_path)
    assert [p.code for p in reading.problems] == ["DS604"]  # the token is not checked: no key
    assert reading.entries == 6
