"""Inline SVG charts for the HTML report: no script, no external resource, every label
escaped. Each chart is a ``<figure>`` whose numbers also appear in a table beside it, so
the report reads the same without the pictures."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart", "share_bars"]

_BAR = "#3b6fb6"
_WARN = "#c0392b"
_GOOD = "#2e8b57"


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[int],
    *,
    width: int = 640,
    height: int = 220,
    highlight_last: bool = False,
) -> str:
    """Vertical bars, one per label (labels under every bar when they fit, else every k-th)."""
    count = max(1, len(values))
    top = max([*values, 1])
    left, bottom, right, head = 48, 48, 8, 24
    plot_w, plot_h = width - left - right, height - bottom - head
    step = plot_w / count
    every = max(1, round(count / 12))
    parts = [
        f'<svg role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{_text(title)}">',
        f"<title>{_text(title)}</title>",
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{_text(title)}</text>',
        f'<line x1="{left}" y1="{head + plot_h}" x2="{left + plot_w}" y2="{head + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{left - 6}" y="{head + 10}" font-size="10" text-anchor="end">{top:,}</text>',
        f'<text x="{left - 6}" y="{head + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_h = 0 if top == 0 else plot_h * value / top
        x = left + index * step
        colour = _WARN if highlight_last and index == count - 1 and value else _BAR
        parts.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{head + plot_h - bar_h:.1f}" '
            f'width="{max(step * 0.8, 1):.1f}" height="{bar_h:.1f}" fill="{colour}">'
            f"<title>{_text(label)}: {value:,}</title></rect>"
        )
        if index % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{head + plot_h + 14}" font-size="9" '
                f'text-anchor="middle">{_text(label)}</text>'
            )
    parts.append("</svg>")
    return f'<figure class="chart">{"".join(parts)}</figure>'


def share_bars(title: str, rows: Sequence[tuple[str, float]], *, width: int = 640) -> str:
    """One horizontal bar per row, its share (0..1) of the full width, labelled in percent."""
    row_h, head, label_w = 22, 24, 180
    height = head + row_h * max(1, len(rows)) + 8
    plot_w = width - label_w - 60
    parts = [
        f'<svg role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{_text(title)}">',
        f"<title>{_text(title)}</title>",
        f'<text x="0" y="16" font-size="13" font-weight="bold">{_text(title)}</text>',
    ]
    for index, (label, share) in enumerate(rows):
        y = head + index * row_h
        colour = _GOOD if share >= 0.99 else _WARN if share < 0.9 else _BAR
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" font-size="11" text-anchor="end">'
            f"{_text(label)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{plot_w}" height="16" fill="#eee"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{plot_w * max(0.0, min(share, 1.0)):.1f}" '
            f'height="16" fill="{colour}"><title>{_text(label)}: {share:.1%}</title></rect>'
            f'<text x="{label_w + plot_w + 6}" y="{y + 15}" font-size="11">{share:.1%}</text>'
        )
    parts.append("</svg>")
    return f'<figure class="chart">{"".join(parts)}</figure>'
