"""The dashboard's view of the scheduler: a run started by `golive schedule run-now` is listed as
scheduled (and filtered as such), and the schedules page shows each job's next fire times in its
time zone, its last run from the ledger, and a paused job as paused."""
from __future__ import annotations

import re
import shutil
import warnings

import pytest

import servehelpers as h

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory):
    from golive.ledger.store import Store
    from golive.plan import load
    from golive.schedule.jobs import plan_jobs

    root = tmp_path_factory.mktemp("serve-schedules")
    ws, store_dir = root / "ws", root / "store"
    shutil.copytree(h.REFERENCE, ws)
    jobs = [j for j in plan_jobs(load(None)) if j.kind == "checks"]
    ran, paused = jobs[0], jobs[1]
    manual = h.invoke("run", "--target", str(ws), "--store", str(store_dir), "--only", "PRE-PIPE-01", "-q")
    assert manual.exit_code in (0, 1), manual.output
    res = h.invoke("schedule", "run-now", ran.id, "--target", str(ws), "--store", str(store_dir), "--no-reports")
    assert res.exit_code in (0, 1), res.output
    res = h.invoke("schedule", "pause", paused.id, "--store", str(store_dir), "--no-reports")
    assert res.exit_code == 0, res.output
    password = h.PASSWORDS["vic"]
    assert h.invoke("users", "add", "vic", "--role", "viewer", "--store", str(store_dir),
                    input=f"{password}\n{password}\n").exit_code == 0
    store = Store(store_dir)
    yield store, ran, paused
    store.close()


@pytest.fixture
def client(scheduled):
    from golive.serve.app import create_app

    c = TestClient(create_app(scheduled[0], secret_key="s" * 40), follow_redirects=False)
    h.login(c, "vic")
    return c


def _run_ids(html: str) -> list[str]:
    return re.findall(r'href="/runs/([0-9a-f-]{36})"', html)


def test_scheduled_and_manual_runs_are_told_apart(client, scheduled):
    store, ran, _ = scheduled
    every = _run_ids(client.get("/runs").text)
    assert len(every) == 2
    only_scheduled = _run_ids(client.get("/runs", params={"trigger": "scheduled"}).text)
    only_manual = _run_ids(client.get("/runs", params={"trigger": "manual"}).text)
    assert len(only_scheduled) == len(only_manual) == 1 and set(only_scheduled + only_manual) == set(every)
    from golive.schedule.runlog import RunLog
    last = RunLog(store, "test").last_runs()[ran.id]
    assert only_scheduled == [last["run_id"]]


def test_schedules_page_shows_next_fires_last_run_and_pauses(client, scheduled):
    store, ran, paused = scheduled
    page = client.get("/schedules").text
    rows = {re.search(r'<td class="mono">([^<]+)</td>', r).group(1): r
            for r in re.findall(r'<tr class="job[^"]*">.*?</tr>', page, re.S)}
    assert ran.id in rows and paused.id in rows
    from golive.schedule.runlog import RunLog
    last = RunLog(store, "test").last_runs()[ran.id]
    assert last["run_id"][:8] in rows[ran.id] and f"exit {last['exit_code']}" in rows[ran.id]
    assert "1 run recorded" in rows[ran.id]
    assert "<strong>paused</strong>" in rows[paused.id] and 'class="job paused"' in rows[paused.id]
    zone_names = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d (E[SD]T|UTC)", rows[ran.id])
    assert len(zone_names) == 3  # three next fire times, in the schedule's zone
