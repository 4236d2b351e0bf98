"""Every validation code on the corpus of broken repositories (``tests/corpus/<case>/``).

Each case holds a tiny repository and ``expected.txt`` (code, file, line). ``dsgit validate``
must report exactly those problems, exit 1 without a traceback, and change nothing on disk.
Codes that need a symlink, a key, a huge file or case-colliding names (which some checkouts of
this repository could not hold) are built in ``tmp_path`` below.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsgit.cli.main import main
from dsgit.crypto import encrypt_value, load_keyring
from dsgit.model.entry import Address
from dsgit.repo import CODES, validate_repository

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CASES = sorted(path.name for path in CORPUS.iterdir() if (path / "expected.txt").is_file())
CONFIG = "version: 1\nenvironments:\n  local: {universe_id: 1, emulator: .dsgit/emulator.db}\n"


def expected(case: Path) -> list[tuple[str, str, int | None]]:
    rows = []
    for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, file, number = line.split("\t")
        rows.append((code, file, None if number == "-" else int(number)))
    return rows


def snapshot(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(
            os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
        ).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() or path.is_symlink()
    }


def run_validate(
    root: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["-C", str(root), "validate", *args])
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / case
    shutil.copytree(CORPUS / case, root, symlinks=True)
    (root / "expected.txt").unlink()
    before = snapshot(root)
    code, out, err = run_validate(root, capsys)
    assert code == 1
    assert "Traceback" not in out + err
    found = [(p.code, p.file, p.line) for p in validate_repository(root).problems]
    assert sorted(found, key=str) == sorted(expected(CORPUS / case), key=str)
    for problem_code, file, line in expected(CORPUS / case):
        where = f"{file}:{line}:" if line is not None else f"{file}:"
        assert any(row.startswith(where) and f" {problem_code} " in row for row in out.splitlines())
    assert snapshot(root) == before


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    for path, text in {"dsgit.yaml": CONFIG, **files}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


def codes_of(root: Path, **kwargs: object) -> list[tuple[str, str, int | None]]:
    return [(p.code, p.file, p.line) for p in validate_repository(root, **kwargs).problems]  # type: ignore[arg-type]


def test_symlinks_are_refused(tmp_path: Path) -> None:
    root = repo(tmp_path, {"datastores/Shop/global/a.yaml": "value: 1\n"})
    outside = tmp_path / "secret.yaml"
    outside.write_text("value: stolen\n")
    (root / "datastores/Shop/global/b.yaml").symlink_to(outside)
    (root / "schemas").symlink_to(tmp_path)
    assert sorted(codes_of(root)) == [
        ("DS106", "datastores/Shop/global/b.yaml", None),
        ("DS106", "schemas", None),
    ]


def test_file_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dsgit.repo.file_reader

    monkeypatch.setattr(dsgit.repo.file_reader, "MAX_FILE_BYTES", 100)
    root = repo(tmp_path, {"datastores/Shop/global/a.yaml": "value: " + "x" * 200 + "\n"})
    assert codes_of(root) == [("DS107", "datastores/Shop/global/a.yaml", None)]


def test_case_collisions(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "datastores/Shop/global/Sword.yaml": "value: 1\n",
            "datastores/Shop/global/sword.yaml": "value: 2\n",
            "datastores/shop/global/x.yaml": "value: 3\n",
            "ordered/Wins/Global.yaml": "a: 1\n",
            "ordered/Wins/global.yaml": "a: 1\n",
        },
    )
    assert sorted(codes_of(root)) == [
        ("DS502", "datastores/Shop/global/sword.yaml", None),
        ("DS502", "datastores/shop", None),
        ("DS502", "ordered/Wins/global.yaml", None),
    ]


KEY = base64.b64encode(bytes(range(32))).decode()


def test_encrypted_values_are_verified_with_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = encrypt_value(
        "s3cret-canary", bytes(range(32)), Address.standard("Vault", "a"), "/token"
    )
    moved = encrypt_value(
        "other-canary", bytes(range(32)), Address.standard("Vault", "zz"), "/token"
    )
    root = repo(
        tmp_path,
        {
            "datastores/Vault/_store.yaml": "encrypted: [/token]\n",
            "datastores/Vault/global/a.yaml": f"value:\n  token: {good}\n",
            "datastores/Vault/global/b.yaml": f"value:\n  token: {moved}\n",
        },
    )
    # without a key: one warning, exit 0
    code, out, err = run_validate(root, capsys)
    assert code == 0 and "DS604" in out
    monkeypatch.setenv("DSGIT_ENCRYPTION_KEY", KEY)
    code, out, err = run_validate(root, capsys)
    assert code == 1
    assert codes_of(root, keyring=load_keyring(root)) == [
        ("DS601", "datastores/Vault/global/b.yaml", 2)
    ]
    for canary in ("s3cret-canary", "other-canary", KEY):
        assert canary not in out + err


def test_a_token_outside_the_encrypted_pointers_is_still_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # plan decrypts a token wherever it sits; without a key, validate once said nothing at all
    token = encrypt_value("canary-plain-path", bytes(range(32)), Address.standard("P", "a"), "/x")
    escaped = token.replace("E", "\\x45", 1)  # "\x45NC[": no literal ENC[ in the file
    root = repo(
        tmp_path,
        {
            "datastores/P/global/a.yaml": f"value:\n  x: {token}\n",
            "datastores/P/global/b.yaml": f'value:\n  x: "{escaped}"\n',
        },
    )
    reading = validate_repository(root)
    assert [(p.code, p.severity) for p in reading.problems] == [("DS604", "warning")]
    assert "2 encrypted value(s) not verified" in reading.problems[0].message
    monkeypatch.setenv("DSGIT_ENCRYPTION_KEY", KEY)
    assert codes_of(root, keyring=load_keyring(root)) == [
        ("DS601", "datastores/P/global/b.yaml", 2)
    ]


def test_every_code_is_exercised() -> None:
    in_corpus = {code for case in CASES for code, _, _ in expected(CORPUS / case)}
    built_here = {"DS106", "DS107", "DS502", "DS503", "DS601", "DS604"}
    built_here.add("DS110")  # a warning (corpus cases must fail): tests/repo/test_entry_schemas.py
    built_here.add("DS878")  # a warning too: tests/erasure/test_policy_file.py
    assert in_corpus | built_here == set(CODES)


def test_a_fifo_named_like_an_entry_is_not_read(tmp_path: Path) -> None:
    # opening a FIFO would block validate forever
    root = repo(tmp_path, {"datastores/Shop/global/a.yaml": "value: 1\n"})
    os.mkfifo(root / "datastores/Shop/global/pipe.yaml")
    assert codes_of(root) == [("DS108", "datastores/Shop/global/pipe.yaml", None)]


def test_a_symlinked_datastores_folder_is_not_followed(tmp_path: Path) -> None:
    root = repo(tmp_path, {})
    (tmp_path / "elsewhere/Shop/global").mkdir(parents=True)
    (tmp_path / "elsewhere/Shop/global/a.yaml").write_text("value: 1\n")
    (root / "datastores").symlink_to(tmp_path / "elsewhere")
    reading = validate_repository(root)
    assert [(p.code, p.file) for p in reading.problems] == [("DS106", "datastores")]
    assert reading.entries == 0


@pytest.mark.parametrize("char", ["a", "\u00e9", "\U0001f600"])
def test_name_limits_count_code_points_like_the_emulator(char: str) -> None:
    # 50 emoji are 100 UTF-16 units and 200 UTF-8 bytes: validate and the emulator both count
    # 50 characters (on disk such a key's %XX file name is too long anyway: import skips it)
    from dsgit.emulator.api_error import ApiError
    from dsgit.emulator.limits import check_key, check_scope, check_store_name
    from dsgit.repo.limits import name_problem

    fits, over = char * 50, char * 51
    assert name_problem("key", fits) is None
    assert check_key(fits) == fits and check_store_name(fits) == fits == check_scope(fits)
    assert name_problem("key", over) is not None
    for check in (check_key, check_store_name, check_scope):
        with pytest.raises(ApiError):
            check(over)


SCHEMA_STORE = {"datastores/Shop/_store.yaml": "schema: schemas/a.schema.yaml\n"}


@pytest.mark.parametrize(
    ("schemas", "expected"),
    [
        # a URL is never fetched, a path outside schemas/ never read: both are unresolvable
        ({"a": "properties:\n  x: {$ref: 'http://127.0.0.1:9/x.json'}\n"}, [("a", 2)]),
        ({"a": "properties:\n  x: {$ref: '../../../etc/passwd'}\n"}, [("a", 2)]),
        ({"a": "$ref: b.schema.yaml\n", "b": "$ref: a.schema.yaml\n"}, [("a", 1), ("b", 1)]),
        (
            {"a": "$defs: {n: {$ref: '#/$defs/n'}}\nproperties:\n  x: {$ref: '#/$defs/n'}\n"},
            [("a", 1)],
        ),
        ({"a": "properties:\n  x: {allOf: [{$ref: '#/properties/x'}]}\n"}, [("a", 1)]),
        ({"a": "type: 12\n"}, [("a", 1)]),
        ({"a": "type: string\npattern: '(?<!x)['\n"}, [("a", 2)]),
        ({"a": "patternProperties:\n  '[': {type: integer}\n"}, [("a", 2)]),
        # a schema whose $ref leads to a broken one is not applied either (no second error)
        ({"a": "$ref: b.schema.yaml\n", "b": "minimum: abc\n"}, [("b", 1)]),
    ],
)
def test_broken_value_schemas_are_reported_once_and_never_crash(
    schemas: dict[str, str], expected: list[tuple[str, int]], tmp_path: Path
) -> None:
    # each of these once crashed validate (RecursionError, Unresolvable, TypeError, re.error)
    files = {f"schemas/{name}.schema.yaml": text for name, text in schemas.items()}
    entry = {"datastores/Shop/global/k.yaml": "value: {x: 1}\n"}
    root = repo(tmp_path, {**SCHEMA_STORE, **files, **entry})
    assert codes_of(root) == [
        ("DS207", f"schemas/{name}.schema.yaml", line) for name, line in expected
    ]


def test_a_ref_cycle_only_some_values_reach_is_an_error_on_those_entries(
    tmp_path: Path,
) -> None:
    # only the value 5 enters the loop: no sample finds it, validating that entry must not crash
    schema = "if: {const: 5}\nthen: {$ref: '#'}\n"
    root = repo(
        tmp_path,
        {
            **SCHEMA_STORE,
            "schemas/a.schema.yaml": schema,
            "datastores/Shop/global/five.yaml": "value: 5\n",
            "datastores/Shop/global/one.yaml": "value: 1\n",
        },
    )
    assert codes_of(root) == [("DS207", "datastores/Shop/global/five.yaml", 1)]


def test_recursive_schemas_that_read_the_value_still_work(tmp_path: Path) -> None:
    schema = "type: object\nproperties:\n  child: {$ref: '#'}\n  n: {type: integer}\n"
    entry = "value: {child: {child: {n: x}}}\n"
    root = repo(
        tmp_path,
        {
            **SCHEMA_STORE,
            "schemas/a.schema.yaml": schema,
            "datastores/Shop/global/k.yaml": entry,
        },
    )
    assert codes_of(root) == [("DS301", "datastores/Shop/global/k.yaml", 1)]


def test_a_file_name_that_is_not_utf8_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # once: a DS501 quoting a UnicodeEncodeError, and raw 0xff bytes written to stdout
    root = repo(tmp_path, {"datastores/Shop/global/a.yaml": "value: 1\n"})
    folder = os.fsencode(root / "datastores/Shop/global")
    with open(os.path.join(folder, b"\xff\xfe.yaml"), "w") as handle:
        handle.write("value: 1\n")
    assert codes_of(root) == [("DS105", "datastores/Shop/global/\ufffd\ufffd.yaml", None)]
    code, out, err = run_validate(root, capsys)
    assert code == 1 and "file name is not UTF-8" in out
    assert "\udcff" not in out and "codec" not in out + err
    out.encode("utf-8")  # printable: no lone surrogates


def test_broken_symlinks(tmp_path: Path) -> None:
    root = repo(tmp_path, {"datastores/Shop/global/a.yaml": "value: 1\n"})
    (root / "datastores/Shop/global/gone.yaml").symlink_to(tmp_path / "missing.yaml")
    (root / "dsgit.yaml").unlink()
    (root / "dsgit.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    assert sorted(codes_of(root)) == [
        ("DS106", "datastores/Shop/global/gone.yaml", None),
        ("DS106", "dsgit.yaml", None),
    ]


def test_windows_unfriendly_names_warn(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "datastores/Shop/global/CON.yaml": "value: 1\n",
            "datastores/Shop/global/nul.backup.yaml": "value: 1\n",
            "datastores/Shop/v2./a.yaml": "value: 1\n",
            "datastores/Shop/global/.DS_Store": "junk",
            "datastores/Shop/global/.sword.yaml.swp": "junk",
        },
    )
    reading = validate_repository(root)
    assert [(p.code, p.file, p.severity) for p in reading.problems] == [
        ("DS503", "datastores/Shop/global/CON.yaml", "warning"),
        ("DS503", "datastores/Shop/global/nul.backup.yaml", "warning"),
        ("DS503", "datastores/Shop/v2.", "warning"),
    ]
    assert not reading.errors and reading.entries == 3


def test_policy_and_migration_files_get_yaml_checks(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "policies/approvals.yaml": "approvers: []\napprovers: [x]\n",
            "migrations/001.yaml": "steps: [\n",
            "migrations/notes.txt": "not yaml: [\n",
        },
    )
    assert codes_of(root) == [
        ("DS101", "migrations/001.yaml", 2),
        ("DS102", "policies/approvals.yaml", 2),
    ]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=300)
    | st.text(st.sampled_from(list("value:[]{}&*!|>-?#'\"\n\t ,.0123abc~<%@`\\")), max_size=120)
)
def test_any_file_content_gives_problems_never_an_exception(
    tmp_path_factory: pytest.TempPathFactory, content: bytes | str
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "dsgit.yaml").write_text(CONFIG)
    folder = root / "datastores/S/global"
    folder.mkdir(parents=True)
    data = content.encode() if isinstance(content, str) else content
    (folder / "k.yaml").write_bytes(data)
    (root / "ordered/O").mkdir(parents=True)
    (root / "ordered/O/global.yaml").write_bytes(data)
    reading = validate_repository(root)
    assert all(
        p.file in {"datastores/S/global/k.yaml", "ordered/O/global.yaml"} for p in reading.problems
    )
