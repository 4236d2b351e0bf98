"""Loading declarations from the working tree and from git commits."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dsgit.errors import ConfigError
from dsgit.model.declaration import Ownership
from dsgit.model.encoding import encode_segment
from dsgit.model.entry import Address, StoreKind
from dsgit.repo import load_declaration, load_declaration_at, read_worktree
from dsgit.repo.scaffold import init_repository
from support import write_files

CONFIG = "version: 1\nenvironments:\n  local: {universe_id: 1, emulator: .dsgit/emulator.db}\n"
KEY_ENV = {"DSGIT_ENCRYPTION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "game"
    init_repository(root, "obby-tycoon", env=KEY_ENV)
    return root


def init_repo(path: Path) -> git.Repo:
    """A new git repository at ``path`` with a committer identity of its own."""
    repository = git.Repo.init(path)
    with repository.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.com")
    return repository


def test_example_declaration(example: Path) -> None:
    declaration = load_declaration(example)
    shop = declaration.stores[(StoreKind.STANDARD, "ShopCatalog")]
    assert shop.policy.ownership is Ownership.OWNED and shop.policy.prune
    assert shop.policy.schema == "schemas/shop-item.schema.yaml"
    assert shop.file == "datastores/ShopCatalog/_store.yaml"
    sword = declaration.entry(Address.standard("ShopCatalog", "speed_coil"))
    assert sword is not None
    assert sword.file == "datastores/ShopCatalog/global/speed_coil.yaml"
    assert sword.data.value["price"] == 250  # type: ignore[index,call-overload]
    assert sword.data.attributes == {"tier": "common"}
    # DataStore2: a "/" in the store name, standard and ordered stores of the same name
    blob = declaration.entry(Address.standard("DATA/12345", "2"))
    assert blob is not None and blob.data.users == (12345,)
    assert blob.data.value["inventory"] == {}  # type: ignore[index,call-overload]
    latest = declaration.entry(Address.ordered("DATA/12345", "3"))
    assert latest is not None and latest.data.value == 3 and latest.line == 4
    board = declaration.stores[(StoreKind.ORDERED, "Leaderboard_Wins")]
    assert board.policy.ownership is Ownership.SEED
    assert board.policy.is_counter("12345")
    assert board.managed_scopes() == ("global", "season_3")
    profile = declaration.entry(Address.standard("PlayerStore", "12345"))
    assert profile is not None
    assert "ActiveSession" in profile.data.value["MetaData"]  # type: ignore[index,call-overload]
    flags = declaration.stores[(StoreKind.STANDARD, "FeatureFlags")].policy
    assert flags.for_key("kill_switch_epoch").schema is None
    assert flags.for_key("new_checkpoint_ui").schema == "schemas/feature-flag.schema.yaml"
    vault = declaration.entry(Address.standard("Integrations", "discord"))
    assert vault is not None
    assert str(vault.data.value["webhook_url"]).startswith("ENC[AES256_GCM,")  # type: ignore[index,call-overload]
    assert "schemas/profile.schema.json" in declaration.schemas
    assert declaration.source.digest.startswith("sha256:")


def test_moved_from_and_suppressions(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "dsgit.yaml": CONFIG,
            "datastores/Shop/_store.yaml": (
                "prune: true\nsuppress:\n  - {code: DSP102, reason: cleanup, count: 40}\n"
            ),
            "datastores/Shop/global/new.yaml": (
                "value: 1\nmoved_from: old\nsuppress:\n"
                "  - code: DSP104\n    reason: renamed on purpose\n"
            ),
            "ordered/Wins/global.yaml": "alice: {value: 3, moved_from: alicia}\nbob: 2\n",
        },
    )
    declaration = load_declaration(tmp_path)
    store = declaration.stores[(StoreKind.STANDARD, "Shop")]
    [suppression] = store.policy.suppress
    assert (suppression.code, suppression.count, suppression.line) == ("DSP102", 40, 3)
    entry = declaration.entry(Address.standard("Shop", "new"))
    assert entry is not None
    assert entry.moved_from == Address.standard("Shop", "old")
    assert [s.reason for s in entry.suppress] == ["renamed on purpose"]
    alice = declaration.entry(Address.ordered("Wins", "alice"))
    assert alice is not None and alice.moved_from == Address.ordered("Wins", "alicia")


def test_first_error_is_raised_with_its_place(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "dsgit.yaml": CONFIG,
            "datastores/Shop/global/a.yaml": "value: 1\nvalue: 2\n",
            "datastores/Shop/global/b.yaml": "valu: 1\n",
        },
    )
    with pytest.raises(ConfigError) as error:
        load_declaration(tmp_path)
    assert error.value.location is not None
    assert (error.value.location.file, error.value.location.line) == (
        "datastores/Shop/global/a.yaml",
        2,
    )
    assert "DS102" in str(error.value) and "2 more" in str(error.value)


def test_comments_do_not_change_the_digest(tmp_path: Path) -> None:
    write_files(tmp_path, {"dsgit.yaml": CONFIG, "datastores/S/global/k.yaml": "value: {a: 1}\n"})
    first = load_declaration(tmp_path).source.digest
    write_files(tmp_path, {"datastores/S/global/k.yaml": "# a comment\nvalue:\n  a: 1\n"})
    assert load_declaration(tmp_path).source.digest == first
    write_files(tmp_path, {"datastores/S/global/k.yaml": "value: {a: 2}\n"})
    assert load_declaration(tmp_path).source.digest != first


def test_reading_a_commit_without_checkout(tmp_path: Path) -> None:
    repository = init_repo(tmp_path)
    root = tmp_path / "game"  # the dsgit repository is a folder of the git repository
    write_files(root, {"dsgit.yaml": CONFIG, "datastores/S/global/k.yaml": "value: 1\n"})
    repository.index.add(["game/dsgit.yaml", "game/datastores/S/global/k.yaml"])
    first = repository.index.commit("first").hexsha
    clean = read_worktree(root).declaration
    assert (clean.source.commit, clean.source.dirty) == (first, False)

    write_files(
        root,
        {"datastores/S/global/k.yaml": "value: 2\n", "datastores/S/global/n.yaml": "value: 3\n"},
    )
    repository.index.add(["game/datastores/S/global/k.yaml", "game/datastores/S/global/n.yaml"])
    second = repository.index.commit("second").hexsha
    write_files(root, {"datastores/S/global/k.yaml": "value: 99\n"})  # uncommitted

    old = load_declaration_at(root, first)
    assert old.source == clean.source
    assert old.data(Address.standard("S", "k")).value == 1  # type: ignore[union-attr]
    assert old.entry(Address.standard("S", "n")) is None
    assert load_declaration_at(root, "HEAD").data(Address.standard("S", "k")).value == 2  # type: ignore[union-attr]
    assert load_declaration_at(root, second[:10]).source.commit == second
    now = load_declaration(root)
    assert now.source.dirty and now.source.commit == second
    assert now.data(Address.standard("S", "k")).value == 99  # type: ignore[union-attr]
    assert (root / "datastores/S/global/k.yaml").read_text() == "value: 99\n"  # no checkout


def test_only_declaration_files_make_the_tree_dirty(tmp_path: Path) -> None:
    repository = init_repo(tmp_path)
    write_files(tmp_path, {"dsgit.yaml": CONFIG, "datastores/S/global/k.yaml": "value: 1\n"})
    repository.index.add(["dsgit.yaml", "datastores/S/global/k.yaml"])
    repository.index.commit("first")
    # what apply and plan leave behind is not part of the declaration
    write_files(tmp_path, {"audit/ledger.jsonl": "{}\n", "plan.json": "{}", "README.md": "x"})
    assert not load_declaration(tmp_path).source.dirty
    write_files(tmp_path, {"datastores/S/global/n.yaml": "value: 2\n"})
    assert load_declaration(tmp_path).source.dirty


def test_errors_in_a_commit_name_the_commit(tmp_path: Path) -> None:
    repository = init_repo(tmp_path)
    write_files(tmp_path, {"dsgit.yaml": CONFIG, "datastores/S/global/k.yaml": "value: [\n"})
    (tmp_path / "datastores/S/global/link.yaml").symlink_to("/etc/passwd")
    repository.index.add(
        ["dsgit.yaml", "datastores/S/global/k.yaml", "datastores/S/global/link.yaml"]
    )
    commit = repository.index.commit("broken").hexsha
    with pytest.raises(ConfigError) as error:
        load_declaration_at(tmp_path, commit)
    assert str(error.value).startswith(f"{commit[:12]}:datastores/S/global/k.yaml:2")
    from dsgit.repo.git_state import commit_source
    from dsgit.repo.loader import read_repository

    source, _ = commit_source(tmp_path, commit)
    codes = [(p.code, p.file) for p in read_repository(source).problems]
    assert ("DS106", "datastores/S/global/link.yaml") in codes
    with pytest.raises(ConfigError, match="unknown commit"):
        load_declaration_at(tmp_path, "no-such-ref")


def test_a_submodule_is_refused_alike_in_the_working_tree_and_in_a_commit(
    tmp_path: Path,
) -> None:
    # the working tree once read a checked-out submodule's files as this repository's entries
    # (validate passed) while the same commit failed with DS108: plan and apply disagreed
    repository = init_repo(tmp_path)
    write_files(tmp_path, {"dsgit.yaml": CONFIG, "datastores/S/global/k.yaml": "value: 1\n"})
    nested = tmp_path / "datastores/Other"
    inner = init_repo(nested)
    write_files(nested, {"global/k.yaml": "value: 5\n"})
    inner.index.add(["global/k.yaml"])
    linked = inner.index.commit("other repository").hexsha
    repository.index.add(["dsgit.yaml", "datastores/S/global/k.yaml"])
    repository.git.update_index("--add", "--cacheinfo", f"160000,{linked},datastores/Other")
    commit = repository.index.commit("with a submodule").hexsha
    from dsgit.repo import validate_repository
    from dsgit.repo.git_state import commit_source
    from dsgit.repo.loader import read_repository

    source, _ = commit_source(tmp_path, commit)
    in_commit = [(p.code, p.file) for p in read_repository(source).problems]
    in_worktree = [(p.code, p.file) for p in validate_repository(tmp_path).problems]
    assert in_commit == in_worktree == [("DS108", "datastores/Other")]
    with pytest.raises(ConfigError, match="DS108"):
        load_declaration(tmp_path)
    with pytest.raises(ConfigError, match="DS108"):
        load_declaration_at(tmp_path, commit)


def test_a_non_utf8_file_name_reads_alike_in_the_working_tree_and_in_a_commit(
    tmp_path: Path,
) -> None:
    import os

    repository = init_repo(tmp_path)
    write_files(tmp_path, {"dsgit.yaml": CONFIG, "datastores/S/global/k.yaml": "value: 1\n"})
    bad = os.path.join(os.fsencode(tmp_path / "datastores/S/global"), b"\xff.yaml")
    with open(bad, "w") as handle:
        handle.write("value: 2\n")
    repository.git.add("-A")
    repository.git.commit("-q", "-m", "a bad name")  # GitPython's index cannot hold the name
    commit = repository.git.rev_parse("HEAD")
    from dsgit.repo import validate_repository
    from dsgit.repo.git_state import commit_source
    from dsgit.repo.loader import read_repository

    source, _ = commit_source(tmp_path, commit)
    in_commit = [(p.code, p.file) for p in read_repository(source).problems]
    in_worktree = [(p.code, p.file) for p in validate_repository(tmp_path).problems]
    assert in_commit == in_worktree == [("DS105", "datastores/S/global/\ufffd.yaml")]


def test_outside_git(tmp_path: Path) -> None:
    write_files(tmp_path, {"dsgit.yaml": CONFIG})
    declaration = load_declaration(tmp_path)
    assert declaration.stores == {}
    assert (declaration.source.commit, declaration.source.dirty) == (None, True)
    with pytest.raises(ConfigError, match="not inside a git repository"):
        load_declaration_at(tmp_path, "HEAD")


NAMES = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(
        st.tuples(NAMES, NAMES, NAMES),
        st.integers(-(2**40), 2**40)
        | st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=20),
        min_size=1,
        max_size=6,
    )
)
def test_any_names_round_trip_through_the_layout(
    tmp_path_factory: pytest.TempPathFactory, entries: dict[tuple[str, str, str], object]
) -> None:
    folded = {tuple(part.lower() for part in address) for address in entries}
    assume(len(folded) == len(entries))  # case collisions are errors (DS502), tested elsewhere
    assume(all(len(part) <= 50 for address in entries for part in address))
    root = tmp_path_factory.mktemp("layout")
    write_files(root, {"dsgit.yaml": CONFIG})
    for (store, scope, key), value in entries.items():
        path = root / "datastores" / encode_segment(store) / encode_segment(scope)
        path.mkdir(parents=True, exist_ok=True)
        (path / f"{encode_segment(key)}.yaml").write_text(
            "value: " + json.dumps(value, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    reading = read_worktree(root)
    assert [p for p in reading.errors if p.code != "DS502"] == []  # DS503 may warn
    declared = {
        (entry.address.store, entry.address.scope, entry.address.key): entry.data.value
        for store in reading.declaration.stores.values()
        for entry in store.entries.values()
    }
    if not reading.errors:  # folders may still collide by case across stores or scopes
        assert declared == entries


def test_commit_reads_the_same_with_or_without_batch_prefetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = init_repo(tmp_path)
    files = {"dsgit.yaml": CONFIG}
    files.update({f"datastores/S/global/k{n}.yaml": f"value: {{n: {n}}}\n" for n in range(30)})
    files["ordered/O/global.yaml"] = "a: 1\nb: 2\n"
    write_files(tmp_path, files)
    repository.index.add(list(files))
    commit = repository.index.commit("many").hexsha
    batched = load_declaration_at(tmp_path, commit)
    import dsgit.repo.source

    monkeypatch.setattr(dsgit.repo.source, "PREFETCH_BYTES", 0)
    one_by_one = load_declaration_at(tmp_path, commit)
    assert batched == one_by_one
    assert batched.source.digest == load_declaration(tmp_path).source.digest
    assert batched.data(Address.standard("S", "k29")).value == {"n": 29}  # type: ignore[union-attr]
