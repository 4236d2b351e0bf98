"""Reading files of a repository state into text and YAML, recording problems as it goes.

Shared by the loader (``loader.py``) and the layout walk (``layout.py``): a symlink, a file that
is not regular, too large or not UTF-8 becomes a :class:`Problem`, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from yaml.nodes import Node

from dsgit.model.encoding import decode_segment, encode_segment
from dsgit.repo.limits import name_problem
from dsgit.repo.problems import Problem, Severity
from dsgit.repo.source import MAX_FILE_BYTES, FileType, RepoSource, SourceFile
from dsgit.repo.yamlload import YamlDocument, locate, parse_yaml

__all__ = ["FileReader", "position"]

# Windows refuses these as file or folder names, with any extension
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{n}" for n in range(1, 10)}
    | {f"LPT{n}" for n in range(1, 10)}
)


def position(node: Node | None, path: Iterable[str | int]) -> tuple[int | None, int | None]:
    """Line and column of ``path`` in a node tree, or ``(None, None)``."""
    found = locate(node, [str(part) for part in path])
    return found if found is not None else (None, None)


class FileReader:
    """Reads files of ``source``; ``problems`` collects what it finds, ``files`` counts reads."""

    def __init__(self, source: RepoSource) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.files = 0

    def add(
        self,
        file: str,
        code: str,
        message: str,
        line: int | None = None,
        col: int | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.problems.append(Problem(_printable(file), line, col, code, message, severity))

    def text(self, item: SourceFile) -> str | None:
        if item.type is FileType.SYMLINK:
            self.add(
                item.path, "DS106", "symlinks are not followed (they may leave the repository)"
            )
            return None
        if item.type is not FileType.FILE:
            self.add(
                item.path, "DS108", "not a regular file (a git submodule, FIFO, device or socket)"
            )
            return None
        if item.size > MAX_FILE_BYTES:
            self.add(
                item.path, "DS107", f"file is {item.size:,} bytes (at most {MAX_FILE_BYTES:,})"
            )
            return None
        self.files += 1
        try:
            data = self.source.read(item.path)
        except OSError as exc:
            self.add(item.path, "DS108", f"cannot be read: {exc.strerror or type(exc).__name__}")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = data[: exc.start]
            line = before.count(b"\n") + 1
            column = exc.start - (before.rfind(b"\n") + 1) + 1
            self.add(
                item.path, "DS105", f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column
            )
            return None
        return text.removeprefix("\ufeff")

    def yaml(self, item: SourceFile) -> YamlDocument | None:
        text = self.text(item)
        if text is None:
            return None
        document, problems = parse_yaml(text, item.path)
        self.problems.extend(problems)
        return document

    def segment(self, item: SourceFile, segment: str, what: str) -> str | None:
        if _printable(segment) != segment:
            self.add(item.path, "DS105", f"{what} {_printable(segment)!r}: file name is not UTF-8")
            return None
        try:
            name = decode_segment(segment)
        except ValueError as exc:
            hint = ""
            if "not the canonical" in str(exc):
                canonical = encode_segment(unquote(segment))
                hint = f": write it as {canonical!r}"
            else:
                hint = f": {exc}"
            self.add(item.path, "DS501", f"{what} {segment!r} is not path-encoded{hint}")
            return None
        problem = name_problem(what, name)
        if problem is not None:
            self.add(item.path, "DS401", problem)
        if segment.split(".", 1)[0].upper() in _WINDOWS_DEVICES or segment.endswith("."):
            self.add(
                item.path,
                "DS503",
                f"{what} {segment!r} cannot be checked out on Windows (a reserved device name "
                "or a trailing dot)",
                severity=Severity.WARNING,
            )
        return name

    def collisions(self, items: Iterable[tuple[str, str]], what: str) -> None:
        """Report names (``(segment, file)``) that differ only by letter case."""
        seen: dict[str, str] = {}
        for segment, file in items:
            folded = segment.lower()
            if folded in seen and seen[folded] != segment:
                self.add(
                    file,
                    "DS502",
                    f"{what} {segment!r} collides with {seen[folded]!r} on case-insensitive "
                    "file systems (macOS, Windows)",
                )
            else:
                seen.setdefault(folded, segment)


def _printable(path: str) -> str:
    """``path`` with the bytes of a non-UTF-8 file name (which Python keeps as lone surrogates)
    shown as U+FFFD, so that output stays valid UTF-8."""
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no byte stands for
        raw = path.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")
