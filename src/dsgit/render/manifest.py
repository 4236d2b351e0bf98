"""Rendering a segmented plan: its summary and one page of its changes (``dsgit show``).

A segmented plan can hold millions of changes; it is never rendered whole. Text and markdown
show the header, plan-level diagnostics, the summary of every change, the segments, and the
changes of one page (as :func:`dsgit.render.text.render_text` shows a plan's); json gives the
manifest, the page's position and its changes as the plan file holds them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from dsgit.plan.io import change_to_dict
from dsgit.plan.model import Change
from dsgit.plan.segments import Manifest, manifest_to_json
from dsgit.render.markdown import render_markdown
from dsgit.render.text import render_text

__all__ = ["Page", "render_manifest"]


@dataclass(frozen=True)
class Page:
    """Changes ``start`` to ``start + len(changes)`` of ``total``, page ``number`` of size
    ``limit``."""

    number: int
    limit: int
    total: int
    changes: tuple[Change, ...]

    @property
    def start(self) -> int:
        return (self.number - 1) * self.limit

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def _tail(manifest: Manifest, page: Page, plan_file: str) -> list[str]:
    lines = [
        f"Segmented plan: {manifest.total_changes} changes in {len(manifest.segments)} "
        f"segments; change set {manifest.change_set_digest}.",
    ]
    if page.changes:
        lines.append(
            f"Showing changes {page.start + 1}–{page.start + len(page.changes)} of "
            f"{page.total} (page {page.number} of {page.pages})."
        )
    else:
        lines.append(f"Page {page.number} is past the last page ({page.pages}).")
    if page.number < page.pages:
        lines.append(f"Next page: dsgit show {plan_file} --page {page.number + 1}")
    return lines


def render_manifest(manifest: Manifest, page: Page, output_format: str, plan_file: str) -> str:
    """The manifest and one page of its changes in ``text``, ``markdown`` or ``json``."""
    if output_format == "json":
        body = {
            "manifest": json.loads(manifest_to_json(manifest)),
            "page": {
                "number": page.number,
                "limit": page.limit,
                "pages": page.pages,
                "first": page.start + 1 if page.changes else None,
                "count": len(page.changes),
                "total": page.total,
            },
            "changes": [change_to_dict(change) for change in page.changes],
        }
        return json.dumps(body, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    shown = replace(manifest.header, changes=page.changes)
    tail = _tail(manifest, page, plan_file)
    if output_format == "markdown":
        return render_markdown(shown) + "\n" + "\n\n".join(tail) + "\n"
    return render_text(shown) + "\n".join(tail) + "\n"
