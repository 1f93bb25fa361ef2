"""Issue 14, presentation: numbers per unit, identifiers that wrap at boundaries, wording that
fits the format, no library warning on the console, and the API-cost projection."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from golive.model import CheckContext
from golive.plugins.feed.cache_cost import check_api_cost
from golive.report import build_render_model
from golive.report.html import render_html
from golive.report.inputs import fmt_value
from golive.report.numbers import fmt_number, wrap_points
from golive.run.target import Target

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402


@pytest.mark.parametrize("value, unit, text", [
    (1.45157, "min", "1.452 min"),
    (4.81481e-05, "ratio", "0.004815 %"),   # was "4.81481e-05 ratio"
    (0.912, "ratio", "91.2 %"),
    (16685.93, "s", "16,686 s"),
    (100.0, "ms", "100 ms"),
    (71.2, "%", "71.2 %"),
    (123456, "B", "123,456 B"),
    ([10, 20], "ms", "10–20 ms"),
    ({"value": 3.14159, "unit": "s"}, None, "3.142 s"),
    (None, "ms", "—"),
])
def test_numbers_are_formatted_per_unit(value, unit, text):
    assert fmt_value(value, unit) == text


def test_no_exponent_and_no_float_noise():
    for v in (1e-3, 2.5e-4, 7.123456e-7, 0.1 + 0.2, 99.999999, 1234.5678):
        assert "e" not in fmt_number(v) and len(fmt_number(v).replace(",", "")) <= 11, v


def test_identifiers_wrap_at_boundaries_only():
    assert str(wrap_points("rss_growth_per_day_lower")) == "rss_<wbr>growth_<wbr>per_<wbr>day_<wbr>lower"
    assert str(wrap_points("tests/x/test_a.py")) == "tests/<wbr>x/<wbr>test_<wbr>a.<wbr>py"
    assert str(wrap_points("<b>_x")) == "&lt;b&gt;_<wbr>x"  # escaped first: evidence text stays text
    assert str(wrap_points("trailing_ and _leading")) == "trailing_ and _<wbr>leading"


def test_html_wording_is_for_html_and_pdf_wording_for_pdf():
    m = build_render_model(json.loads(report_samples.SAMPLE.read_text()), report_samples.reference_plan())
    browsable, printable = render_html(m), render_html(m, for_pdf=True)
    assert "attached to this PDF" not in browsable and "pdfdetach" not in browsable
    assert "attached to this PDF" in printable and "pdfdetach" in printable
    assert "overflow-wrap: anywhere" not in browsable  # no mid-word breaks in table cells


def test_importing_the_pdf_renderer_prints_no_warning():
    res = subprocess.run([sys.executable, "-W", "default", "-c", "import golive.report.pdf"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "Warning" not in res.stderr, res.stderr


def _cost(tmp_path: Path, rows: list[tuple[str, float]], now: datetime):
    log = tmp_path / "logs" / "api_usage.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(json.dumps({"ts": ts, "cost_usd": c}) + "\n" for ts, c in rows))
    ctx = CheckContext(target=Target(root=tmp_path), params={}, settings={}, log=logging.getLogger("t"),
                       clock=lambda: now)
    return check_api_cost(None, ctx)


def test_projection_early_in_a_month_uses_the_recent_run_rate(tmp_path):
    """The demo's case: spending 9.5 USD/day last month, run on the 2nd: never "projected $0.00"."""
    rows = [(f"2026-11-{d:02d}T12:00:00Z", 9.5) for d in range(20, 31)]
    res = _cost(tmp_path, rows, datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc))
    m = res.metrics
    assert m["month_to_date_usd"].value == 0
    window = 11 + 1 + 6 / 24  # 2026-11-20 00:00 to 2026-12-02 06:00
    assert m["run_rate_usd_per_day"].value == pytest.approx(9.5 * 11 / window, rel=1e-5)
    remaining = 31 - (1 + 6 / 24)
    assert m["month_projection_usd"].value == pytest.approx(9.5 * 11 / window * remaining, rel=1e-5)
    assert "projected $0.00" not in res.message and "run rate $" in res.message


def test_projection_counts_month_to_date_and_old_spend_ages_out(tmp_path):
    rows = [("2026-09-01T12:00:00Z", 500.0), ("2026-11-10T12:00:00Z", 30.0), ("2026-11-12T12:00:00Z", 30.0)]
    res = _cost(tmp_path, rows, datetime(2026, 11, 15, 0, 0, tzinfo=timezone.utc))
    m = res.metrics
    rate = 60.0 / 29  # the 30 days 2026-10-17 .. 2026-11-15, from 10-17 00:00 to now (September is out)
    assert m["run_rate_usd_per_day"].value == pytest.approx(rate, rel=1e-5)
    assert m["month_projection_usd"].value == pytest.approx(60.0 + rate * (30 - 14), rel=1e-5)
