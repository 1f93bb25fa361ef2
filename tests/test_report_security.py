"""Hostile evidence text must be neither fetched nor rendered as markup (issue 4, point 3)."""
from __future__ import annotations

import http.server
import io
import json
import sys
import threading
from pathlib import Path

import pypdf
import pytest

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

from golive.report import build_render_model, render  # noqa: E402
from golive.report.fetcher import AssetOnlyFetcher, AssetRefused, _default_assets_dir  # noqa: E402
from golive.report.pdf import render_pdf_bytes  # noqa: E402


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    _Recorder.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Recorder.hits
    httpd.shutdown()
    httpd.server_close()


def _hostile_model(base_url: str):
    doc = json.loads(report_samples.SAMPLE.read_text())
    payload = (f'<img src="{base_url}/leak.png"><link rel=attachment href="file:///etc/passwd">'
               f'<style>@import url({base_url}/x.css);</style><script>alert(1)</script>')
    result = next(r for r in doc["results"] if r["requirement_id"] == "PRE-ALGO-09")
    result["reason"] = payload
    result["thresholds"][0]["observed"] = f'<img src="{base_url}/observed.png">'
    result["artifacts"] = [{"path": "file:///etc/passwd", "sha256": "00"}]
    waiver = {"requirement_id": "PRE-CONF-06", "approver": f'<a href="{base_url}/a">boss</a>',
              "reason": f'<iframe src="{base_url}/frame"></iframe>', "expires": "2030-01-01"}
    return build_render_model(doc, report_samples.reference_plan(), waivers=[waiver])


def test_evidence_markup_is_shown_as_text_and_nothing_is_fetched(server, tmp_path):
    base_url, hits = server
    model = _hostile_model(base_url)
    fetcher = AssetOnlyFetcher()
    pdf = render_pdf_bytes(model, fetcher=fetcher)
    html = render("html", model, tmp_path / "r.html").read_text()

    assert hits == []
    assert fetcher.refused == []  # escaped text never even asks for a URL
    served = {u.rsplit("/", 1)[-1] for u in fetcher.served}
    assert served == {"report.css", "icon-pass.svg", "icon-missing.svg", "icon-warn.svg", "icon-info.svg"}
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == ["results.json"]
    text = "".join(page.extract_text() for page in reader.pages)
    assert "root:x:0:0" not in text
    assert "<img src=" in text.replace("\n", "") and "<script>alert(1)</script>" in text.replace("\n", "")
    assert "&lt;img src=&#34;" in html or "&lt;img src=&quot;" in html
    assert "<img" not in html and "<iframe" not in html and "<script>" not in html


def test_unescaped_markup_still_cannot_reach_files_or_network(server, tmp_path):
    """Defence in depth: even raw HTML (an escaping bug) gets nothing from the fetcher."""
    base_url, hits = server
    model = _hostile_model(base_url)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    raw = (f'<html><body><p>x</p><img src="{base_url}/raw.png">'
           f'<link rel="attachment" href="{secret.as_uri()}">'
           f'<link rel="attachment" href="file:///etc/passwd">'
           f'<link rel="stylesheet" href="{base_url}/evil.css">'
           f'<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E">'
           f'<img src="../report.html.j2"></body></html>')
    fetcher = AssetOnlyFetcher()
    pdf = render_pdf_bytes(model, fetcher=fetcher, html_text=raw)

    assert hits == []
    assert len(fetcher.refused) == 6
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == ["results.json"]
    assert b"TOP-SECRET-TOKEN" not in pdf and b"root:x:0:0" not in pdf


def test_fetcher_serves_only_real_files_inside_the_assets(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "ok.css").write_text("p {}")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (assets / "link.css").symlink_to(outside)
    fetcher = AssetOnlyFetcher(assets)

    assert fetcher.fetch((assets / "ok.css").as_uri()).read() == b"p {}"
    for url in [(assets / "link.css").as_uri(), outside.as_uri(), (assets / ".." / "outside.txt").as_uri(),
                "http://127.0.0.1:9/x", "https://example.com/x", "data:text/plain,hi",
                "file://otherhost/etc/passwd", (assets / "nope.css").as_uri(), assets.as_uri()]:
        with pytest.raises(AssetRefused):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 9


def test_default_assets_hold_the_stylesheet():
    assert (_default_assets_dir() / "report.css").is_file()
