"""Evidence text the audited system controls renders as text on every dashboard page: a
requirement title, a metric name, a threshold metric, a reason, a test id and a target path,
recorded through the real recorder (not planted in a template)."""
from __future__ import annotations

import dataclasses
import re

import pytest

import servehelpers as h

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PAYLOADS = ('<svg onload=alert(1)>', '"><script>alert(2)</script>', "javascript:alert(3)//")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    from golive.ledger.simulate import make_outcome
    from golive.model import Status, ThresholdResult

    base = make_outcome(2)
    outcome = dataclasses.replace(
        base, status=Status.FAIL, reason=f"reason {PAYLOADS[1]}",
        requirement=dataclasses.replace(base.requirement, id="SIM-XSS-01", title=f"title {PAYLOADS[0]}"),
        metrics={f"metric {PAYLOADS[0]}": 3, "latency": 7},
        thresholds=[ThresholdResult(metric=f"metric {PAYLOADS[0]}", op="<", value=1, unit=PAYLOADS[2], observed=3,
                                    passed=False)],
        covered_by=[f"tests/test_x.py::test_{PAYLOADS[1]}"])
    with h.recorded(tmp_path_factory.mktemp("hostile") / "store",
                    [([outcome], f"/srv/{PAYLOADS[1]}", None)] * 2) as recorded:
        yield recorded


def test_recorded_text_is_escaped_on_every_page(hostile):
    store, (first, second) = hostile
    client = h.signed_in(store)
    pages = {path: client.get(path) for path in (
        "/runs", f"/runs/{second}", f"/runs/{second}/requirements/SIM-XSS-01", f"/compare?a={first}&b={second}",
        "/trends", "/ledger")}
    for path, res in pages.items():
        assert res.status_code == 200, path
        assert "<svg onload" not in res.text and "<script>" not in res.text, path
        assert not re.search(r'href="javascript:', res.text), path
    requirement = pages[f"/runs/{second}/requirements/SIM-XSS-01"].text
    assert "title &lt;svg onload=alert(1)&gt;" in requirement
    assert "metric &lt;svg onload=alert(1)&gt;" in requirement.split("<h2>Thresholds</h2>")[1].split("</table>")[0]
    assert "reason &#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in requirement
    tests = requirement.split("<h2>Linked tests</h2>")[1].split("</table>")[0]
    assert "&#34;&gt;&lt;script&gt;alert(2)&lt;/<wbr>script&gt;" in tests
    assert "title &lt;svg onload=alert(1)&gt;" in pages[f"/runs/{second}"].text
    target = pages["/runs"].text.split('<td class="mono">')[1].split("</td>")[0]
    assert target.startswith("/<wbr>srv/<wbr>&#34;&gt;&lt;script&gt;")  # in the table, as text
    assert 'value="/srv/&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"' in pages["/runs"].text  # the filter option
