"""HTML rendering of the render model, shared by the HTML and PDF formats.

One Jinja2 template (``templates/report.html.j2``) produces both: the browsable HTML file
inlines its stylesheet so it is a single self-contained file; the PDF variant links the
stylesheet from the bundled assets, which only :class:`AssetOnlyFetcher` may serve.

Autoescaping is forced on (``select_autoescape`` would not escape ``report.html.j2``: it looks
at the last extension only) and undefined names raise, so a template typo fails loudly
instead of printing an empty cell in an audit document.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from golive.report.fetcher import _default_assets_dir
from golive.report.model import RenderModel
from golive.report.numbers import wrap_points
from golive.report.standing import METHODOLOGY

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"

STATUS_LABELS = {"pass": "pass", "fail": "fail", "partial": "partial", "missing": "missing",
                 "error": "error", "skipped": "skipped", "waived": "waived"}
BAND_LABELS = {"well": "Well-Covered Areas", "partial": "Partially Covered Areas",
               "major": "Major Gaps"}

# Icons are inline SVG: the DejaVu fonts on a typical server have no emoji glyphs, so ✅/❌
# would print as empty boxes. The same markup renders in browsers and in WeasyPrint.
_ICON_SHAPES = {
    "pass": ('#2e8540', '<path d="M4.2 8.3l2.5 2.5 5.1-5.4" fill="none" stroke="#fff" '
                        'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>'),
    "missing": ('#c62828', '<path d="M5.2 5.2l5.6 5.6M10.8 5.2l-5.6 5.6" stroke="#fff" '
                           'stroke-width="2" stroke-linecap="round"/>'),
    "warn": ('#e0a100', '<path d="M8 4.3v4.6" stroke="#fff" stroke-width="2" stroke-linecap="round"/>'
                        '<circle cx="8" cy="11.6" r="1.1" fill="#fff"/>'),
    "info": ('#6b7785', '<path d="M8 7.2v4.6" stroke="#fff" stroke-width="2" stroke-linecap="round"/>'
                        '<circle cx="8" cy="4.6" r="1.1" fill="#fff"/>'),
}
STATUS_ICON = {"pass": "pass", "fail": "missing", "partial": "warn", "missing": "missing",
               "error": "missing", "skipped": "info", "waived": "warn", "warn": "warn"}


def icon_svg(kind: str) -> str:
    """The SVG document of a status icon; ``kind`` is a status or ``warn``."""
    colour, mark = _ICON_SHAPES[STATUS_ICON.get(kind, "info")]
    return (f'<svg class="icon" xmlns="http://www.w3.org/2000/svg" width="11" height="11" '
            f'viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="8" '
            f'fill="{colour}"/>{mark}</svg>')


def icon(kind: str) -> Markup:
    """An inline SVG status icon (the browsable HTML: one self-contained file)."""
    return Markup(icon_svg(kind))


def icon_image(kind: str) -> Markup:
    """The same icon as a bundled asset file (the PDF): WeasyPrint parses each distinct image
    once, where ~250 inline SVGs would add about a third to the layout time."""
    return Markup(f'<img class="icon" src="icon-{STATUS_ICON.get(kind, "info")}.svg" alt="">')


def write_icon_assets(folder: Path) -> list[Path]:
    """(Re)write the icon files in ``folder`` from the shapes above."""
    written = []
    for name in _ICON_SHAPES:
        path = folder / f"icon-{name}.svg"
        path.write_text(icon_svg(name).replace(' class="icon"', "") + "\n", encoding="utf-8")
        written.append(path)
    return written


def templates_dir() -> Path:
    return _default_assets_dir().parent


@lru_cache(maxsize=4)
def environment(directory: str | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory or str(templates_dir())),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(status_labels=STATUS_LABELS, band_labels=BAND_LABELS, methodology=METHODOLOGY)
    env.filters["wrap"] = wrap_points  # identifiers break at _ . / - only
    env.filters["pct"] = lambda rate: f"{round(float(rate) * 100)}%"
    env.filters["lines"] = lambda rng: f"Lines {rng[0]}-{rng[1]}" if rng else ""
    env.filters["short"] = lambda text, n=16: text if len(text) <= n else text[:n] + "…"
    return env


def render_html(model: RenderModel, *, for_pdf: bool = False) -> str:
    """The report as HTML text; ``for_pdf`` links the stylesheet instead of inlining it."""
    env = environment()
    css_path = _default_assets_dir() / STYLESHEET
    return env.get_template(TEMPLATE).render(
        m=model, for_pdf=for_pdf, stylesheet=STYLESHEET, icon=icon_image if for_pdf else icon,
        inline_css=Markup("") if for_pdf else Markup(css_path.read_text(encoding="utf-8")))


def write_html(model: RenderModel, out_path: Path) -> Path:
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_html(model), encoding="utf-8")
    return out_path
