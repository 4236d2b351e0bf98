"""``dsgit init``: a new repository, minimal or from a shipped example (DESIGN.md §1-§2).

Nothing existing is ever overwritten: every target path is checked before the first write, and
files written before a failure are removed again. The file-kind schemas are copied to
``schemas/dsgit/`` so editors validate every file through the ``yaml-language-server`` line,
and each store with a value schema gets its entry schema (``schemas/dsgit/entries/``).
Example values under ``encrypted`` pointers ship as plaintext and are encrypted here, with the
key from the environment or a new one in ``.dsgit/keys/default.key`` (gitignored).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from dsgit.crypto import Keyring, encrypt_paths, generate_key, load_keyring, write_key_file
from dsgit.crypto.keysource import DEFAULT_KEY_FILE, default_key_file
from dsgit.errors import ConfigError, Location
from dsgit.model.encoding import decode_segment
from dsgit.model.entry import Address
from dsgit.model.layout import DATASTORES_DIR, EDITOR_SCHEMA_DIR, STORE_FILE
from dsgit.repo.entry_schemas import write_entry_schemas
from dsgit.repo.file_schemas import schema_file_names
from dsgit.repo.yamlload import parse_yaml
from dsgit.yamlio.safe_paths import safe_path

__all__ = ["InitResult", "available_examples", "init_repository"]


# `.dsgit`, not `.dsgit/`: a pattern ending in `/` matches only a folder, so a `.dsgit` symlink
# (which dsgit refuses to write through, DS106) could be committed by `git add -A`.
GITIGNORE = (
    "# local only: embedded emulator database, journals, caches and encryption keys\n.dsgit\n"
)

_MINIMAL: dict[str, str] = {
    "dsgit.yaml": """\
# yaml-language-server: $schema=schemas/dsgit/dsgit.schema.json
version: 1
default_environment: local
environments:
  local:
    description: Embedded emulator, in process (no network, no API key)
    universe_id: 1
    emulator: .dsgit/emulator.db
  # A real experience through Open Cloud; the API key comes from the variable named here.
  # staging:
  #   universe_id: 1234567890
  #   url: https://apis.roblox.com
  #   api_key_env: DSGIT_STAGING_API_KEY
  #   budget:
  #     ccu: 0
  #     share: 0.5
""",
    ".gitignore": GITIGNORE,
    "datastores/GameConfig/_store.yaml": """\
# yaml-language-server: $schema=../../schemas/dsgit/store.schema.json
description: Settings game servers read at startup. Git wins; removed keys are deleted.
ownership: owned
prune: true
""",
    "datastores/GameConfig/global/welcome.yaml": """\
# yaml-language-server: $schema=../../../schemas/dsgit/entry.schema.json
value:
  message: Welcome to the game!
  enabled: true
""",
    "ordered/.gitkeep": "",
    "schemas/.gitkeep": "",
}


@dataclass(frozen=True)
class InitResult:
    """What ``init`` wrote: repository-relative paths, and the key it created (if any)."""

    root: Path
    written: tuple[str, ...]
    example: str | None
    encrypted_values: int
    key_file: str | None


def _examples() -> Traversable:
    return resources.files("dsgit.examples")


def available_examples() -> tuple[str, ...]:
    return tuple(
        sorted(
            item.name
            for item in _examples().iterdir()
            # an example is a project (examples/workflows holds the Action's workflows)
            if item.is_dir()
            and not item.name.startswith(("_", "."))
            and item.joinpath("dsgit.yaml").is_file()
        )
    )


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.name == "__pycache__":
            continue
        path = f"{prefix}{item.name}"
        if item.is_dir():
            yield from _walk(item, f"{path}/")
        else:
            yield path, item


def _files(example: str | None) -> dict[str, str]:
    files: dict[str, str]
    if example is None:
        files = dict(_MINIMAL)
    else:
        if example not in available_examples():
            known = ", ".join(available_examples())
            raise ConfigError(f"unknown example {example!r} (available: {known})")
        files = {
            path: item.read_text(encoding="utf-8")
            for path, item in _walk(_examples().joinpath(example))
        }
        files.setdefault(".gitignore", GITIGNORE)
    schemas = resources.files("dsgit.schemas")
    for name in schema_file_names():
        files[f"{EDITOR_SCHEMA_DIR}/{name}"] = schemas.joinpath(name).read_text(encoding="utf-8")
    return files


def _encrypted_pointers(files: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Store folder -> the ``encrypted`` pointers its ``_store.yaml`` lists."""
    found: dict[str, tuple[str, ...]] = {}
    for path, text in files.items():
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == DATASTORES_DIR and parts[2] == STORE_FILE:
            document, _ = parse_yaml(text, path)
            value = document.value if document is not None else None
            pointers = value.get("encrypted") if isinstance(value, dict) else None
            if isinstance(pointers, list) and pointers:
                found[parts[1]] = tuple(str(pointer) for pointer in pointers)
    return found


