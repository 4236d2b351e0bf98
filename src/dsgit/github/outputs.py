"""Writing what a step reports: outputs (``GITHUB_OUTPUT``), the job summary
(``GITHUB_STEP_SUMMARY``) and workflow commands on stdout (annotations)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path

__all__ = ["append_summary", "write_outputs"]


def write_outputs(path: Path | None, values: Mapping[str, str]) -> None:
    """Append ``name=value`` lines (heredoc form for values with newlines) to GITHUB_OUTPUT."""
    if path is None or not values:
        return
    lines = []
    for name, value in values.items():
        if "\n" in value:
            delimiter = f"dsgit_{uuid.uuid4().hex}"
            lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}")
        else:
            lines.append(f"{name}={value}")
    with path.open("a", encoding="utf-8") as stream:
        stream.write("\n".join(lines) + "\n")


def append_summary(path: Path | None, markdown: str) -> None:
    """Append a section to the job summary (GitHub shows at most 1 MiB per step)."""
    if path is None or not markdown:
        return
    with path.open("a", encoding="utf-8") as stream:
        stream.write(markdown.rstrip("\n") + "\n\n")
