"""What the scheduler runs: job specs derived from the plan, and how APScheduler calls them.

**Check jobs.** Requirements whose ``schedule`` blocks are identical share one job, which
runs exactly those requirements (like ``golive run --only ID,ID,...``). The job id is
``checks@`` plus a digest of the schedule, so an unchanged schedule keeps its id across plan
edits; the spec digest (schedule + requirement ids) tells reconciliation what changed.

**Report jobs.** Each reporting requirement (tag ``reporting``, e.g. BIZ-06 "daily/weekly/
monthly reporting") with a schedule yields three report jobs: ``report@daily`` on its own
schedule, ``report@weekly`` and ``report@monthly`` on the last firing day of each week and
month (with an exchange calendar: the last trading session, e.g. 2026-11-30 for November
2026). A report job runs the whole plan and renders the report with ``golive.report``.

APScheduler stores jobs by reference (``golive.schedule.jobs:fire``) with plain string
arguments; the running :class:`~golive.schedule.service.SchedulerService` registers itself as
the dispatcher, so no closure or lambda is pickled and no database URL enters the job store.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.triggers.base import BaseTrigger

from golive.schedule.triggers import PeriodEndTrigger, ScheduleError, build_trigger

CHECK_PREFIX, REPORT_PREFIX = "checks@", "report@"
REPORT_TAG = "reporting"
SCHEDULED_FOR: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("golive_scheduled_for", default=None)


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: ``kind`` is ``checks`` or ``report``."""

    id: str
    kind: str
    schedule: Mapping[str, Any]
    requirements: tuple[str, ...] = ()
    period: str | None = None  # report jobs: daily | weekly | monthly
    sources: tuple[str, ...] = field(default=())  # requirement ids whose schedule defined it

    @property
    def digest(self) -> str:
        body = {"kind": self.kind, "schedule": dict(self.schedule), "requirements": list(self.requirements),
                "period": self.period}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def title(self) -> str:
        if self.kind == "report":
            return f"{self.period} report"
        return f"{len(self.requirements)} check(s): {', '.join(self.requirements)}"

    def trigger(self) -> BaseTrigger:
        where = f"schedule of {', '.join(self.sources or self.requirements)}"
        base = build_trigger(self.schedule, where)
        if self.period in ("weekly", "monthly"):
            return PeriodEndTrigger(base, self.period, str(self.schedule.get("timezone") or "UTC"))
        return base


def _schedule_key(schedule: Mapping[str, Any]) -> str:
    normal = {k: (str(v).strip() if k != "interval" else v) for k, v in sorted(schedule.items())}
    return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()[:10]


def plan_jobs(plan: Any, reports: bool = True) -> list[JobSpec]:
    """The jobs the plan asks for, in a stable order. Raises :class:`ScheduleError` naming
    the requirement whose schedule is unusable."""
    groups: dict[str, list[Any]] = {}
    for req in plan.requirements:
        if req.schedule:
            groups.setdefault(_schedule_key(req.schedule), []).append(req)
    specs = []
    for key, reqs in sorted(groups.items(), key=lambda kv: kv[1][0].id):
        ids = tuple(sorted(r.id for r in reqs))
        spec = JobSpec(CHECK_PREFIX + key, "checks", dict(reqs[0].schedule), ids, sources=ids)
        spec.trigger()  # validate now: the error names the requirements
        specs.append(spec)
    if reports:
        reporting = [r for r in plan.requirements if REPORT_TAG in (r.tags or ()) and r.schedule]
        if reporting:
            first = sorted(reporting, key=lambda r: r.id)[0]
            for period in ("daily", "weekly", "monthly"):
                spec = JobSpec(REPORT_PREFIX + period, "report", dict(first.schedule), period=period,
                               sources=(first.id,))
                spec.trigger()
                specs.append(spec)
    return specs


# -- how APScheduler calls a job -------------------------------------------------------------
Dispatcher = Callable[[str, str, "datetime | None"], Any]
_dispatcher: Dispatcher | None = None


def set_dispatcher(dispatch: Dispatcher | None) -> None:
    """Install (or clear) the running service's job handler for this process."""
    global _dispatcher
    _dispatcher = dispatch


def fire(job_id: str, digest: str) -> Any:
    """The callable stored in the job store. ``digest`` identifies the spec the job was built
    from, so a job left over from an older plan is refused instead of running the wrong slice."""
    if _dispatcher is None:
        raise ScheduleError(f"job {job_id} fired in a process without a running golive scheduler")
    return _dispatcher(job_id, digest, SCHEDULED_FOR.get())


def run_job_with_time(job, jobstore_alias, run_times, logger_name):
    """APScheduler's ``run_job``, one run time at a time, exposing the scheduled time to ``fire``."""
    events = []
    for run_time in run_times:
        token = SCHEDULED_FOR.set(run_time)
        try:
            events += run_job(job, jobstore_alias, [run_time], logger_name)
        finally:
            SCHEDULED_FOR.reset(token)
    return events


class TimedThreadPoolExecutor(ThreadPoolExecutor):
    """The production executor: a thread pool whose jobs know their scheduled time."""

    def _do_submit_job(self, job, run_times):
        def callback(f):
            exc = f.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, f.result())

        self._pool.submit(run_job_with_time, job, job._jobstore_alias, run_times, self._logger.name) \
            .add_done_callback(callback)


class SynchronousExecutor(BaseExecutor):
    """Runs each job in the calling thread (manual ticks in tests: deterministic, no sleeping)."""

    def _do_submit_job(self, job, run_times):
        try:
            events = run_job_with_time(job, job._jobstore_alias, run_times, self._logger.name)
        except BaseException as exc:  # noqa: BLE001 -- mirrors the pool executors' error path
            self._run_job_error(job.id, exc, exc.__traceback__)
        else:
            self._run_job_success(job.id, events)


__all__ = ["CHECK_PREFIX", "JobSpec", "REPORT_PREFIX", "ScheduleError", "SynchronousExecutor",
           "TimedThreadPoolExecutor", "fire", "plan_jobs", "set_dispatcher"]
