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


def test_every_code_is_exercised() -> None:
    in_corpus = {code for case in CASES for code, _, _ in expected(CORPUS / case)}
    built_here = {"DS106", "DS107", "DS502", "DS503", "DS601", "DS604"}
    assert in_corpus | built_here == set(CODES)


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
