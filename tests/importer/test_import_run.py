from __future__ import annotations

from pathlib import Path

import pytest

from dsgit.crypto import (
    ENV_KEY,
    KeyNotAvailable,
    decrypt_all,
    encode_key,
    encrypt_value,
    generate_key,
    load_keyring,
)
from dsgit.errors import ConfigError
from dsgit.importer import FileAction, ImportOptions, import_live
from dsgit.importer.policies import repository_policies
from dsgit.model.declaration import Ownership
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.remote.client import OpenCloudClient
from dsgit.repo import load_declaration
from dsgit.yamlio.equality import json_equal

TRICKY_VALUE = {
    "int": 1,
    "float": 1.0,
    "big": 2**70,
    "tiny": 5e-324,
    "huge": 1e300,
    "neg": -0.5,
    "unicode": "héllo ✓ 🙂 \u2028 end",
    "empty_list": [],
    "empty_object": {},
    "nested": {"a": [{"b": [[], {}, None, True, False]}]},
    "looks_like": ["yes", "no", "on", "0123", "1e3", "null", "~", "2024-01-01", "true", "1:20", ""],
    "yes": "key that looks like a bool",
    "1": "key that looks like a number",
    "multi\nline": "a\nb\n",
}
TRICKY_KEYS = ["user/1", "a@b", "with space", "ünï©ødé", ".hidden", "Player_1", "100%", "x@latest"]


def put(api: OpenCloudClient, store: str, key: str, data: EntryData, scope: str = "global") -> None:
    api.update_entry(store, key, data, scope, allow_missing=True)


def put_ordered(
    api: OpenCloudClient, store: str, key: str, value: int, scope: str = "global"
) -> None:
    api.update_ordered(store, key, value, scope, allow_missing=True)


def _run(api: OpenCloudClient, root: Path, keyring: object = None, **options: object):  # type: ignore[no-untyped-def]
    """Import with ``ownership: owned`` for new stores unless the test says otherwise."""
    options.setdefault("ownership", Ownership.OWNED)
    return import_live(api, root, ImportOptions(**options), repository_policies(root), keyring)  # type: ignore[arg-type]


def _files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*.yaml"))
        if path.name != "dsgit.yaml"
    }


def test_import_then_load_gives_back_live_values(api: OpenCloudClient, root: Path) -> None:
    for index, key in enumerate(TRICKY_KEYS):
        put(
            api,
            "DATA/12345",
            key,
            EntryData({**TRICKY_VALUE, "index": index}, {"source": "game", "n": 2}, (45348281,)),
        )
    put(api, "Plain", "scalar", EntryData("yes"), scope="other scope")
    put(api, "Plain", "number", EntryData(12.0))
    put(api, "Plain", "null", EntryData([]))  # Open Cloud refuses a null value
    put_ordered(api, "Top/1", "player 1", 78)
    put_ordered(api, "Top/1", "p.2", -(2**40))
    report = _run(api, root, stores=("DATA/12345", "Plain", "Top/1"))
    assert report.summary()["created"] == len(TRICKY_KEYS) + 3 + 1
    declaration = load_declaration(root)
    for key in TRICKY_KEYS:
        data = declaration.data(Address.standard("DATA/12345", key))
        live = api.get_entry("DATA/12345", key)
        assert data is not None and live is not None
        assert json_equal(data.value, live.value)
        assert dict(data.attributes) == {"source": "game", "n": 2}
        assert data.users == (45348281,)
    plain = declaration.data(Address.standard("Plain", "scalar", "other scope"))
    assert plain is not None and plain.value == "yes"
    number = declaration.data(Address.standard("Plain", "number"))
    assert number is not None and json_equal(number.value, 12.0)
    null = declaration.data(Address.standard("Plain", "null"))
    assert null is not None and null.value == [] and null.attributes == {} and null.users == ()
    ordered = declaration.stores[(StoreKind.ORDERED, "Top/1")].entries
    assert {key: entry.data.value for (_, key), entry in ordered.items()} == {
        "player 1": 78,
        "p.2": -(2**40),
    }
    text = (root / "datastores/DATA%2F12345/global/%2Ehidden.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=https://dsgit.dev/schemas/entry")
    assert "  looks_like:\n    - 'yes'\n" in text
    assert (root / "ordered/Top%2F1/global.yaml").read_text() == (
        "# yaml-language-server: $schema=https://dsgit.dev/schemas/ordered-scope.schema.json\n"
        "p.2: -1099511627776\n"
        "player 1: 78\n"
    )


