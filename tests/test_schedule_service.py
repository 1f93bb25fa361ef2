"""The whole scheduler under a manual clock and a synchronous executor: what fires, what is
recorded in the ledger (runs, skips, misfires), catch-up after downtime, reconciliation of an
edited plan, pause/resume -- on SQLite, and on PostgreSQL when ``GOLIVE_TEST_PG_URL`` is set."""
from __future__ import annotations

import copy
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from golive.ledger import Store, verify_store
from golive.schedule import ManualClock, ScheduleSettings, SchedulerService
from golive.schedule.service import JOB_TABLE

from pg import db_url  # noqa: F401 -- the parametrised back-end fixture

NY = ZoneInfo("America/New_York")
QUARTER = "checks@dc0560d744"   # LIVE-REL-07, PRE-FEED-03: */15 9-16 XNYS (market hours)
EVENING = "checks@0bf0f686c3"   # AUD-06, BIZ-06: 18:00 XNYS


@pytest.fixture(scope="module")
def plan():
    from golive.plan import load_validated
    from golive.pluginmanager import create_host

    return load_validated(None, create_host().checks())


class Recorder:
    """Stands in for the slice runner: remembers what ran and when it was due."""

    def __init__(self):
        self.calls: list[tuple[str, datetime]] = []

    def __call__(self, spec, scheduled_for):
        self.calls.append((spec.id, scheduled_for))
        return {"run_id": f"r{len(self.calls)}", "exit_code": 0}

    def days(self, job_id):
        return Counter(t.astimezone(NY).date() for j, t in self.calls if j == job_id)


@pytest.fixture
def store(tmp_path, db_url):  # noqa: F811
    s = Store(tmp_path / "evidence", db_url)
    yield s
    s.close()


def service(store, plan, runner, clock, **settings):
    return SchedulerService(store, plan, runner, ScheduleSettings(**settings), clock=clock, manual=True)


def tick_until(svc, clock, end, step=timedelta(minutes=5)):
    while clock() < end:
        clock.advance(seconds=step.total_seconds())
        svc.tick()


def events(svc, name=None):
    return [e for e in svc.runlog.entries() if name is None or e["event"] == name]


def test_market_hours_jobs_fire_on_trading_days_only_and_reports_on_the_right_day(store, plan):
    clock, runner = ManualClock(datetime(2026, 11, 25, 8, 0, tzinfo=NY)), Recorder()
    svc = service(store, plan, runner, clock)
    changes = svc.activate()
    assert len(changes["added"]) == 7
    tick_until(svc, clock, datetime(2026, 11, 30, 19, 0, tzinfo=NY))
    svc.shutdown()

    assert runner.days(QUARTER) == {date(2026, 11, 25): 26, date(2026, 11, 27): 14, date(2026, 11, 30): 26}
    assert runner.days(EVENING) == {date(2026, 11, 25): 1, date(2026, 11, 27): 1, date(2026, 11, 30): 1}
    assert set(runner.days("report@daily")) == {date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30)}
    assert runner.days("report@weekly") == {date(2026, 11, 27): 1}
    assert runner.days("report@monthly") == {date(2026, 11, 30): 1}  # November's last session
    # every run and every skip is in the ledger, and the ledger still verifies
    assert len(events(svc, "run")) == len(runner.calls)
    skips = [e for e in events(svc, "skip") if e["job_id"] == QUARTER]
    assert any("2026-11-26 is not a XNYS trading session" in e["reason"] for e in skips)
    assert any("half day" in e["reason"] for e in skips)
    assert verify_store(store).ok


def test_a_late_tick_is_a_recorded_misfire_not_a_run(store, plan):
    clock, runner = ManualClock(datetime(2026, 11, 30, 17, 55, tzinfo=NY)), Recorder()
    svc = service(store, plan, runner, clock, misfire_grace_s=60)
    svc.activate()
    clock.set(datetime(2026, 11, 30, 18, 5, tzinfo=NY))  # 5 minutes late, grace 1 minute
    svc.tick()
    svc.shutdown()
    assert not [c for c in runner.calls if c[0] == EVENING]
    missed = [e for e in events(svc, "misfire") if e["job_id"] == EVENING]
    assert missed and missed[0]["scheduled_for"] == "2026-11-30T23:00:00+00:00"
    assert "misfire grace (60 s)" in missed[0]["reason"]


@pytest.mark.parametrize("coalesce, expected_runs", [(True, 1), (False, 3)])
def test_downtime_is_recorded_and_caught_up_at_start(store, plan, coalesce, expected_runs):
    clock, runner = ManualClock(datetime(2026, 11, 23, 19, 0, tzinfo=NY)), Recorder()
    first = service(store, plan, runner, clock, coalesce=coalesce)
    first.activate()
    first.shutdown()
    clock.set(datetime(2026, 11, 27, 19, 0, tzinfo=NY))  # down Tue, Wed, (Thu holiday), Fri
    second = service(store, plan, runner, clock, coalesce=coalesce)
    second.activate()
    evening = [t.astimezone(NY) for j, t in runner.calls if j == EVENING]
    assert len(evening) == expected_runs
    assert evening[-1] == datetime(2026, 11, 27, 18, 0, tzinfo=NY)
    missed = [e for e in events(second, "misfire") if e["job_id"] == EVENING]
    assert missed[0]["count"] == 3 and missed[0]["reason"] == "due while no scheduler was running"
    assert any(e["job_id"] == EVENING and "2026-11-26" in e["reason"] for e in events(second, "skip"))
    # APScheduler itself does not replay the same misses after catch-up
    before = len(runner.calls)
    second.tick()
    second.shutdown()
    assert len(runner.calls) == before


