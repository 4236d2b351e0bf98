"""The generator is pure: only ``writer.py`` of ``dsgit.codegen`` touches the file system."""

from __future__ import annotations

import ast
from pathlib import Path

import dsgit.codegen

_IO_MODULES = {"os", "pathlib", "io", "tempfile", "shutil", "subprocess", "socket", "click"}
_PACKAGE = Path(dsgit.codegen.__file__).parent


def _imports_and_calls(path: Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    called: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
            if node.module.startswith("dsgit.") and node.module != "dsgit.codegen.writer":
                imported.add(node.module)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(node.func.id)
    return imported, called


def test_only_the_writer_does_io() -> None:
    modules = sorted(_PACKAGE.glob("*.py"))
    assert {p.name for p in modules} >= {"luau.py", "from_schema.py", "writer.py"}
    for path in modules:
        if path.name == "writer.py":
            continue
        imported, called = _imports_and_calls(path)
        assert not imported & _IO_MODULES, (path.name, imported & _IO_MODULES)
        assert "open" not in called, path.name
        allowed = {"dsgit.codegen", "dsgit.model"}
        for name in imported:
            if name.startswith("dsgit."):
                assert any(name.startswith(prefix) for prefix in allowed), (path.name, name)