def test_reimport_of_unchanged_data_writes_nothing(api: OpenCloudClient, root: Path) -> None:
    put(api, "S", "k", EntryData(TRICKY_VALUE, {"a": 1}, (1, 2)))
    put_ordered(api, "O", "k", 3)
    _run(api, root, stores=("S", "O"))
    before = {path: (root / path).stat().st_mtime_ns for path in _files(root)}
    contents = _files(root)
    report = _run(api, root, stores=("S", "O"))
    assert report.summary() == {
        "entries": 2,
        "files": 2,
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "store_files_created": 0,
    }
    assert _files(root) == contents
    assert {path: (root / path).stat().st_mtime_ns for path in _files(root)} == before


def test_reimport_keeps_comments_and_order(api: OpenCloudClient, root: Path) -> None:
    put(api, "Shop", "prices", EntryData({"sword": 100, "shield": 50, "potion": 5}))
    _run(api, root, stores=("Shop",))
    path = root / "datastores/Shop/global/prices.yaml"
    edited = (
        "# yaml-language-server: $schema=https://dsgit.dev/schemas/entry.schema.json\n"
        "# Prices reviewed by the economy team.\n"
        "value:\n"
        "  potion: 5  # cheap on purpose\n"
        "  sword: 100\n"
        "  shield: 50\n"
        "suppress:\n"
        "  - code: DS001\n"
        "    reason: kept\n"
    )
    path.write_text(edited)
    put(api, "Shop", "prices", EntryData({"sword": 120, "shield": 50, "potion": 5}))
    report = _run(api, root, stores=("Shop",))
    assert [item.action for item in report.files] == [FileAction.UPDATED]
    assert path.read_text() == edited.replace("sword: 100", "sword: 120")


def test_reimport_metadata_changes(api: OpenCloudClient, root: Path) -> None:
    put(api, "S", "k", EntryData({"v": 1}))
    _run(api, root, stores=("S",))
    path = root / "datastores/S/global/k.yaml"
    path.write_text(path.read_text() + "attributes: {}\nusers: []\n")
    assert _run(api, root, stores=("S",)).files[0].action is FileAction.UNCHANGED
    put(api, "S", "k", EntryData({"v": 1}, {"tag": "x"}, (7,)))
    _run(api, root, stores=("S",))
    assert path.read_text().endswith("attributes:\n  tag: x\nusers:\n  - 7\n")
    put(api, "S", "k", EntryData({"v": 1}))
    _run(api, root, stores=("S",))
    assert path.read_text().endswith("value:\n  v: 1\n")


def test_ordered_reimport_keeps_layout(api: OpenCloudClient, root: Path) -> None:
    put_ordered(api, "Wins", "b", 2)
    put_ordered(api, "Wins", "d", 4)
    _run(api, root, stores=("Wins",))
    path = root / "ordered/Wins/global.yaml"
    path.write_text("# leaderboard\nd: 4  # top\nb:\n  value: 2\n  moved_from: old_b\nzz: 9\n")
    put_ordered(api, "Wins", "b", 3)
    put_ordered(api, "Wins", "c", 1)
    _run(api, root, stores=("Wins",))
    assert path.read_text() == (
        "# leaderboard\nd: 4  # top\nb:\n  value: 3\n  moved_from: old_b\nc: 1\nzz: 9\n"
    )


