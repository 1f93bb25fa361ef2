"""PDF rendering: the HTML template laid out by WeasyPrint, as PDF/A-3b with the run's
results attached.

Properties an auditor relies on:
- the PDF carries its own machine-readable evidence: ``results.json`` (the JSON format's exact
  bytes, sha256 printed in the appendix) is an embedded file, as PDF/A-3 allows, and so is the
  run's proof bundle ``golive-proof-bundle.json`` when the run was recorded in a v2 ledger
  (``golive evidence verify-report`` checks the one against the other offline);
- identical inputs give identical bytes: dates come from the run (not the clock), the PDF
  identifier is derived from the content, and ``SOURCE_DATE_EPOCH`` pins the font subsetter's
  timestamp during the render;
- nothing outside the bundled assets is fetched (:class:`AssetOnlyFetcher`).
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from golive.report.fetcher import AssetOnlyFetcher, _default_assets_dir  # first: imports WeasyPrint quietly

from weasyprint import HTML, Attachment  # noqa: E402 - after the fetcher's filtered import

from golive.report.analysis import document_bytes
from golive.report.html import render_html
from golive.report.model import RenderModel

PDF_VARIANT = "pdf/a-3b"
ATTACHMENT_NAME = "results.json"
_ENV_LOCK = threading.Lock()


def _run_moment(model: RenderModel) -> datetime:
    text = model.generated
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = datetime(1980, 1, 1, tzinfo=timezone.utc)  # no run time: a fixed, obvious date
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@contextmanager
def _source_date_epoch(moment: datetime):
    """Pin SOURCE_DATE_EPOCH (read by fontTools when it stamps subset fonts) to the run time."""
    with _ENV_LOCK:
        before = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = before


def layout(model: RenderModel, *, fetcher: AssetOnlyFetcher | None = None,
           html_text: str | None = None):
    """Lay out the report's pages (WeasyPrint ``Document``); ``html_text`` overrides the
    template output (tests use it to feed raw hostile markup to the fetcher)."""
    fetcher = fetcher or AssetOnlyFetcher()
    html_text = html_text if html_text is not None else render_html(model, for_pdf=True)
    document = HTML(string=html_text, base_url=_default_assets_dir().as_uri() + "/",
                    url_fetcher=fetcher)
    with _quiet_weasyprint(), _source_date_epoch(_run_moment(model)):
        return document.render(), html_text, fetcher


def write(model: RenderModel, pages, html_text: str, fetcher: AssetOnlyFetcher) -> bytes:
    """Write laid-out pages as PDF/A-3b with ``results.json`` (and the proof bundle) attached."""
    results = document_bytes(model.document)
    moment = _run_moment(model).astimezone(timezone.utc).replace(tzinfo=None)
    attachment = Attachment(
        string=results, url_fetcher=fetcher, name=ATTACHMENT_NAME,
        description=f"golive results document, run {model.evidence.run_id}",
        created=moment, modified=moment, relationship="Data")
    attachments = [attachment]
    proof = model.proof.data if model.proof is not None else b""
    if proof:  # the run's proof bundle: verify-report checks results.json against it offline
        attachments.append(Attachment(
            string=proof, url_fetcher=fetcher, name=model.proof.file_name,
            description=f"golive proof bundle (golive-proof-bundle/v1), run {model.evidence.run_id}",
            created=moment, modified=moment, relationship="Supplement"))
    identifier = hashlib.sha256(html_text.encode("utf-8") + results + proof).hexdigest()[:32].encode()
    out = io.BytesIO()
    with _quiet_weasyprint(), _source_date_epoch(_run_moment(model)):
        pages.write_pdf(out, attachments=attachments, pdf_variant=PDF_VARIANT,
                        pdf_identifier=identifier)
    return out.getvalue()


@contextmanager
def _quiet_weasyprint():
    # WeasyPrint logs refused URLs as errors; they are expected for hostile evidence and
    # recorded on the fetcher, so keep them out of the user's console.
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def render_pdf_bytes(model: RenderModel, *, fetcher: AssetOnlyFetcher | None = None,
                     html_text: str | None = None) -> bytes:
    """Lay out the report and return the PDF bytes."""
    pages, html_text, fetcher = layout(model, fetcher=fetcher, html_text=html_text)
    return write(model, pages, html_text, fetcher)


def write_pdf(model: RenderModel, out_path: Path, *, fetcher: AssetOnlyFetcher | None = None) -> Path:
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(render_pdf_bytes(model, fetcher=fetcher))
    return out_path
