"""``golive schedule start|list|run-now|pause|resume``: the plan's schedules, run continuously.

Mounted by ``golive.cli`` with ``from golive.schedule.cli import schedule``. ``start`` blocks
(one active instance per evidence store; a second one waits as a standby and takes over when
the first dies). The other commands work beside a running scheduler: they read and change the
job store in the evidence database, which the running instance re-reads on every heartbeat.
"""
from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click

STORE_OPTS = [
    click.option("--plan", "plan_path", type=click.Path(path_type=Path), default=None,
                 help="plan.yaml or its folder (default: the packaged plan)."),
    click.option("--store", "store_dir", envvar="GOLIVE_STORE", default=None,
                 type=click.Path(file_okay=False, path_type=Path),
                 help="Evidence store folder (env GOLIVE_STORE) [default: ./evidence]."),
    click.option("--db", "db_url", envvar="GOLIVE_DB", default=None, metavar="URL",
                 help="SQLAlchemy URL of the evidence database (env GOLIVE_DB) [default: SQLite in the store]."),
    click.option("--no-reports", is_flag=True, help="Do not schedule the daily/weekly/monthly reports."),
]
RUN_OPTS = [
    click.option("-t", "--target", "target_dir", type=click.Path(path_type=Path), default=Path("."),
                 show_default=True, help="The trading workspace the scheduled checks audit."),
    click.option("--tailoring", "tailoring_path", type=click.Path(path_type=Path), default=None,
                 help="Per-environment overrides applied to every scheduled run."),
    click.option("-j", "--jobs", type=click.IntRange(1, 64), default=2, show_default=True,
                 help="Checks in parallel within one scheduled run."),
    click.option("--timeout", type=click.FloatRange(min=0.1), default=300.0, show_default=True,
                 help="Seconds before a check is abandoned as an error."),
    click.option("--reports", "reports_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Where scheduled reports go [default: <store>/reports]."),
    click.option("--report-format", type=click.Choice(["pdf", "html", "md", "json"]), default="pdf", show_default=True),
]


def local_time(iso_utc: str, tz: str) -> str:
    """A recorded UTC time as the schedule's exchange reads it: ``2026-12-03 09:30 EST (-05:00)``."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).astimezone(ZoneInfo(tz))
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()} ({offset[:3]}:{offset[3:]})"


def _apply(opts):
    def decorate(f):
        for opt in reversed(opts):
            f = opt(f)
        return f
    return decorate


def _existing_store(store_dir, db_url) -> None:
    """Commands that only read or adjust the schedule never create a store: a typo in --store
    would otherwise start a second, empty history."""
    import os

    from golive.cli import InputError
    from golive.ledger.store import DB_ENV, DEFAULT_STORE, STORE_ENV

    if db_url or os.environ.get(DB_ENV):
        return
    path = Path(store_dir or os.environ.get(STORE_ENV) or Path.cwd() / DEFAULT_STORE)
    if not (path / "ledger.db").exists():
        raise InputError(f"no evidence store at {path} (no ledger.db): give --store DIR (or GOLIVE_STORE) of an "
                         "existing store, or create one with `golive run` or `golive schedule start`")


def _existing_target(target_dir) -> None:
    from golive.cli import InputError

    if not Path(target_dir).is_dir():
        raise InputError(f"target workspace {target_dir} does not exist: pass --target DIR with the trading "
                         "repository")


def _service(plan_path, store_dir, db_url, no_reports, runner=None, settings=None, manual=True, must_exist=False):
    from golive.cli import InputError, _host, _load_plan
    from golive.ledger import StoreError, open_store
    from golive.schedule.service import SchedulerService
    from golive.schedule.triggers import ScheduleError

    if must_exist:
        _existing_store(store_dir, db_url)
    plan = _load_plan(plan_path, _host())
    try:
        store = open_store(store_dir, db_url)
    except StoreError as exc:
        raise InputError(f"evidence store: {exc}")
    try:
        return SchedulerService(store, plan, runner or _no_runner, settings, manual=manual, reports=not no_reports)
    except ScheduleError as exc:
        raise InputError(str(exc))


def _no_runner(spec, when):
    raise RuntimeError("this command does not run checks")


def _runner(target_dir, plan_path, store_dir, db_url, tailoring_path, jobs, timeout, reports_dir, report_format):
    from golive.schedule.slices import GoliveSliceRunner
    return GoliveSliceRunner(target_dir, plan_path, store_dir, db_url, tailoring_path, jobs, timeout, reports_dir,
                             report_format)


@click.group()
def schedule() -> None:
    """Run the plan's checks and reports on their schedules (APScheduler, job store in the
    evidence database; every run, skip and misfire is recorded in the ledger)."""


@schedule.command()
@_apply(STORE_OPTS + RUN_OPTS)
@click.option("--misfire-grace", type=click.FloatRange(min=1), default=300.0, show_default=True,
              help="Seconds a run may start late before it counts as a misfire (recorded, not run).")
@click.option("--coalesce/--no-coalesce", default=True, show_default=True,
              help="Run several missed fires of one job once (else each, up to 12 at start-up).")
@click.option("--max-instances", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Concurrent runs of one job; an overlap beyond this is recorded as a misfire.")
@click.option("--catch-up/--no-catch-up", default=True, show_default=True,
              help="At start, run checks that fell due while no scheduler was running.")
@click.option("--workers", type=click.IntRange(1, 32), default=2, show_default=True, help="Jobs running at once.")
@click.option("--lease", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="Seconds without a heartbeat after which a standby instance takes over.")
def start(plan_path, store_dir, db_url, no_reports, target_dir, tailoring_path, jobs, timeout, reports_dir,
          report_format, misfire_grace, coalesce, max_instances, catch_up, workers, lease) -> None:
    """Start the scheduler in the foreground (Ctrl-C or SIGTERM stops it cleanly).

    If another instance is active on the same store, wait as a standby and take over when it
    stops renewing its lease. Exit code 0 when stopped, 1 when the lease was lost.
    """
    from golive.cli import err, out
    from golive.schedule.service import ScheduleSettings

    _existing_target(target_dir)
    settings = ScheduleSettings(misfire_grace_s=misfire_grace, coalesce=coalesce, max_instances=max_instances,
                                catch_up=catch_up, workers=workers, lease_s=lease)
    runner = _runner(target_dir, plan_path, store_dir, db_url, tailoring_path, jobs, timeout, reports_dir, report_format)
    service = _service(plan_path, store_dir, db_url, no_reports, runner, settings, manual=False)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    def on_wait(holder):
        err.print(f"another scheduler is active on this store ({holder.owner if holder else 'unknown'}); "
                  f"waiting as a standby (lease {lease:g} s)", highlight=False)

    def on_active(changes):
        err.print(f"scheduler active ({service.lock.owner}): {len(service.specs)} job(s); "
                  + ", ".join(f"{k} {len(v)}" for k, v in changes.items()), highlight=False)
        for row in service.listing():
            out.print(f"  {row['id']:<20} next {row['next_run'] or 'paused'}  {row['title']}", highlight=False,
                      soft_wrap=True)
        sys.stdout.flush()

    why = service.run_forever(stop, on_wait=on_wait, on_active=on_active)
    err.print(f"scheduler {why}", highlight=False)
    sys.exit(1 if why == "lock lost" else 0)


@schedule.command(name="list")
@_apply(STORE_OPTS)
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
def list_jobs(plan_path, store_dir, db_url, no_reports, as_json) -> None:
    """List the plan's scheduled jobs: trigger, next run, paused, last run (from the ledger)."""
    from rich.table import Table

    from golive.cli import out

    service = _service(plan_path, store_dir, db_url, no_reports, must_exist=True)
    service.open()
    try:
        rows = service.listing()
        holder = service.lock.holder()
    finally:
        service.shutdown()
    if as_json:
        click.echo(json.dumps({"active_instance": holder.owner if holder and not holder.expired(service.lock.clock())
                               else None, "jobs": rows}, indent=2))
        return
    table = Table(title="golive schedule", title_justify="left")
    for col in ("job", "what", "trigger", "next run", "last run", "exit"):
        table.add_column(col)
    for r in rows:
        nxt = "paused" if r["paused"] else (local_time(r["next_run"], r["timezone"]) if r["next_run"] else "not started yet")
        table.add_row(r["id"], r["title"], r["trigger"], nxt, local_time(r["last_run"], r["timezone"]) if r["last_run"] else "-",
                      str(r["last_exit_code"] if r["last_exit_code"] is not None else "-"))
    out.print(table)
    active = holder and not holder.expired(service.lock.clock())
    out.print(f"active scheduler: {holder.owner if active else 'none'}", highlight=False)