def test_filters(api: OpenCloudClient, root: Path) -> None:
    put(api, "A", "p_1", EntryData(1))
    put(api, "A", "p_2", EntryData(2), scope="s2")
    put(api, "A", "q_1", EntryData(3))
    put(api, "B", "p_1", EntryData(4))
    put_ordered(api, "O", "p_1", 5)
    put_ordered(api, "O", "q_1", 6)
    report = _run(api, root, dry_run=True)
    assert sorted(item.path for item in report.files) == [
        "datastores/A/global/p_1.yaml",
        "datastores/A/global/q_1.yaml",
        "datastores/A/s2/p_2.yaml",
        "datastores/B/global/p_1.yaml",
    ]
    assert report.notes and "--store" in report.notes[0]
    assert _files(root) == {}
    report = _run(api, root, stores=("A", "O"), prefix="p_", dry_run=True)
    assert sorted(item.path for item in report.files) == [
        "datastores/A/global/p_1.yaml",
        "datastores/A/s2/p_2.yaml",
        "ordered/O/global.yaml",
    ]
    report = _run(api, root, stores=("A",), scope="s2", dry_run=True)
    assert [item.path for item in report.files] == ["datastores/A/s2/p_2.yaml"]
    report = _run(api, root, stores=("A",), scope="global", prefix="q", dry_run=True)
    assert [item.path for item in report.files] == ["datastores/A/global/q_1.yaml"]
    report = _run(api, root, stores=("A", "O"), ordered=False, dry_run=True)
    assert all(item.kind is StoreKind.STANDARD for item in report.files)
    report = _run(api, root, stores=("A", "O"), standard=False)
    assert [(item.path, item.entries) for item in report.files] == [("ordered/O/global.yaml", 2)]
    # once declared, an ordered store is imported again without --store
    report = _run(api, root, standard=False, dry_run=True)
    assert [item.action for item in report.files] == [FileAction.UNCHANGED]


def test_store_scopes_limit_what_is_imported(api: OpenCloudClient, root: Path) -> None:
    (root / "datastores/A").mkdir(parents=True)
    (root / "datastores/A/_store.yaml").write_text("scopes: [global]\n")
    put(api, "A", "k", EntryData(1))
    put(api, "A", "k", EntryData(2), scope="other")
    report = _run(api, root, stores=("A",))
    assert [item.path for item in report.files] == ["datastores/A/global/k.yaml"]


def _encrypted_store(root: Path) -> None:
    (root / "datastores/Config").mkdir(parents=True)
    (root / "datastores/Config/_store.yaml").write_text(
        "encrypted:\n  - /webhook/token\n  - /players/*/email\n"
    )


CANARY = "canary-imp-7c1e"
SECRET_VALUE = {
    "webhook": {"url": "https://example.test", "token": CANARY},
    "players": [{"email": CANARY + "@a"}, {"name": "b"}],
}


def test_encrypted_import(api: OpenCloudClient, root: Path) -> None:
    _encrypted_store(root)
    keyring = load_keyring(root, {ENV_KEY: encode_key(generate_key())})
    assert keyring is not None
    put(api, "Config", "secrets", EntryData(SECRET_VALUE))
    _run(api, root, keyring, stores=("Config",))
    path = root / "datastores/Config/global/secrets.yaml"
    text = path.read_text()
    assert CANARY not in text
    assert text.count("ENC[AES256_GCM,") == 2
    assert "url: https://example.test" in text
    value = load_declaration(root).data(Address.standard("Config", "secrets"))
    assert value is not None
    assert decrypt_all(value.value, keyring, Address.standard("Config", "secrets")) == SECRET_VALUE
    # unchanged secrets keep their ciphertext: the file is byte-identical
    assert _run(api, root, keyring, stores=("Config",)).files[0].action is FileAction.UNCHANGED
    assert path.read_text() == text
    # one secret changes: only its line changes
    changed = {**SECRET_VALUE, "webhook": {"url": "https://example.test", "token": CANARY + "2"}}
    put(api, "Config", "secrets", EntryData(changed))
    _run(api, root, keyring, stores=("Config",))
    new_text = path.read_text()
    old_lines, new_lines = text.splitlines(), new_text.splitlines()
    assert [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b] == [
        next(i for i, line in enumerate(old_lines) if "token:" in line)
    ]
    assert CANARY not in new_text


def test_encrypted_import_without_key_fails_and_writes_nothing(
    api: OpenCloudClient, root: Path
) -> None:
    _encrypted_store(root)
    put(api, "Config", "a_plain", EntryData({"other": 1}))
    put(api, "Config", "secrets", EntryData(SECRET_VALUE))
    with pytest.raises(KeyNotAvailable) as info:
        _run(api, root, None, stores=("Config",))
    assert "Config/global/secrets#/webhook/token" in str(info.value)
    assert CANARY not in str(info.value)
    assert not (root / "datastores/Config/global").exists()


def test_bad_existing_file_stops_everything(api: OpenCloudClient, root: Path) -> None:
    put(api, "A", "a", EntryData(1))
    put(api, "A", "b", EntryData(2))
    (root / "datastores/A/global").mkdir(parents=True)
    (root / "datastores/A/global/b.yaml").write_text("value: [unclosed\n")
    with pytest.raises(ConfigError, match=r"datastores/A/global/b.yaml:\d+"):
        _run(api, root, stores=("A",))
    assert not (root / "datastores/A/global/a.yaml").exists()