def edited(plan):
    """The plan with RISK-05's schedule removed, PRE-FEED-07 dropped from its group and a new
    hourly schedule on PRE-PIPE-04."""
    new = copy.deepcopy(plan)
    new.requirement("RISK-05").schedule = None
    new.requirement("PRE-FEED-07").schedule = None
    new.requirement("PRE-PIPE-04").schedule = {"interval": "1h", "timezone": "UTC"}
    return new


def test_an_edited_plan_is_reconciled_on_restart_without_duplicates(store, plan):
    clock, runner = ManualClock(datetime(2026, 11, 24, 12, 0, tzinfo=NY)), Recorder()
    first = service(store, plan, runner, clock)
    first.activate()
    first.pause("report@weekly")
    first.shutdown()
    again = service(store, plan, runner, clock)
    assert again.activate() == {"added": [], "changed": [], "removed": [], "unchanged": list(again.specs)}
    again.shutdown()

    new_plan = edited(plan)
    restarted = service(store, new_plan, runner, clock)
    changes = restarted.activate()
    assert changes["removed"] == ["checks@fc2f5b1c7f"]  # RISK-05 only
    assert changes["changed"] == ["checks@343f7062f7"]  # LIVE-LIMITED-06 alone now
    assert len(changes["added"]) == 1 and changes["added"][0].startswith("checks@")
    stored = restarted.stored_jobs()
    assert set(stored) == set(restarted.specs)
    assert stored["checks@343f7062f7"].kwargs["digest"] == restarted.specs["checks@343f7062f7"].digest
    assert stored["report@weekly"].next_run_time is None  # a pause survives restarts
    with store.read() as conn:
        ids = [r[0] for r in conn.execute(text(f"SELECT id FROM {JOB_TABLE}"))]
    assert sorted(ids) == sorted(restarted.specs)  # one row per job, no duplicates
    tick_until(restarted, clock, datetime(2026, 11, 24, 14, 0, tzinfo=NY), step=timedelta(minutes=15))
    restarted.shutdown()
    assert not runner.days("checks@fc2f5b1c7f")
    assert sum(runner.days(changes["added"][0]).values()) == 2  # 13:00 and 14:00 New York
    recorded = events(restarted, "reconcile")[-1]
    assert recorded["removed"] == ["checks@fc2f5b1c7f"] and recorded["changed"] == ["checks@343f7062f7"]


def test_paused_jobs_do_not_fire_and_resume_from_the_next_fire(store, plan):
    clock, runner = ManualClock(datetime(2026, 11, 30, 17, 0, tzinfo=NY)), Recorder()
    svc = service(store, plan, runner, clock)
    svc.activate()
    svc.pause(EVENING)
    tick_until(svc, clock, datetime(2026, 11, 30, 19, 0, tzinfo=NY))
    assert not runner.days(EVENING)
    svc.resume(EVENING)
    tick_until(svc, clock, datetime(2026, 12, 1, 19, 0, tzinfo=NY), step=timedelta(minutes=30))
    svc.shutdown()
    assert runner.days(EVENING) == {date(2026, 12, 1): 1}
    assert [e["event"] for e in events(svc) if e.get("job_id") == EVENING and e["event"] in ("paused", "resumed")] \
        == ["paused", "resumed"]


def test_a_failing_run_is_recorded_and_the_scheduler_goes_on(store, plan):
    clock = ManualClock(datetime(2026, 11, 30, 17, 55, tzinfo=NY))

    def broken(spec, scheduled_for):
        raise RuntimeError(f"target unreachable for {spec.id}")

    svc = service(store, plan, broken, clock)
    svc.activate()
    clock.set(datetime(2026, 11, 30, 18, 0, 30, tzinfo=NY))
    svc.tick()
    svc.shutdown()
    errors = [e for e in events(svc, "error") if e["job_id"] == EVENING]
    assert errors and "target unreachable" in errors[0]["reason"]
    assert errors[0]["scheduled_for"] == "2026-11-30T23:00:00+00:00"


def test_an_overlapping_run_is_a_recorded_misfire_on_the_threaded_scheduler(store, plan):
    """Real threads and the wall clock: a 1 s interval job whose first run blocks; the next
    fire finds it still running (max_instances=1) and is recorded, not run twice."""
    import threading
    import time

    busy, release, started = threading.Event(), threading.Event(), []
    overlapping = copy.deepcopy(plan)
    overlapping.requirement("PRE-PIPE-04").schedule = {"interval": 1}

    def slow(spec, scheduled_for):
        started.append(scheduled_for)
        busy.set()
        release.wait(30)
        return {"run_id": "slow", "exit_code": 0}

    svc = SchedulerService(store, overlapping, slow, ScheduleSettings(max_instances=1, workers=2), reports=False)
    svc.activate()
    try:
        assert busy.wait(30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any("max_instances=1" in e.get("reason", "") for e in events(svc, "misfire")):
                break
            time.sleep(0.1)
        else:
            pytest.fail("no overlap recorded within 30 s")
        assert len(started) == 1
    finally:
        release.set()
        svc.shutdown()
