"""The dashboard's run figures are the CLI's: failing = fail + error on the effective status,
partial apart, waived apart. A run of the degraded demo (RISK-06 partial, LIVE-LIMITED-06 fail)
is repeated after RISK-06 is waived; the runs list, the run page and ``golive history`` agree."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from golive.ledger.store import Store
from golive.serve.runindex import RunIndex

import servehelpers as h
from people import co_approve, enrol

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def waived_partial(tmp_path_factory):
    from golive import demo

    root = tmp_path_factory.mktemp("counts")
    workspace, store = root / "ws", root / "store"
    demo.build(workspace, "degraded", 7)
    docs = []
    for number in range(2):
        out = root / f"run{number}.json"
        res = h.invoke("run", "--target", str(workspace), "--store", str(store), "--only", "RISK-06,LIVE-LIMITED-06",
                       "-q", "--json", str(out))
        assert res.exit_code in (0, 1), res.output
        docs.append(json.loads(out.read_text()))
        if number == 0:
            enrol(h.invoke, "Ada Risk", "--store", str(store))
            soon = (date.today() + timedelta(days=30)).isoformat()
            res = h.invoke("waive", "RISK-06", "--approver", "Ada Risk", "--reason", "fix scheduled",
                           "--expires", soon, "--store", str(store), "--target", str(workspace))
            assert res.exit_code == 0, res.output
            co_approve(h.invoke, res.output, "RISK-06", "--store", str(store), "--target", str(workspace))  # P1: a second person
    res = h.invoke("users", "add", "vic", "--role", "viewer", "--store", str(store),
                   input=f"{h.PASSWORDS['vic']}\n{h.PASSWORDS['vic']}\n")
    assert res.exit_code == 0, res.output
    return store, docs


def _runs_row(html: str, run_id: str) -> dict[str, str]:
    row = next(r for r in re.findall(r'<tr class="run-row">(.*?)</tr>', html, re.S) if f"/runs/{run_id}" in r)
    return {name: re.search(rf'<td class="{name}">(\d+)</td>', row).group(1) for name in ("failing", "partial", "waived")}


def test_runs_list_run_page_and_history_agree_on_a_waived_partial(waived_partial):
    store_path, (before, after) = waived_partial
    # what golive run recorded: the partial first, then waived (never failing)
    assert [r["status"] for r in after["results"] if r["requirement_id"] == "RISK-06"] == ["waived"]
    expected = {before["run"]["id"]: (1, 1, 0), after["run"]["id"]: (1, 0, 1)}
    assert {d["run"]["id"]: tuple(d["summary"]["figures"][k] for k in ("failing", "partial", "waived"))
            for d in (before, after)} == expected

    history = json.loads(h.invoke("history", "--store", str(store_path), "--json").output)
    assert {row["run"]: row["failing"] for row in history} == {k: v[0] for k, v in expected.items()}

    store = Store(store_path)
    try:
        client = h.signed_in(store)
        listing = client.get("/runs").text
        for run_id, (failing, partial, waived) in expected.items():
            assert _runs_row(listing, run_id) == {"failing": str(failing), "partial": str(partial),
                                                  "waived": str(waived)}
            page = client.get(f"/runs/{run_id}").text
            for name, count in (("failing", failing), ("partial", partial), ("waived", waived)):
                cell = re.search(rf'<tr class="figure-{name}"><td>\w+</td><td>(\d+) of', page)
                assert cell and int(cell.group(1)) == count, (name, run_id)
    finally:
        store.close()


def test_an_index_from_before_the_counts_is_rebuilt(waived_partial):
    """A ``serve_runs`` table without the partial/waived columns (an earlier version's) is
    dropped and re-derived: the counts are the document's, not zeros."""
    store_path, (_, after) = waived_partial
    store = Store(store_path)
    try:
        RunIndex(store).refresh()
        with store.write() as conn:
            conn.execute(text("ALTER TABLE serve_runs DROP COLUMN waived"))
            conn.execute(text("ALTER TABLE serve_runs DROP COLUMN partial"))
        run = RunIndex(store).get(after["run"]["id"])
        assert (run.failing, run.partial, run.waived) == (1, 0, 1)
    finally:
        store.close()