def test_broken_store_settings_refuse_import(api: OpenCloudClient, root: Path) -> None:
    (root / "datastores/Config").mkdir(parents=True)
    (root / "datastores/Config/_store.yaml").write_text("encrypted: [/token\n")
    put(api, "Config", "k", EntryData({"token": CANARY}))
    with pytest.raises(ConfigError, match=r"_store\.yaml"):
        _run(api, root, stores=("Config",))
    assert not (root / "datastores/Config/global").exists()


def test_link_leaving_repository_is_refused(
    api: OpenCloudClient, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "datastores").mkdir()
    (root / "datastores/A").symlink_to(outside, target_is_directory=True)
    put(api, "A", "k", EntryData(1))
    with pytest.raises(ConfigError, match="link"):
        _run(api, root, stores=("A",))
    assert list(outside.iterdir()) == []


def test_keys_differing_by_case_are_skipped_with_a_note(api: OpenCloudClient, root: Path) -> None:
    put(api, "S", "Player", EntryData(1))
    put(api, "S", "player", EntryData(2))
    put(api, "S", "other", EntryData(3))
    report = _run(api, root, stores=("S",))
    assert [item.path for item in report.files] == ["datastores/S/global/other.yaml"]
    assert any("letter case" in note and "Player.yaml" in note for note in report.notes)
    assert not (root / "datastores/S/global/player.yaml").exists()


def test_key_too_long_for_a_file_name_is_skipped(api: OpenCloudClient, root: Path) -> None:
    put(api, "S", "é" * 50, EntryData(1))
    put(api, "S", "ok", EntryData(2))
    report = _run(api, root, stores=("S",))
    assert [item.path for item in report.files] == ["datastores/S/global/ok.yaml"]
    assert any("longer than 255 bytes" in note for note in report.notes)


def test_observed_and_seed_stores_are_imported_too(api: OpenCloudClient, root: Path) -> None:
    for store, ownership in (("Players", "observed"), ("Defaults", "seed")):
        (root / "datastores" / store).mkdir(parents=True)
        (root / "datastores" / store / "_store.yaml").write_text(f"ownership: {ownership}\n")
        put(api, store, "k", EntryData({"owner": ownership}))
    report = _run(api, root)
    assert sorted(item.path for item in report.files) == [
        "datastores/Defaults/global/k.yaml",
        "datastores/Players/global/k.yaml",
    ]
    declaration = load_declaration(root)
    observed = declaration.data(Address.standard("Players", "k"))
    assert observed is not None and observed.value == {"owner": "observed"}


def test_header_points_at_the_editor_schemas_when_the_repository_has_them(
    api: OpenCloudClient, root: Path
) -> None:
    (root / "schemas/dsgit").mkdir(parents=True)
    for name in ("entry", "ordered-scope"):
        (root / f"schemas/dsgit/{name}.schema.json").write_text("{}")
    put(api, "S", "k", EntryData(1))
    put_ordered(api, "O", "k", 1)
    _run(api, root, stores=("S", "O"))
    assert (
        (root / "datastores/S/global/k.yaml")
        .read_text()
        .startswith("# yaml-language-server: $schema=../../../schemas/dsgit/entry.schema.json\n")
    )
    assert (
        (root / "ordered/O/global.yaml")
        .read_text()
        .startswith(
            "# yaml-language-server: $schema=../../schemas/dsgit/ordered-scope.schema.json\n"
        )
    )


def test_existing_token_under_an_unknown_key_stops_the_import(
    api: OpenCloudClient, root: Path
) -> None:
    _encrypted_store(root)
    put(api, "Config", "secrets", EntryData(SECRET_VALUE))
    old = load_keyring(root, {ENV_KEY: encode_key(generate_key())})
    new = load_keyring(root, {ENV_KEY: encode_key(generate_key())})
    _run(api, root, old, stores=("Config",))
    path = root / "datastores/Config/global/secrets.yaml"
    before = path.read_text()
    with pytest.raises(KeyNotAvailable) as info:
        _run(api, root, new, stores=("Config",))
    assert str(info.value).startswith("datastores/Config/global/secrets.yaml: ")
    assert CANARY not in str(info.value)
    assert path.read_text() == before