def _encrypt(files: dict[str, str], keyring: Keyring) -> int:
    """Encrypt, in place in ``files``, every plaintext value under an ``encrypted`` pointer."""
    from dsgit.yamlio.document import dump_document, load_document, to_plain
    from dsgit.yamlio.merge import set_member

    count = 0
    pointers = _encrypted_pointers(files)
    for path in sorted(files):
        parts = path.split("/")
        if len(parts) != 4 or parts[0] != DATASTORES_DIR or parts[1] not in pointers:
            continue
        store, scope, key = (decode_segment(part) for part in (parts[1], parts[2], parts[3][:-5]))
        document = load_document(files[path], path)
        value = to_plain(document["value"])
        sealed = encrypt_paths(
            value, pointers[parts[1]], keyring.primary, Address.standard(store, key, scope)
        )
        if sealed != value:
            set_member(document, "value", sealed)
            files[path] = dump_document(document)
            count += 1
    return count


def init_repository(
    target: Path, example: str | None = None, env: Mapping[str, str] | None = None
) -> InitResult:
    """Create a repository in ``target`` (created if missing); refuses to overwrite anything."""
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} exists and is not a folder")
    files = _files(example)
    if _already_ignores_dsgit(target / ".gitignore"):
        del files[".gitignore"]  # an existing .gitignore that keeps .dsgit/ out is enough
    existing = sorted(
        path for path in files if (target / path).exists() or (target / path).is_symlink()
    )
    if existing:
        shown = ", ".join(existing[:5]) + (" …" if len(existing) > 5 else "")
        raise ConfigError(f"refusing to overwrite existing files: {shown}", Location(str(target)))
    needs_key = bool(_encrypted_pointers(files))
    keyring = load_keyring(target if target.is_dir() else None, env) if needs_key else None
    key_file: str | None = None
    written: list[Path] = []
    new_folders = sorted(
        {
            folder
            for name in [*files, DEFAULT_KEY_FILE]
            for folder in (target / name).parents
            if not folder.exists()
        },
        key=lambda folder: len(folder.parts),
        reverse=True,
    )
    try:
        if needs_key and keyring is None:
            if default_key_file(target).exists():
                raise ConfigError(f"{DEFAULT_KEY_FILE} exists but holds no usable key")
            if ".gitignore" in files:  # before the key file, which must be ignored by git
                _write(target, ".gitignore", files.pop(".gitignore"), written)
            write_key_file(default_key_file(target), [generate_key()], target)
            written.append(default_key_file(target))
            key_file = DEFAULT_KEY_FILE
            keyring = load_keyring(target, env)
        encrypted = _encrypt(files, keyring) if keyring is not None and needs_key else 0
        for name, text in sorted(files.items()):
            _write(target, name, text, written)
        # per-store entry schemas, and the entry files' headers pointing at them
        schemas = write_entry_schemas(target)
        written.extend(target / path for path in schemas.written)
    except BaseException as exc:
        for done in reversed(written):
            done.unlink(missing_ok=True)
        for folder in new_folders:  # deepest first; only the ones init created
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        if isinstance(exc, OSError):
            where = exc.filename or target
            raise ConfigError(f"cannot write {where}: {exc.strerror or exc}") from None
        raise
    paths = sorted(
        path.relative_to(target).as_posix() for path in written if path.name != "default.key"
    )
    return InitResult(target, tuple(paths), example, encrypted, key_file)


def _already_ignores_dsgit(path: Path) -> bool:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.strip() in (".dsgit", ".dsgit/", "/.dsgit", "/.dsgit/") for line in lines)


def _write(target: Path, name: str, text: str, written: list[Path]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    path = safe_path(target, name, parents=True)  # DS106: never through a symlinked folder
    with path.open("x", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    written.append(path)
