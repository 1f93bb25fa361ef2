"""The scheduler service: golive's small interface over APScheduler 3.x.

:class:`SchedulerService` owns one APScheduler instance whose SQLAlchemy job store lives in
the evidence database (table ``golive_schedule_jobs``). ``activate`` reconciles the stored
jobs with the plan (added, changed, removed; ids are stable so nothing is duplicated), catches
up overdue checks from golive's own run log, then lets APScheduler run. Every run, calendar
skip, misfire and error is appended to the ledger (:mod:`golive.schedule.runlog`).
Misfire grace, coalescing and max instances are explicit :class:`ScheduleSettings` (APScheduler's
1 s default grace would turn any hiccup into a miss). ``run_forever`` adds the single-instance
lease (:mod:`golive.schedule.lock`). ``manual=True`` builds a non-threaded scheduler with a
synchronous executor, driven by :meth:`tick` under a controllable clock (tests, simulations).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from golive.ledger.store import Store
from golive.schedule import jobs as jobmod
from golive.schedule.clock import Clock, apscheduler_time, wall_clock
from golive.schedule.jobs import JobSpec, plan_jobs
from golive.schedule.lock import SchedulerLock
from golive.schedule.runlog import RunLog, iso
from golive.schedule.triggers import fire_times, skipped_between

JOB_TABLE = "golive_schedule_jobs"
log = logging.getLogger("golive.schedule")

# (spec, scheduled_for) -> {"run_id", "exit_code", "summary", "report"}
SliceRunner = Callable[[JobSpec, "datetime | None"], dict]


class ScheduleServiceError(RuntimeError):
    """A scheduler operation cannot be done (unknown job, lock held elsewhere)."""


@dataclass(frozen=True)
class ScheduleSettings:
    misfire_grace_s: float = 300.0  # a run later than this is a misfire, recorded, not run
    coalesce: bool = True           # several missed fires of one job run once
    max_instances: int = 1          # a job never overlaps itself; an overlap is recorded
    catch_up: bool = True           # at start-up, run checks that fell due while stopped
    max_catch_up_runs: int = 12     # without coalescing, at most this many catch-up runs per job
    workers: int = 2                # jobs running at once (threads)
    lease_s: float = 30.0           # single-instance lease; renewed every lease/3


class _ManualScheduler(BaseScheduler):
    """No timer thread: jobs are processed only when :meth:`SchedulerService.tick` says so."""

    def _start_timer(self, wait_seconds):  # noqa: ANN001
        pass

    def wakeup(self):
        pass

    def shutdown(self, wait=True):  # noqa: ANN001
        super().shutdown(wait)


class SchedulerService:
    def __init__(self, store: Store, plan: Any, runner: SliceRunner, settings: ScheduleSettings | None = None,
                 clock: Clock | None = None, manual: bool = False, reports: bool = True) -> None:
        self.store, self.plan, self.runner = store, plan, runner
        self.settings = settings or ScheduleSettings()
        self.manual = manual
        self.clock = clock or wall_clock
        self.lock = SchedulerLock(store, self.settings.lease_s)
        from golive.notify import watch_misfires  # misfires are also notified, as [notify] says
        self.runlog = watch_misfires(RunLog(store, self.lock.owner, self.clock), getattr(runner, "target_dir", None))
        self.specs = {s.id: s for s in plan_jobs(plan, reports)}
        self.triggers = {job_id: spec.trigger() for job_id, spec in self.specs.items()}
        self._last_fire: dict[str, datetime] = {}
        self._fire_lock = threading.Lock()
        executor = jobmod.SynchronousExecutor() if manual else jobmod.TimedThreadPoolExecutor(self.settings.workers)
        scheduler_cls = _ManualScheduler if manual else BackgroundScheduler
        self.scheduler: BaseScheduler = scheduler_cls(
            jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE)},
            executors={"default": executor}, timezone="UTC",
            job_defaults={"misfire_grace_time": self.settings.misfire_grace_s, "coalesce": self.settings.coalesce,
                          "max_instances": self.settings.max_instances})
        self.scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES)
        self.active = False

    # -- the clock ------------------------------------------------------------------------------
    def _timed(self):
        from contextlib import nullcontext
        return apscheduler_time(self.clock) if self.manual else nullcontext()

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        """Start APScheduler paused (job store readable, nothing runs) -- for admin commands."""
        with self._timed():
            self.scheduler.start(paused=True)

    def activate(self) -> dict[str, list[str]]:
        """Reconcile, catch up, then run jobs. The caller holds the lock."""
        jobmod.set_dispatcher(self._dispatch)
        self.open()
        changes = self.reconcile()
        self.catch_up()
        with self._timed():
            self.scheduler.resume()
        self.active = True
        return changes

    def tick(self) -> None:
        """Process due jobs once at the clock's current time (manual mode)."""
        if not self.manual:
            raise ScheduleServiceError("tick() drives a manual scheduler; a running one ticks by itself")
        with self._timed():
            self.scheduler._process_jobs()  # noqa: SLF001 -- APScheduler 3.x's one-pass entry point

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.active:
            jobmod.set_dispatcher(None)
        self.active = False

    def run_forever(self, stop: threading.Event, on_wait: Callable[[Any], None] | None = None,
                    on_active: Callable[[dict], None] | None = None) -> str:
        """Wait for the lease, activate, renew the lease until ``stop`` is set; returns why it ended
        (``stopped`` or ``lock lost``)."""
        if not self.lock.wait_acquire(stop, on_wait=on_wait):
            return "stopped"
        self.runlog.record("lock", action="acquired", lease_s=self.settings.lease_s)
        lost = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(stop, lost), name="golive-schedule-lease", daemon=True)
        beat.start()
        try:
            changes = self.activate()
            if on_active:
                on_active(changes)
            stop.wait()
        finally:
            stop.set()
            beat.join()
            self.shutdown()
            if not lost.is_set():
                self.lock.release()
        return "lock lost" if lost.is_set() else "stopped"

    def _heartbeat(self, stop: threading.Event, lost: threading.Event) -> None:
        while not stop.wait(self.settings.lease_s / 3):
            try:
                held = self.lock.try_acquire()
            except Exception as exc:  # noqa: BLE001 -- a database hiccup: retry until the lease runs out
                log.warning("scheduler lease renewal failed: %s", exc)
                continue
            if not held:
                log.error("scheduler lease taken over by %s; stopping", self.lock.holder())
                lost.set()
                stop.set()
                return
            if self.scheduler.running:
                self.scheduler.wakeup()  # pick up pause/resume done by other processes

    # -- reconciliation ---------------------------------------------------------------------------
    def stored_jobs(self) -> dict[str, Any]:
        return {j.id: j for j in self.scheduler.get_jobs()
                if j.id.startswith((jobmod.CHECK_PREFIX, jobmod.REPORT_PREFIX))}

    def reconcile(self) -> dict[str, list[str]]:
        """Make the job store match the plan; record what changed."""
        stored = self.stored_jobs()
        changes: dict[str, list[str]] = {"added": [], "changed": [], "removed": [], "unchanged": []}
        with self._timed():
            for job_id, spec in self.specs.items():
                job = stored.get(job_id)
                if job is not None and job.kwargs.get("digest") == spec.digest:
                    changes["unchanged"].append(job_id)
                    continue
                paused = job is not None and job.next_run_time is None
                extra = {"next_run_time": None} if paused else {}
                self.scheduler.add_job(jobmod.fire, trigger=self.triggers[job_id], id=job_id, name=spec.title,
                                       kwargs={"job_id": job_id, "digest": spec.digest}, replace_existing=True, **extra)
                changes["changed" if job is not None else "added"].append(job_id)
            for job_id in stored.keys() - self.specs.keys():
                self.scheduler.remove_job(job_id)
                changes["removed"].append(job_id)
        for job_id in changes["added"] + changes["changed"]:
            spec = self.specs[job_id]
            self.runlog.record("registered", job_id, kind=spec.kind, digest=spec.digest,
                               schedule=dict(spec.schedule), requirements=list(spec.requirements), period=spec.period)
        if any(changes[k] for k in ("added", "changed", "removed")):
            self.runlog.record("reconcile", plan={"id": self.plan.id, "version": str(self.plan.version),
                                                  "digest": self.plan.digest},
                               **{k: sorted(v) for k, v in changes.items() if k != "unchanged"})
        return changes

    def catch_up(self) -> list[dict]:
        """Record skips and misfires since each job's last accounted fire; run overdue jobs once
        (coalesced) or each missed time (up to ``max_catch_up_runs``); re-arm APScheduler's next
        run from now so it does not replay the same misses."""
        now = self.clock()
        self._last_fire = self.runlog.last_fires()
        done: list[dict] = []
        stored = self.stored_jobs()
        for job_id, spec in self.specs.items():
            job = stored.get(job_id)
            if job is None or job.next_run_time is None:
                continue  # paused: not due, nothing missed
            since = self._last_fire.get(job_id)
            if since is not None and self.settings.catch_up:
                self._record_skips(job_id, since, now)
                missed = fire_times(self.triggers[job_id], since, now, limit=10_000)
                if missed:
                    self.runlog.record("misfire", job_id, scheduled_for=iso(missed[-1]), first=iso(missed[0]),
                                       count=len(missed), reason="due while no scheduler was running")
                    to_run = missed[-1:] if self.settings.coalesce else missed[-self.settings.max_catch_up_runs:]
                    for moment in to_run:
                        done.append(self._execute(spec, moment, how="catch-up"))
            with self._timed():
                self.scheduler.modify_job(job_id, next_run_time=self.triggers[job_id].get_next_fire_time(None, now))
        return done

    # -- running a job ----------------------------------------------------------------------------
    def _dispatch(self, job_id: str, digest: str, scheduled_for: datetime | None) -> dict | None:
        spec = self.specs.get(job_id)
        if spec is None or spec.digest != digest:
            self.runlog.record("error", job_id, scheduled_for=iso(scheduled_for),
                               reason="the stored job does not match the loaded plan; restart the scheduler to reconcile")
            return None
        moment = scheduled_for or self.clock()
        since = self._last_fire.get(job_id)
        if since is not None:
            self._record_skips(job_id, since, moment)
        return self._execute(spec, moment, how="scheduled")

    def _record_skips(self, job_id: str, since: datetime, until: datetime) -> None:
        by_reason: dict[str, list[datetime]] = {}
        for skip in skipped_between(self.triggers[job_id], since, until):
            by_reason.setdefault(skip.reason, []).append(skip.time)
        for reason, times in by_reason.items():
            self.runlog.record("skip", job_id, reason=reason, count=len(times), first=iso(times[0]), until=iso(times[-1]))

    def _execute(self, spec: JobSpec, scheduled_for: datetime, how: str) -> dict:
        with self._fire_lock:
            previous = self._last_fire.get(spec.id)
            if previous is None or scheduled_for > previous:
                self._last_fire[spec.id] = scheduled_for
        started = self.clock()
        try:
            outcome = self.runner(spec, scheduled_for)
        except Exception as exc:  # noqa: BLE001 -- a failed run is evidence too; the scheduler goes on
            # the reason goes to the run log and the console; the traceback only when debugging
            log.error("scheduled job %s failed: %s", spec.id, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            return self.runlog.record("error", spec.id, scheduled_for=iso(scheduled_for), trigger=how,
                                      reason=f"{exc.__class__.__name__}: {exc}"[:2000])
        return self.runlog.record("run", spec.id, scheduled_for=iso(scheduled_for), trigger=how, kind=spec.kind,
                                  started=iso(started), requirements=list(spec.requirements), period=spec.period,
                                  **{k: outcome.get(k) for k in ("run_id", "exit_code", "summary", "report")})

    def _on_event(self, event: Any) -> None:
        scheduled = iso(getattr(event, "scheduled_run_time", None))
        if event.code == EVENT_JOB_MISSED:
            self.runlog.record("misfire", event.job_id, scheduled_for=scheduled, count=1,
                               reason=f"started later than the misfire grace ({self.settings.misfire_grace_s:g} s)")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.runlog.record("misfire", event.job_id, scheduled_for=scheduled, count=1,
                               reason=f"the previous run was still going (max_instances={self.settings.max_instances})")
        elif event.code == EVENT_JOB_ERROR:
            self.runlog.record("error", event.job_id, scheduled_for=scheduled, reason=repr(event.exception)[:2000])

    # -- admin ------------------------------------------------------------------------------------
    def run_now(self, job_id: str) -> dict:
        spec = self._spec(job_id)
        return self._execute(spec, self.clock(), how="run-now")

    def pause(self, job_id: str) -> None:
        self._change(job_id, self.scheduler.pause_job)
        self.runlog.record("paused", job_id)

    def resume(self, job_id: str) -> None:
        self._change(job_id, self.scheduler.resume_job)
        self.runlog.record("resumed", job_id)

    def _change(self, job_id: str, change) -> None:
        """Pause or resume; before the first ``start`` the job store is empty, so the plan's jobs
        are registered first (reconcile) -- pausing a job before it ever ran is legitimate."""
        self._spec(job_id)
        if job_id not in self.stored_jobs():
            self.reconcile()
        with self._timed():
            try:
                change(job_id)
            except JobLookupError:
                raise ScheduleServiceError(f"job {job_id} could not be registered in the job store") from None

    def _spec(self, job_id: str) -> JobSpec:
        matches = [j for j in self.specs if j == job_id] or [j for j in self.specs if j.startswith(job_id)]
        if len(matches) != 1:
            known = ", ".join(self.specs) or "none (the plan has no schedule blocks)"
            raise ScheduleServiceError(f"{'no' if not matches else 'more than one'} scheduled job matches "
                                       f"{job_id!r}; jobs: {known}")
        return self.specs[matches[0]]

    def listing(self) -> list[dict]:
        """One row per planned job: schedule, next run, paused, last run from the run log."""
        stored = self.stored_jobs() if self.scheduler.running else {}
        last = self.runlog.last_runs()
        rows = []
        for job_id, spec in self.specs.items():
            job = stored.get(job_id)
            rows.append({"id": job_id, "kind": spec.kind, "title": spec.title, "trigger": str(self.triggers[job_id]),
                         "stored": job is not None, "paused": job is not None and job.next_run_time is None,
                         "next_run": iso(job.next_run_time) if job is not None else None,
                         "last_run": last.get(job_id, {}).get("scheduled_for"),
                         "last_exit_code": last.get(job_id, {}).get("exit_code"),
                         "timezone": str(spec.schedule.get("timezone") or "UTC")})
        return rows
