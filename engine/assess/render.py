"""Write an assessment as Markdown and as PDF (WeasyPrint), with the report's template machinery.

- PDF: ``templates/assess.html.j2`` in the report's Jinja environment (autoescaped, strict
  undefined names), laid out by WeasyPrint with :class:`AssetOnlyFetcher` (only the bundled
  stylesheets are served), PDF/A-3b with the assessment as an embedded ``assessment.json``;
  ``SOURCE_DATE_EPOCH`` is pinned to the time the assessment was written.
- Markdown: ``templates/assess.md.j2`` in an environment whose ``finalize`` escapes every value
  with :func:`golive.report.markdown.md`, so no value can open a link, image, HTML or table cell;
  only the few helpers below return text marked safe, built from escaped parts.
"""
from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from golive.assess.model import Assessment, Citation
from golive.report.markdown import md, md_line

HTML_TEMPLATE, MD_TEMPLATE = "assess.html.j2", "assess.md.j2"
ATTACHMENT_NAME = "assessment.json"


def cited_entries(a: Assessment) -> list[Citation]:
    """Every ledger entry the document cites, once, by sequence number."""
    cited = {r.checkpoint for r in a.runs}
    for item in a.items:
        cited.update(item.citations)
    for page in a.signoffs:
        cited.update(page.entries)
    return sorted(cited, key=lambda c: c.seq)


def _finalize(value: object) -> str:
    return str(value) if isinstance(value, Markup) else md(value)


@lru_cache(maxsize=2)
def _markdown_environment(directory: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory), autoescape=False, finalize=_finalize,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["line"] = lambda text: Markup(md_line(text))  # text that starts a line
    env.globals["cite"] = lambda c: Markup(f"`#{int(c.seq)} {md(c.digest[:16])}`") if c else "no entry"
    env.globals["row"] = lambda cells: Markup("| " + " | ".join(md(c) for c in cells) + " |")
    return env


def render_markdown(a: Assessment) -> str:
    from golive.report.html import templates_dir

    text = _markdown_environment(str(templates_dir())).get_template(MD_TEMPLATE).render(a=a, cited=cited_entries(a))
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


def render_html(a: Assessment, *, for_pdf: bool = True) -> str:
    from golive.report.fetcher import _default_assets_dir
    from golive.report.html import environment

    assets = _default_assets_dir()
    css = "" if for_pdf else "\n".join((assets / n).read_text(encoding="utf-8") for n in ("report.css", "assess.css"))
    return environment().get_template(HTML_TEMPLATE).render(a=a, for_pdf=for_pdf, inline_css=Markup(css),
                                                            cited=cited_entries(a))


def _written(a: Assessment) -> datetime:
    try:
        moment = datetime.fromisoformat(a.written)
    except ValueError:
        moment = datetime(1980, 1, 1, tzinfo=timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def render_pdf_bytes(a: Assessment) -> bytes:
    from golive.report.fetcher import AssetOnlyFetcher, _default_assets_dir
    from golive.report.pdf import PDF_VARIANT, _quiet_weasyprint, _source_date_epoch
    from weasyprint import HTML, Attachment

    fetcher = AssetOnlyFetcher()
    html_text = render_html(a, for_pdf=True)
    data = json.dumps(a.as_dict(), indent=2, sort_keys=True, default=str).encode("utf-8")
    moment = _written(a)
    naive = moment.astimezone(timezone.utc).replace(tzinfo=None)
    attachment = Attachment(string=data, url_fetcher=fetcher, name=ATTACHMENT_NAME, relationship="Data",
                            description=f"golive assessment, {a.framework_id}, period {a.period}",
                            created=naive, modified=naive)
    identifier = hashlib.sha256(html_text.encode("utf-8") + data).hexdigest()[:32].encode()
    out = io.BytesIO()
    with _quiet_weasyprint(), _source_date_epoch(moment):
        document = HTML(string=html_text, base_url=_default_assets_dir().as_uri() + "/", url_fetcher=fetcher)
        document.render().write_pdf(out, attachments=[attachment], pdf_variant=PDF_VARIANT,
                                    pdf_identifier=identifier)
    return out.getvalue()


def write(a: Assessment, folder: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write ``golive-assess-<framework>-<from>_<to>.<ext>`` per format in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"golive-assess-{a.framework_id}-{a.period.replace('..', '_')}"
    written = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        if fmt == "md":
            path.write_text(render_markdown(a), encoding="utf-8")
        else:
            path.write_bytes(render_pdf_bytes(a))
        written.append(path)
    return written
