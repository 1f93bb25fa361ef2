"""Comparing runs of two plan versions: the requirement text and thresholds that changed between
the plan digests are listed, beside the status changes (runs recorded through the real recorder)."""
from __future__ import annotations

import dataclasses

import pytest

import servehelpers as h

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    from golive.ledger.simulate import make_outcome
    from golive.model import Status, ThresholdResult

    old = make_outcome(0)  # pass, duration_p95 < 120 s
    new_req = dataclasses.replace(old.requirement, title="Pipeline timing, tightened", priority="P2",
                                  plan_lines=(3, 18))
    new = dataclasses.replace(old, requirement=new_req, status=Status.FAIL, thresholds=[
        ThresholdResult(metric="duration_p95", op="<", value=60, unit="s", observed=84.125, passed=False)])
    with h.recorded(tmp_path_factory.mktemp("versions") / "store",
                    [([old], "/srv/trading", "aa" * 32), ([new], "/srv/trading", "bb" * 32)]) as recorded:
        yield recorded


def test_compare_lists_plan_and_threshold_changes(two_versions):
    store, (before, after) = two_versions
    client = h.signed_in(store)
    page = client.get("/compare", params={"a": before, "b": after}).text
    assert "different plan versions (digest aaaaaaaaaaaa → bbbbbbbbbbbb)" in page
    assert "SIM-REQ-00000" in page.split("New failures (1)")[1].split("</table>")[0]
    rows = page.split("Plan changes (3)")[1].split("</table>")[0]
    assert "<td>title</td><td>Simulated requirement 0</td><td>Pipeline timing, tightened</td>" in rows
    assert "<td>priority</td><td>P1</td><td>P2</td>" in rows
    assert "<td>plan_lines</td><td>3, 15</td><td>3, 18</td>" in rows
    limits = page.split("Threshold changes (1)")[1].split("</table>")[0]
    assert "duration_p95 &lt; 120 s" in limits and "duration_p95 &lt; 60 s" in limits
    same = client.get("/compare", params={"a": before, "b": before}).text
    assert "Plan changes (0)" in same and "Threshold changes (0)" in same