def test_dsgits_own_lock_store_is_never_imported(api: OpenCloudClient, root: Path) -> None:
    put(api, "_dsgit", "lock", EntryData({"holder": "ci", "released": True}))
    put(api, "Shop", "sword", EntryData({"price": 10}))
    report = _run(api, root)
    assert set(_files(root)) == {
        "datastores/Shop/_store.yaml",
        "datastores/Shop/global/sword.yaml",
    }
    assert any("_dsgit" in note for note in report.notes)


def test_live_strings_that_read_as_tokens_are_skipped_not_misread(
    api: OpenCloudClient, root: Path
) -> None:
    # once written verbatim: plan then decrypted the "token" (a change from live) or, for a
    # malformed one, validation failed with DS601 right after import
    keyring = load_keyring(root, {ENV_KEY: encode_key(generate_key())})
    assert keyring is not None
    _encrypted_store(root)
    real = encrypt_value(CANARY, keyring.primary, Address.standard("Plain", "k"), "/note")
    put(api, "Plain", "k", EntryData({"note": real}))
    put(api, "Plain", "fake", EntryData({"list": ["ENC[not really]"]}))
    put(api, "Plain", "fine", EntryData({"note": "ENC[ unterminated", "x": "a ENC[b]"}))
    stored = encrypt_value("x", keyring.primary, Address.standard("Config", "secrets"), "/webhook")
    put(api, "Config", "secrets", EntryData({"webhook": {"token": "t"}, "old": stored}))
    report = _run(api, root, keyring, stores=("Plain", "Config"))
    assert [item.path for item in report.files] == ["datastores/Plain/global/fine.yaml"]
    assert sorted(note for note in report.notes if "ENC[" in note) == [
        "skipped entry Config/global/secrets: its live value holds text that reads as an "
        "ENC[...] token at '/old', which a file cannot keep as plain text",
        "skipped entry Plain/global/fake: its live value holds text that reads as an "
        "ENC[...] token at '/list/0', which a file cannot keep as plain text",
        "skipped entry Plain/global/k: its live value holds text that reads as an "
        "ENC[...] token at '/note', which a file cannot keep as plain text",
    ]
    assert not any(CANARY in note or real in note for note in report.notes)
    declaration = load_declaration(root)
    fine = declaration.data(Address.standard("Plain", "fine"))
    assert fine is not None and fine.value == {"note": "ENC[ unterminated", "x": "a ENC[b]"}


def test_reimport_keeps_crlf_line_endings(api: OpenCloudClient, root: Path) -> None:
    # a Windows checkout (core.autocrlf) once had every line rewritten to LF by one change
    put(api, "S", "k", EntryData({"a": 1, "b": "x"}))
    put_ordered(api, "O", "p", 1)
    _run(api, root, stores=("S", "O"))
    entry, board = root / "datastores/S/global/k.yaml", root / "ordered/O/global.yaml"
    for path in (entry, board):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    put(api, "S", "k", EntryData({"a": 2, "b": "x"}))
    put_ordered(api, "O", "p", 2)
    _run(api, root, stores=("S", "O"))
    for path in (entry, board):
        data = path.read_bytes()
        assert data.count(b"\n") == data.count(b"\r\n") > 1
    assert b"  a: 2\r\n  b: x\r\n" in entry.read_bytes()
    assert b"p: 2\r\n" in board.read_bytes()
    data = load_declaration(root).data(Address.standard("S", "k"))
    assert data is not None and data.value == {"a": 2, "b": "x"}


def test_reimport_of_a_flow_style_file_keeps_its_values_and_end_comment(
    api: OpenCloudClient, root: Path
) -> None:
    put(api, "S", "k", EntryData({"a": 1, "b": [1, 2]}))
    _run(api, root, stores=("S",))
    path = root / "datastores/S/global/k.yaml"
    path.write_text("value: {a: 1, b: [1, 2]}  # kept\n")
    put(api, "S", "k", EntryData({"a": 2, "b": [1, 2, 3]}))
    _run(api, root, stores=("S",))
    # ruamel re-emits a flow collection whole: its values and the comment after it stay, the
    # spacing before that comment and comments inside it do not (docs/import.md says so)
    assert path.read_text() == "value: {a: 2, b: [1, 2, 3]} # kept\n"
