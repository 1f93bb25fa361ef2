"""Page data for the schedules page: the plan's scheduled jobs, their next fire times in their
own (exchange) time zone, and what the scheduler recorded about each in the ledger.

Read-only: the jobs come from the packaged plan (what ``golive schedule`` runs by default) and
the triggers are evaluated here, without opening APScheduler's job store; paused/resumed, runs,
misfires, skips and errors come from the ``schedule`` entries of the ledger
(:mod:`golive.schedule.runlog`), which is where the scheduler records them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text

from golive.ledger.store import Store, payload_bytes

NEXT_FIRES = 3
LOOKAHEAD = timedelta(days=40)  # a monthly report fires within it


@dataclass(frozen=True)
class JobRow:
    id: str
    kind: str
    title: str
    trigger: str
    timezone: str
    next_fires: tuple[str, ...]
    paused: bool
    last_run: dict[str, Any] | None  # the latest ``run`` entry
    last_problem: dict[str, Any] | None  # the latest misfire, skip or error entry
    runs: int


@dataclass(frozen=True)
class SchedulesPage:
    jobs: tuple[JobRow, ...]
    problem: str  # why no jobs are shown ("" when they are)
    other_jobs: tuple[str, ...]  # job ids the ledger names that the plan no longer has


@lru_cache(maxsize=1)
def _planned() -> tuple[tuple, str]:
    """(jobs, problem) of the packaged plan, loaded once: it is installed data, not evidence."""
    from golive.plan import PlanError, load
    from golive.schedule.jobs import plan_jobs
    from golive.schedule.triggers import ScheduleError

    try:
        specs = plan_jobs(load(None))
        return tuple((spec, spec.trigger()) for spec in specs), ""
    except (PlanError, ScheduleError) as exc:
        return (), f"the packaged plan's schedules cannot be read: {exc}"


def schedules(store: Store, now: datetime | None = None) -> SchedulesPage:
    from golive.schedule.triggers import ScheduleError, fire_times

    now = now or datetime.now(timezone.utc)
    jobs = _latest_by_job(store)
    planned, problem = _planned()
    if problem:
        return SchedulesPage((), problem, tuple(sorted(jobs)))
    specs = [spec for spec, _ in planned]
    rows = []
    for spec, trigger in planned:
        mine = jobs.get(spec.id) or JobEvents()
        zone = str(spec.schedule.get("timezone") or "UTC")
        try:
            fires = tuple(t.strftime("%Y-%m-%d %H:%M %Z")
                          for t in fire_times(trigger, now, now + LOOKAHEAD, NEXT_FIRES))
        except (ScheduleError, ValueError) as exc:
            fires = (f"cannot be computed: {exc}",)
        rows.append(JobRow(id=spec.id, kind=spec.kind, title=spec.title, trigger=str(trigger), timezone=zone,
                           next_fires=fires, paused=bool(mine.switch) and mine.switch["event"] == "paused",
                           last_run=mine.last_run, last_problem=mine.last_problem, runs=mine.runs))
    return SchedulesPage(tuple(rows), "", tuple(sorted(set(jobs) - {s.id for s in specs})))


@dataclass
class JobEvents:
    """What the page needs of one job's schedule entries: the latest of each sort, and a count."""

    last_run: dict[str, Any] | None = None
    last_problem: dict[str, Any] | None = None
    switch: dict[str, Any] | None = None  # the latest paused/resumed
    runs: int = 0


def _latest_by_job(store: Store) -> dict[str, JobEvents]:
    """The ledger's schedule entries read newest first in batches, keeping per job only the
    latest run, problem and pause switch (memory per job, not per entry)."""
    found: dict[str, JobEvents] = {}
    with store.read() as conn:
        rows = conn.execution_options(yield_per=500).execute(text(
            "SELECT seq, payload FROM ledger_entries WHERE kind = 'schedule' ORDER BY seq DESC"))
        for seq, payload in rows:
            try:
                body = json.loads(payload_bytes(payload))
            except ValueError:
                continue  # verify names a damaged payload
            if not body.get("job_id"):
                continue
            job = found.setdefault(str(body["job_id"]), JobEvents())
            event = body.get("event")
            if event == "run":
                job.runs += 1
                job.last_run = job.last_run or {**body, "seq": seq}
            elif event in ("misfire", "skip", "error"):
                job.last_problem = job.last_problem or {**body, "seq": seq}
            elif event in ("paused", "resumed"):
                job.switch = job.switch or {**body, "seq": seq}
    return found
