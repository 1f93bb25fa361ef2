"""Inline SVG charts for the HTML and PDF reports: coverage bars and a trend line.

Charts are SVG text built here, not images fetched from anywhere, so they render the same in
a browser and in WeasyPrint and need no network. Every label is XML-escaped; numbers are
formatted by this module, never copied from evidence text.
"""
from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

IMPLEMENTED = "#3566a8"
VERIFIED = "#2e8540"
GRID = "#b9c0c8"
LABEL_W = 230
BAR_W = 360
ROW_H = 22


def _pct(rate: float) -> float:
    return max(0.0, min(1.0, float(rate))) * 100


def _legend(y: float) -> str:
    return (f'<rect x="{LABEL_W}" y="{y}" width="10" height="10" fill="{IMPLEMENTED}"/>'
            f'<text x="{LABEL_W + 14}" y="{y + 9}" font-size="10">covered</text>'
            f'<rect x="{LABEL_W + 100}" y="{y}" width="10" height="10" fill="{VERIFIED}"/>'
            f'<text x="{LABEL_W + 114}" y="{y + 9}" font-size="10">verified</text>')


def _shorten(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def coverage_bars(items: Sequence[tuple[str, float, float]], title: str,
                  bands: dict[str, float]) -> Markup:
    """Horizontal bars: implemented rate with the verified rate drawn inside it.

    ``items`` are ``(label, implemented_rate, verified_rate)``; dashed lines mark the band
    limits (partial, well) so a reader sees which band each bar falls in.
    """
    top = 24
    height = top + len(items) * ROW_H + 34
    width = LABEL_W + BAR_W + 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'font-family="DejaVu Sans, sans-serif">',
             f'<text x="0" y="14" font-size="12" font-weight="bold">{escape(title)}</text>']
    for i, (label, implemented, verified) in enumerate(items):
        y = top + i * ROW_H
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + 14}" font-size="10" text-anchor="end">'
                     f'{escape(_shorten(label))}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y + 3}" width="{BAR_W}" height="14" fill="#eef1f4"/>')
        parts.append(f'<rect x="{LABEL_W}" y="{y + 3}" width="{BAR_W * _pct(implemented) / 100:.1f}" '
                     f'height="14" fill="{IMPLEMENTED}"/>')
        parts.append(f'<rect x="{LABEL_W}" y="{y + 8}" width="{BAR_W * _pct(verified) / 100:.1f}" '
                     f'height="5" fill="{VERIFIED}"/>')
        parts.append(f'<text x="{LABEL_W + BAR_W + 6}" y="{y + 14}" font-size="10">'
                     f'{_pct(implemented):.0f}%</text>')
    bottom = top + len(items) * ROW_H
    for name in ("partial", "well"):
        if name in bands:
            x = LABEL_W + BAR_W * _pct(bands[name]) / 100
            parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" '
                         f'stroke="{GRID}" stroke-dasharray="3,3"/>')
            parts.append(f'<text x="{x:.1f}" y="{bottom + 11}" font-size="9" text-anchor="middle" '
                         f'fill="#555">{_pct(bands[name]):.0f}%</text>')
    parts.append(_legend(bottom + 18))
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_line(points: Sequence[tuple[str, float, float]], title: str) -> Markup:
    """Coverage and verification rate over runs, oldest first. Empty below two runs."""
    if len(points) < 2:
        return Markup("")
    left, top, plot_w, plot_h = 40, 24, 520, 150
    width, height = left + plot_w + 20, top + plot_h + 60
    step = plot_w / (len(points) - 1)

    def xy(i: int, rate: float) -> str:
        return f"{left + i * step:.1f},{top + plot_h - plot_h * _pct(rate) / 100:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'font-family="DejaVu Sans, sans-serif">',
             f'<text x="0" y="14" font-size="12" font-weight="bold">{escape(title)}</text>']
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h - plot_h * pct / 100
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e7eb"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end">{pct}%</text>')
    for colour, index in ((IMPLEMENTED, 1), (VERIFIED, 2)):
        coords = " ".join(xy(i, p[index]) for i, p in enumerate(points))
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, p in enumerate(points):
            cx, cy = xy(i, p[index]).split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>')
    label_every = max(1, len(points) // 8)
    for i, p in enumerate(points):
        if i % label_every == 0 or i == len(points) - 1:
            # End labels anchor inwards so they are not clipped at the chart's edges.
            anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
            parts.append(f'<text x="{left + i * step:.1f}" y="{top + plot_h + 14}" font-size="9" '
                         f'text-anchor="{anchor}">{escape(p[0])}</text>')
    parts.append(f'<g transform="translate({left - LABEL_W},{top + plot_h + 24})">{_legend(0)}</g>')
    parts.append("</svg>")
    return Markup("".join(parts))
