"""``golive schedule`` commands (invoked through click's test runner) and a scheduled slice run
through the real ``golive run`` path on the demo workspace: evidence in the ledger, the report
rendered for a report job."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from golive.ledger import open_store, verify_store
from golive.ledger.show import run_results
from golive.schedule import GoliveSliceRunner, ManualClock, SchedulerService
from golive.schedule.cli import schedule
from golive.schedule.runlog import RunLog

NY = ZoneInfo("America/New_York")
EVENING = "checks@343f7062f7"  # LIVE-LIMITED-06, PRE-FEED-07 at 17:30 XNYS


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from golive import demo

    path = tmp_path_factory.mktemp("schedule-demo") / "workspace"
    demo.build(path, "healthy", 7)
    return path


@pytest.fixture(scope="module")
def plan():
    from golive.plan import load_validated
    from golive.pluginmanager import create_host

    return load_validated(None, create_host().checks())


def invoke(*args):
    result = CliRunner().invoke(schedule, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_a_scheduled_slice_runs_through_golive_run_and_lands_in_the_ledger(tmp_path, workspace, plan):
    store_dir = tmp_path / "evidence"
    runner = GoliveSliceRunner(workspace, store_dir=store_dir, jobs=2, reports_dir=tmp_path / "reports",
                               report_format="md")
    store = open_store(store_dir)
    clock = ManualClock(datetime(2026, 11, 30, 17, 0, tzinfo=NY))
    svc = SchedulerService(store, plan, runner, clock=clock, manual=True)
    svc.activate()
    clock.set(datetime(2026, 11, 30, 17, 30, 5, tzinfo=NY))
    svc.tick()
    svc.shutdown()
    run = [e for e in RunLog(store, "t").entries() if e["event"] == "run" and e["job_id"] == EVENING][0]
    assert run["scheduled_for"] == "2026-11-30T22:30:00+00:00" and run["exit_code"] == 0
    _, results = run_results(store, run["run_id"])
    assert sorted(r["requirement_id"] for r in results) == ["LIVE-LIMITED-06", "PRE-FEED-07"]
    assert verify_store(store).ok
    assert (store_dir / "runs").is_dir()  # kept in the run history like any golive run

    report_job = svc.specs["report@monthly"]
    path = runner.report_path(report_job, datetime(2026, 11, 30, 18, 0, tzinfo=NY))
    assert path == tmp_path / "reports" / "monthly" / "report-2026-11.md"
    store.close()


def test_schedule_commands_list_pause_resume_and_run_now(tmp_path, workspace, plan):
    store_dir = str(tmp_path / "evidence")
    open_store(store_dir).close()  # an existing store (as after a first `golive run`)
    listed = json.loads(invoke("list", "--store", store_dir, "--json").output)
    assert {j["id"] for j in listed["jobs"]} >= {EVENING, "report@daily", "report@weekly", "report@monthly"}
    assert listed["active_instance"] is None and not any(j["stored"] for j in listed["jobs"])

    # before the first `schedule start`: pausing registers the plan's jobs, then pauses the one
    early = invoke("pause", "report@daily", "--store", store_dir)
    assert early.exit_code == 0 and "report@daily: paused" in early.output
    jobs = {j["id"]: j for j in json.loads(invoke("list", "--store", store_dir, "--json").output)["jobs"]}
    assert jobs["report@daily"]["paused"] and jobs["report@weekly"]["stored"] and not jobs["report@weekly"]["paused"]
    assert invoke("resume", "report@daily", "--store", store_dir).exit_code == 0

    store = open_store(store_dir)  # what `schedule start` does first: put the jobs in the store
    svc = SchedulerService(store, plan, lambda spec, when: {}, manual=True)
    svc.activate()
    svc.shutdown()
    assert invoke("pause", "report@w", "--store", store_dir).exit_code == 0  # a unique prefix
    jobs = {j["id"]: j for j in json.loads(invoke("list", "--store", store_dir, "--json").output)["jobs"]}
    assert jobs["report@weekly"]["paused"] and not jobs["report@daily"]["paused"]
    assert invoke("resume", "report@weekly", "--store", store_dir).exit_code == 0
    jobs = {j["id"]: j for j in json.loads(invoke("list", "--store", store_dir, "--json").output)["jobs"]}
    assert not jobs["report@weekly"]["paused"] and jobs["report@weekly"]["next_run"]

    ran = invoke("run-now", EVENING, "--store", store_dir, "-t", str(workspace))
    assert ran.exit_code == 0 and "statuses {'pass': 2}" in " ".join(ran.output.split())
    assert "verdict INCOMPLETE" in ran.output  # a slice is a partial scope
    jobs = {j["id"]: j for j in json.loads(invoke("list", "--store", store_dir, "--json").output)["jobs"]}
    assert jobs[EVENING]["last_exit_code"] == 0

    unknown = invoke("run-now", "nope", "--store", store_dir, "-t", str(workspace))
    assert unknown.exit_code == 2 and "no scheduled job matches 'nope'" in unknown.output
    store.close()


def test_a_target_gone_under_the_scheduler_is_a_recorded_error_with_a_clear_message(tmp_path, plan):
    store = open_store(tmp_path / "evidence")
    runner = GoliveSliceRunner(tmp_path / "missing", store_dir=tmp_path / "evidence", jobs=1)
    svc = SchedulerService(store, plan, runner, manual=True)
    entry = svc.run_now(EVENING)
    assert entry["event"] == "error" and "does not exist" in entry["reason"]
    errors = [e for e in RunLog(store, "t").entries() if e["event"] == "error"]
    assert errors and errors[0]["job_id"] == EVENING and errors[0]["trigger"] == "run-now"
    store.close()


def test_admin_commands_never_create_a_store_and_never_print_tracebacks(tmp_path, workspace):
    typo = tmp_path / "evidnece"
    for args in (("list",), ("pause", "report@daily"), ("resume", "report@daily")):
        res = invoke(*args, "--store", str(typo))
        assert res.exit_code == 2 and "no evidence store at" in res.output and "--store" in res.output
        assert not typo.exists()
    store_dir = tmp_path / "evidence"
    res = invoke("run-now", "report@daily", "--store", str(store_dir), "-t", str(tmp_path / "nonexistent"))
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output
    assert not store_dir.exists()


def test_times_are_shown_in_the_exchange_time_zone_with_the_offset():
    from golive.schedule.cli import local_time

    assert local_time("2026-12-03T23:00:00+00:00", "America/New_York") == "2026-12-03 18:00 EST (-05:00)"
    assert local_time("2026-07-01T13:30:00+00:00", "America/New_York") == "2026-07-01 09:30 EDT (-04:00)"
    assert local_time("2026-12-03T22:00:00+00:00", "America/Chicago") == "2026-12-03 16:00 CST (-06:00)"
