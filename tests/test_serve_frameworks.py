"""The dashboard's framework coverage page (issue 18.4): per catalog item the conclusion the
run's recorded results give, drilling down to the requirement-in-run page; escaped, no inline
script or style."""
from __future__ import annotations

import dataclasses
import re

import pytest

from golive.ledger.simulate import make_outcome
from golive.model import Status
from golive.plan.catalog import load_catalogs

import servehelpers as h

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _outcome(i: int, rid: str, status: Status, title: str):
    base = make_outcome(i)
    return dataclasses.replace(base, requirement=dataclasses.replace(base.requirement, id=rid, title=title),
                               status=status)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    frameworks = load_catalogs()
    mapped = [(fw, i) for fw in frameworks for i in fw.items if i.requirements and not i.is_gap]
    failing_fw, failing = mapped[0]
    used = set(failing.requirements)
    met_fw, met = next((fw, i) for fw, i in mapped if not set(i.requirements) & used)
    outcomes = [_outcome(0, failing.requirements[0], Status.FAIL, f"Failing {h.PAYLOAD}")]
    outcomes += [_outcome(n + 1, rid, Status.PASS, f"Passing {rid}") for n, rid in enumerate(met.requirements)]
    folder = tmp_path_factory.mktemp("frameworks") / "store"
    with h.recorded(folder, [(outcomes, "/srv/trading", None)]) as (store, (run,)):
        yield {"frameworks": frameworks, "failing": (failing_fw, failing), "met": (met_fw, met), "run": run,
               "client": h.signed_in(store)}


def _rows(page: str) -> dict[str, str]:
    """item id -> its table row's HTML."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<tr class="conclusion-[a-z-]+" id="item-([^"]+)">.*?</tr>',
                                                       page, re.S)}


def _conclusion(row: str) -> str:
    return re.search(r'<td class="conclusion">([^<]+)</td>', row).group(1)


def test_each_item_is_concluded_from_the_runs_results(recorded):
    client, run = recorded["client"], recorded["run"]
    page = client.get(f"/runs/{run}/frameworks")
    assert page.status_code == 200
    rows = _rows(page.text)
    every = {i.id: i for fw in recorded["frameworks"] for i in fw.items}
    assert set(rows) == set(every)  # every item of every catalog, once
    _, failing = recorded["failing"]
    _, met = recorded["met"]
    assert _conclusion(rows[failing.id]) == "not met"
    assert _conclusion(rows[met.id]) == ("partly met" if met.uncovered else "met")
    for item_id, item in every.items():
        if item_id not in (failing.id, met.id) and not set(item.requirements) & {*failing.requirements[:1],
                                                                                 *met.requirements}:
            assert _conclusion(rows[item_id]) == "no evidence", item_id  # nothing of it was observed
        if item.is_gap:
            assert "gap: " in rows[item_id]
    # the summary counts are the rows' conclusions
    for fw in recorded["frameworks"]:
        summary = re.search(rf'<tr class="framework-{re.escape(fw.id)}">(.*?)</tr>', page.text, re.S).group(1)
        cells = re.findall(r'<td class="conclusion-[a-z-]+">(\d+)</td>', summary)
        wanted = [sum(1 for i in fw.items if _conclusion(rows[i.id]) == c)
                  for c in ("met", "partly met", "not met", "no evidence")]
        assert [int(c) for c in cells] == wanted


def test_items_drill_down_to_the_requirement_in_the_run(recorded):
    client, run = recorded["client"], recorded["run"]
    _, failing = recorded["failing"]
    row = _rows(client.get(f"/runs/{run}/frameworks").text)[failing.id]
    link = f'/runs/{run}/requirements/{failing.requirements[0]}'
    assert f'href="{link}"' in row and "— <span class=\"state-not-met\">fail</span>" in row
    assert client.get(link).status_code == 200
    for rid in failing.requirements[1:]:
        assert f"/requirements/{rid}\"" not in row and "not in this run" in row  # no link to a page that is not there


def test_one_framework_at_a_time_and_the_latest_run(recorded):
    client, run = recorded["client"], recorded["run"]
    met_fw, _ = recorded["met"]
    one = client.get(f"/runs/{run}/frameworks", params={"framework": met_fw.id}).text
    assert set(_rows(one)) == {i.id for i in met_fw.items}
    res = client.get("/frameworks")
    assert res.status_code == 303 and res.headers["location"] == f"/runs/{run}/frameworks"
    assert client.get("/runs/no-such-run/frameworks").status_code == 404


def test_the_page_is_escaped_and_has_no_inline_script_or_style(recorded):
    client, run = recorded["client"], recorded["run"]
    page = client.get(f"/runs/{run}/frameworks").text
    assert "Failing &lt;img src=x onerror=alert(1)&gt;" in page and h.PAYLOAD not in page
    assert "<img" not in page and "<script" not in page and "style=" not in page


def test_the_latest_frameworks_page_is_of_a_whole_plan_run_not_a_later_slice(tmp_path):
    whole = [_outcome(n, f"SIM-REQ-{n:05d}", Status.PASS, "whole") for n in range(2)]
    with h.recorded(tmp_path / "store", [(whole, "/srv/trading", None),
                                         (whole[:1], "/srv/trading", None, ["SIM-REQ-00000"])]) as (store, (full, _)):
        res = h.signed_in(store).get("/frameworks")
    assert res.status_code == 303 and res.headers["location"] == f"/runs/{full}/frameworks"