@schedule.command(name="run-now")
@click.argument("job")
@_apply(STORE_OPTS + RUN_OPTS)
def run_now(job, plan_path, store_dir, db_url, no_reports, target_dir, tailoring_path, jobs, timeout, reports_dir,
            report_format) -> None:
    """Run JOB (an id from `golive schedule list`, or a unique prefix) now, in this process.

    The run is recorded like a scheduled one. Exit code: the run's (0 verified, 1 gaps)."""
    from golive.cli import out
    from golive.schedule.service import ScheduleServiceError

    _existing_target(target_dir)
    runner = _runner(target_dir, plan_path, store_dir, db_url, tailoring_path, jobs, timeout, reports_dir, report_format)
    service = _service(plan_path, store_dir, db_url, no_reports, runner)
    try:
        entry = service.run_now(job)
    except ScheduleServiceError as exc:
        from golive.cli import InputError
        raise InputError(str(exc))
    if entry["event"] == "error":
        from golive.cli import InputError
        raise InputError(f"{entry['job_id']}: {entry['reason']}")
    s = entry.get("summary") or {}
    verdict = f"verdict {s['verdict']} " if s.get("verdict") else ""
    out.print(f"{entry['job_id']}: run {entry.get('run_id')} exit {entry.get('exit_code')} {verdict}"
              f"statuses {s.get('by_status')}" + (f" report {entry['report']}" if entry.get("report") else ""),
              highlight=False, soft_wrap=True)
    sys.exit(int(entry.get("exit_code") or 0))


def _pause_or_resume(action: str, job, plan_path, store_dir, db_url, no_reports) -> None:
    from golive.cli import InputError, out
    from golive.schedule.service import ScheduleServiceError

    service = _service(plan_path, store_dir, db_url, no_reports, must_exist=True)
    service.open()
    try:
        spec = service._spec(job)  # noqa: SLF001 -- resolves a prefix with a clear error
        getattr(service, action)(spec.id)
    except ScheduleServiceError as exc:
        raise InputError(str(exc))
    finally:
        service.shutdown()
    out.print(f"{spec.id}: {action}d", highlight=False)


@schedule.command()
@click.argument("job")
@_apply(STORE_OPTS)
def pause(job, plan_path, store_dir, db_url, no_reports) -> None:
    """Pause JOB: it does not fire (nor count as missed) until resumed."""
    _pause_or_resume("pause", job, plan_path, store_dir, db_url, no_reports)


@schedule.command()
@click.argument("job")
@_apply(STORE_OPTS)
def resume(job, plan_path, store_dir, db_url, no_reports) -> None:
    """Resume a paused JOB from its next fire time."""
    _pause_or_resume("resume", job, plan_path, store_dir, db_url, no_reports)
