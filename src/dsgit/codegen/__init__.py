"""Code generation for game code: Luau types from the stores' JSON Schemas (DESIGN §16).

The generator (:func:`generate_luau`) is pure; :mod:`dsgit.codegen.writer` compares its output
with a folder and writes it.
"""

from __future__ import annotations

from dsgit.codegen.luau import DEFAULT_MODULE, GENERATED_MARK, LuauModules, generate_luau

__all__ = ["DEFAULT_MODULE", "GENERATED_MARK", "LuauModules", "generate_luau"]
