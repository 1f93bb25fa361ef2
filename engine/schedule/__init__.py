"""golive's scheduler: plan ``schedule`` blocks and report calendars run continuously.

The rest of golive (and the CLI) uses only this interface; APScheduler 3.x stays behind it so a
later move (APScheduler 4, another scheduler) changes this package alone.

* :func:`build_trigger` -- a plan schedule block as a trigger (cron/interval, time zone,
  exchange calendar: market-hours jobs skip holidays and the closed part of half days);
* :func:`plan_jobs` -- the check and report jobs a plan asks for;
* :class:`SchedulerService` -- reconcile, catch up, run, pause, list; every run, skip and
  misfire is recorded in the evidence ledger;
* :class:`SchedulerLock` -- one active scheduler per evidence store;
* :class:`GoliveSliceRunner` -- what a job runs: the same path as ``golive run --only``.
See docs/scheduling.md.
"""
from golive.schedule.clock import ManualClock
from golive.schedule.jobs import JobSpec, plan_jobs
from golive.schedule.lock import SchedulerLock
from golive.schedule.runlog import RunLog
from golive.schedule.service import ScheduleServiceError, ScheduleSettings, SchedulerService
from golive.schedule.slices import GoliveSliceRunner, SliceRunError
from golive.schedule.triggers import CalendarTrigger, PeriodEndTrigger, ScheduleError, build_trigger, fire_times

__all__ = ["CalendarTrigger", "GoliveSliceRunner", "JobSpec", "ManualClock", "PeriodEndTrigger", "RunLog",
           "ScheduleError", "ScheduleServiceError", "ScheduleSettings", "SchedulerLock", "SchedulerService",
           "SliceRunError", "build_trigger", "fire_times", "plan_jobs"]
