"""Where keys come from: environment variables and key files, never the repository.

Sources, all combined into one keyring, in this order (the first key found encrypts):

1. ``key_file`` passed by the caller (``--key-file``); it must exist;
2. ``DSGIT_ENCRYPTION_KEY``: one base64 key;
3. ``DSGIT_ENCRYPTION_KEYS``: several base64 keys separated by commas or whitespace;
4. ``DSGIT_ENCRYPTION_KEY_FILE``: path of a key file; it must exist;
5. ``.dsgit/keys/default.key`` under the repository root, when it exists.

A key file holds one base64 key a line (``#`` starts a comment); the first is its primary. A key
file inside the repository that git tracks is refused: the key would be in every clone.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path

from dsgit.crypto.errors import KeyFileError
from dsgit.crypto.keys import Key, Keyring, encode_key, parse_key
from dsgit.yamlio.safe_paths import make_parents

__all__ = [
    "DEFAULT_KEY_FILE",
    "ENV_KEY",
    "ENV_KEYS",
    "ENV_KEY_FILE",
    "default_key_file",
    "load_keyring",
    "read_key_file",
    "write_key_file",
]

ENV_KEY = "DSGIT_ENCRYPTION_KEY"
ENV_KEYS = "DSGIT_ENCRYPTION_KEYS"
ENV_KEY_FILE = "DSGIT_ENCRYPTION_KEY_FILE"
DEFAULT_KEY_FILE = ".dsgit/keys/default.key"


def default_key_file(root: Path) -> Path:
    return root / DEFAULT_KEY_FILE


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _git(root: Path, *args: str) -> int | None:
    """Exit status of a git command in ``root``; None when git is missing or root no repo."""
    git = shutil.which("git")
    if git is None:
        return None
    inside = subprocess.run(
        [git, "-C", str(root), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        check=False,
    )
    if inside.returncode != 0:
        return None
    return subprocess.run(
        [git, "-C", str(root), *args], capture_output=True, check=False
    ).returncode


def _check_not_tracked(path: Path, root: Path | None) -> None:
    if root is None or not _inside(path, root):
        return
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    if _git(root, "ls-files", "--error-unmatch", "--", relative) == 0:
        raise KeyFileError(
            f"key file {relative} is tracked by git: anyone with the repository has the key. "
            f"Remove it from git (git rm --cached {relative}), add it to .gitignore and rotate "
            "every value encrypted with it"
        )


def _check_ignored(path: Path, root: Path | None) -> None:
    if root is None or not _inside(path, root):
        return
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    if _git(root, "check-ignore", "-q", "--", relative) == 1:
        raise KeyFileError(
            f"key file {relative} would not be ignored by git; add it to .gitignore "
            "(or keep keys outside the repository)"
        )


def read_key_file(path: Path, root: Path | None = None) -> list[Key]:
    """The keys in a key file (first is primary); refuses one git tracks inside ``root``."""
    _check_not_tracked(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(
            f"key file {path} not found (create one: dsgit secrets keygen)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read key file {path}: {type(exc).__name__}") from None
    keys: list[Key] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if content:
            keys.append(parse_key(content, f"{path}:{number}"))
    if not keys:
        raise KeyFileError(f"key file {path} holds no key")
    return keys


def write_key_file(path: Path, keys: list[bytes], root: Path | None = None) -> None:
    """Write a new key file readable by its owner only; refuses one git would track."""
    _check_ignored(path, root)
    _check_not_tracked(path, root)
    make_parents(path, root)  # DS106: never into a symlinked .dsgit/ (a key must not leak)
    body = "# dsgit encryption key: keep it secret, never commit it\n"
    body += "".join(encode_key(material) + "\n" for material in keys)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    temp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    descriptor = os.open(temp, flags, stat.S_IRUSR | stat.S_IWUSR)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def load_keyring(
    root: Path | None, env: Mapping[str, str] | None = None, *, key_file: Path | None = None
) -> Keyring | None:
    """Every available key (see the module docstring), or None when there is none."""
    environ: Mapping[str, str] = os.environ if env is None else env
    keys: list[Key] = []
    if key_file is not None:
        keys += read_key_file(key_file, root)
    single = environ.get(ENV_KEY, "").strip()
    if single:
        keys.append(parse_key(single, f"${ENV_KEY}"))
    many = environ.get(ENV_KEYS, "").replace(",", " ").split()
    keys += [parse_key(text, f"${ENV_KEYS} (key {n})") for n, text in enumerate(many, start=1)]
    from_env = environ.get(ENV_KEY_FILE, "").strip()
    if from_env:
        keys += read_key_file(Path(from_env), root)
    if root is not None:
        default = default_key_file(root)
        if default.is_file() and key_file is None:
            keys += read_key_file(default, root)
    return Keyring.of(keys) if keys else None
