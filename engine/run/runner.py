"""The runner: every selected requirement through its check, isolated, in parallel.

One run = collect the target's tests (traceability hooks), link them to requirements, run
each requirement's check in a worker thread with a timeout, judge the result against the
plan's thresholds (``golive.run.verdict``), and hand every outcome to the observer hooks (the
ledger, progress display) from the main thread, in completion order.

Isolation: an exception -- even a ``BaseException`` such as pyo3's ``PanicException`` -- or a
timeout in one check becomes an ``error`` outcome naming the requirement; the run goes on.
A timed-out check's thread cannot be killed in Python: it is abandoned (daemon thread) and its
late result ignored, and its worker slot is freed so the run does not stall.
"""
from __future__ import annotations

import logging
import re
import socket
import threading
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import golive.plugins as golive_plugins
from golive import __version__
from golive.model import (
    CheckContext, CheckResult, CheckSpec, Outcome, Plan, Requirement, Status, Target, TestRecord,
)
from golive.pluginmanager import PluginHost
from golive.run import background
from golive.run.selection import select
from golive.plan.tailoring import Tailoring
from golive.run.params import ReadTracker, unread_params
from golive.run.verdict import cap_by_tests, judge, tests_detail
from golive.run.linking import collect_tests, link_reasons, link_tests, suggest  # noqa: F401 - re-exported

log = logging.getLogger("golive.run.runner")


def _quiet_library_deprecations() -> None:
    """exchange-calendars 4.13 on pandas 3.1 warns on every calendar it builds; sessions.py's
    filter for it loses to databento, whose import puts "always show DeprecationWarning" in front
    of every filter, and to other threads' catch_warnings. So databento is imported first and the
    filter put in front of it, before any check thread starts."""
    import databento  # noqa: F401

    warnings.filterwarnings("ignore", message=r"Series\.values returning an ndarray that drops timezone",
                            category=DeprecationWarning)


DEFAULT_TIMEOUT_S = 300.0
DEFAULT_CHECK = "traceability.linked_tests"  # judges requirements that have no check block
BACKGROUND_SUGGEST_FROM = 2000  # test records from which ranking runs in a child process


@dataclass
class RunOptions:
    jobs: int = 4
    only: tuple[str, ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S
    tailoring: Tailoring | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    # signed attestations from the ledger, by requirement id (payloads as recorded)
    attestations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # where checks run: None = threads in this process; else an object with
    # run_jobs(jobs, width, finish) -> iterable of outcomes (golive.executors.dask.DaskExecutor)
    executor: Any = None
    # the checks' notion of "now" (CheckContext.clock); None = the wall clock. A fixed clock
    # makes two runs comparable (ages of logs and backups otherwise differ by the elapsed time)
    clock: Callable[[], datetime] | None = None
    # the run is recorded in the signed evidence ledger (the CLI's default; --no-evidence: False).
    # Only a recorded run can be READY (golive.run.readiness)
    signed: bool = False
    # the attestations and waivers in scope for this target and plan (golive.ledger.scope),
    # recorded in the run-started entry so ledger views apply the same ones
    authored: dict[str, Any] | None = None


@dataclass
class RunReport:
    """Everything one run produced; ``golive.results.build_document`` turns it into JSON."""

    run: dict[str, Any]
    plan: Plan
    target: Target
    outcomes: list[Outcome]
    tests: list[TestRecord]
    additional_tests: list[TestRecord]
    warnings: list[str]
    selected: int
    # suggested (unconfirmed) links from link recovery (``traceability.suggest.Suggestion``);
    # never counted as implemented
    suggestions: list = field(default_factory=list)
    # confirmed links and why: requirement id -> {test id: "marker X" | "map ..." | "tests glob G" ...}
    covered_via: dict[str, dict[str, str]] = field(default_factory=dict)
    signed: bool = False  # RunOptions.signed
    plugins: dict[str, Any] = field(default_factory=dict)  # results.plugin_list of the run's host
    tailoring_summary: dict[str, Any] | None = None  # Tailoring.summary() of the run's tailoring
    # the results document of a recorded run, built before its run-finished entry (which
    # records the digest of what it says beyond the results: results.extras_sha256)
    document: dict[str, Any] | None = None

    @property
    def figures(self) -> dict[str, Any]:
        """``summary.figures`` of this run (golive.run.readiness), before waivers."""
        from golive.run import readiness

        return readiness.figures([readiness.outcome_row(o) for o in self.outcomes], self.selected)

    @property
    def verdict(self) -> dict[str, Any]:
        """``summary.verdict`` of this run against the plan's readiness policy, before waivers
        (the results document recomputes it after applying the ledger's waivers)."""
        from golive.run import readiness

        return readiness.verdict([readiness.outcome_row(o) for o in self.outcomes],
                                 readiness.Policy.from_plan(self.plan.readiness, self.plan.signoff),
                                 selection=self.run.get("selection") or (),
                                 plan_requirements=len(self.plan.requirements), signed=self.signed)


class _WarningCollector(logging.Handler):
    """Collects warnings that plugins log during a run, so the results show them."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class _Job:
    requirement: Requirement
    spec: CheckSpec | None
    ctx: CheckContext
    timeout_s: float
    started: float = 0.0
    result: CheckResult | None = None
    crash: str = ""
    done: threading.Event = field(default_factory=threading.Event)


def _execute(job: _Job) -> None:
    try:
        res = job.spec.func(job.requirement, job.ctx)
        if not isinstance(res, CheckResult):
            raise TypeError(f"check returned {type(res).__name__}, not CheckResult")
        job.result = res
    except BaseException as exc:  # noqa: BLE001 - pyo3 panics derive from BaseException
        if isinstance(exc, KeyboardInterrupt):
            raise
        job.crash = _crash_text(exc)
    finally:
        job.done.set()


# frames of installed libraries and the standard library, as opposed to golive's and the team's code
_LIBRARY_PATH = re.compile(r"[/\\](site-packages|dist-packages|lib[/\\]python[0-9.]*)[/\\]")
_OWN_CODE = tuple(str(Path(p).resolve()) for p in (Path(__file__).parent.parent, *golive_plugins.__path__))


def _crash_text(exc: BaseException) -> str:
    """``KeyError: 'signal_id' at common.py:44 (in pandas generic.py:1708)``: what went wrong,
    the innermost frame of golive or plugin code (where to fix it) and the library frame that
    raised, when that is elsewhere."""
    tb = traceback.extract_tb(exc.__traceback__)
    if not tb:
        return f"{type(exc).__name__}: {exc}"
    ours = [f for f in tb if f.filename.startswith(_OWN_CODE) or not _LIBRARY_PATH.search(f.filename)]
    at = ours[-1] if ours else tb[-1]
    where = f" at {Path(at.filename).name}:{at.lineno}"
    if at is not tb[-1]:
        raised = tb[-1]
        library = Path(raised.filename).parts
        package = library[library.index("site-packages") + 1] if "site-packages" in library else ""
        where += f" (in {package + ' ' if package else ''}{Path(raised.filename).name}:{raised.lineno})"
    return f"{type(exc).__name__}: {exc}{where}"


def _check_for(req: Requirement, checks: dict[str, CheckSpec]) -> tuple[CheckSpec | None, dict]:
    params = dict(req.check.params) if req.check else {}
    key = f"{req.check.plugin}.{req.check.name}" if req.check else DEFAULT_CHECK
    return checks.get(key), params


def run_plan(
    plan: Plan,
    target: Target,
    host: PluginHost,
    options: RunOptions | None = None,
    on_outcome: Callable[[Outcome, int, int], None] | None = None,
) -> RunReport:
    """Run the plan against the target; ``on_outcome(outcome, done, total)`` drives progress."""
    options = options or RunOptions()
    _quiet_library_deprecations()
    collector = _WarningCollector()
    golive_log = logging.getLogger("golive")
    golive_log.addHandler(collector)
    try:
        return _run(plan, target, host, options, on_outcome, collector)
    finally:
        golive_log.removeHandler(collector)


def _run(plan, target, host, options, on_outcome, collector) -> RunReport:
    if options.tailoring:
        plan = options.tailoring.apply(plan)
    started = datetime.now(timezone.utc)
    run: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "started": started.isoformat(timespec="seconds"),
        "finished": None,
        "golive_version": __version__,
        "host": socket.gethostname(),
        "target": str(target.root),
        "plan": {"id": plan.id, "version": plan.version, "digest": plan.digest,
                 "requirements": len(plan.requirements)},
        "selection": list(options.only),
        "tailoring_digest": options.tailoring.digest if options.tailoring else None,
        "jobs": options.jobs,
    }
    if options.executor is not None:
        run["executor"] = getattr(options.executor, "name", type(options.executor).__name__)
    run["provenance"] = _provenance(target)
    if options.authored is not None:
        run["authored"] = options.authored
    _notify(host, "golive_run_started", run=run)

    records, problems = collect_tests(host, target)
    links, additional = link_tests(plan, records, target)
    # advisory ranking on the second core while the checks run (a large repository: ~1 s);
    # its imports happen here first, so the forked child never waits on an import lock
    import bm25s  # noqa: F401
    import golive.plugins.traceability.suggest  # noqa: F401
    suggestions_done = background.start(lambda: suggest(plan, records, target, links),
                                        in_child=len(records) >= BACKGROUND_SUGGEST_FROM)
    via = link_reasons(plan, target, links)
    checks = host.checks()
    selected = select(plan, options.only)
    tailoring = options.tailoring

    outcomes: list[Outcome] = []
    jobs: list[_Job] = []
    for req in selected:
        covering = links.get(req.id, [])
        na = tailoring.not_applicable(req.id) if tailoring else None
        if na is not None:
            outcomes.append(Outcome(req, Status.SKIPPED, reason=f"not applicable (tailoring): {na}",
                                    implemented=bool(covering), covered_by=[t.id for t in covering],
                                    not_applicable=na))
            continue
        if req.manual:
            outcome = manual_outcome(req, options.attestations.get(req.id, []), started, [t.id for t in covering])
            if covering:  # a failing linked test caps an attested requirement too
                outcome.details.setdefault("tests", tests_detail(covering))
                cap_by_tests(outcome, covering)
            outcomes.append(outcome)
            continue
        spec, params = _check_for(req, checks)
        if spec is None:
            key = f"{req.check.plugin}.{req.check.name}" if req.check else DEFAULT_CHECK
            outcomes.append(Outcome(req, Status.ERROR, covered_by=[t.id for t in covering],
                                    implemented=bool(covering),
                                    reason=f"check {key} is not provided by any installed plugin (see golive plugins)"))
            continue
        timeout = req.check.timeout_s if req.check and req.check.timeout_s else options.timeout_s
        ctx = CheckContext(target=target, params=ReadTracker(params), settings={**target.settings, **options.settings},
                           log=logging.getLogger(f"golive.check.{spec.key}"), tests=covering, all_tests=records,
                           **({"clock": options.clock} if options.clock else {}))
        jobs.append(_Job(req, spec, ctx, timeout))

    total = len(outcomes) + len(jobs)
    done = 0
    for o in outcomes:  # outcomes known without running anything
        done += 1
        _emit(host, run, o, on_outcome, done, total)

    for outcome in run_jobs(jobs, max(1, options.jobs), options.executor):
        outcome = _apply_tailoring_flags(outcome, tailoring)
        add_supporting(outcome, options.attestations.get(outcome.requirement.id, []))
        outcomes.append(outcome)
        done += 1
        _emit(host, run, outcome, on_outcome, done, total)

    suggestions, problem = suggestions_done()
    if problem:
        problems.append(problem)
    order = {r.id: i for i, r in enumerate(plan.requirements)}
    outcomes.sort(key=lambda o: order[o.requirement.id])
    from golive.results import build_document, extras_sha256, plugin_list, test_to_dict, tests_sha256
    run["tests_sha256"] = tests_sha256([test_to_dict(t) for t in records])  # the ledger records it
    run["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    warnings = problems + collector.messages
    if options.authored:  # waivers and attestations of this target the run could not apply, and why
        warnings += [a["message"] for a in options.authored.get("set_aside") or () if a.get("message")]
    report = RunReport(run=run, plan=plan, target=target, outcomes=outcomes, tests=records,
                       additional_tests=additional, warnings=warnings, selected=len(selected),
                       suggestions=suggestions, covered_via=via, signed=options.signed,
                       plugins=plugin_list(host), tailoring_summary=tailoring.summary() if tailoring else None)
    if options.signed:  # the run-finished entry binds the rest of the document too (golive.ledger.bound)
        report.document = build_document(report)
        run["extras_sha256"] = extras_sha256(report.document)
        run["extras_warnings"] = len(report.document["warnings"])
        report.document["run"].update(extras_sha256=run["extras_sha256"], extras_warnings=run["extras_warnings"])
    _notify(host, "golive_run_finished", run=run, outcomes=outcomes)
    return report


def _provenance(target: Target) -> dict[str, Any]:
    """Who ran it, where, on which commit of the target; never fails a run (no git, odd
    permissions): the problem is recorded instead."""
    try:
        from golive.run.provenance import provenance, target_identity

        return {**provenance(target.root), "target_identity": target_identity(target.root, target.settings)}
    except Exception as exc:  # noqa: BLE001 - provenance is descriptive; the run must go on
        return {"error": f"provenance unavailable ({type(exc).__name__}: {exc})"}


def manual_outcome(req: Requirement, attestations: list[dict], now: datetime, covering: list[str]) -> Outcome:
    """A manual requirement is verified only by an unexpired signed attestation (the latest wins);
    without one it is ``missing``, never ``pass``."""
    today = now.date().isoformat()
    valid = [a for a in attestations if not a.get("expires") or a["expires"] >= today]
    if valid:
        a = valid[-1]
        who = a.get("attested_by") or a.get("author_key_id", "")[:16]
        role = f" ({a['role']})" if a.get("role") else ""
        until = f", valid until {a['expires']}" if a.get("expires") else ""
        return Outcome(req, Status.PASS, implemented=True, covered_by=covering, checker="attestation",
                       reason=f"attested by {who}{role} on {str(a.get('time', ''))[:10]}{until}: {a.get('statement', '')}",
                       details={"attestation": attestation_detail(a)})
    reason = "manual requirement: verified only by a signed attestation (golive attest REQ --by NAME --note ...)"
    if attestations:
        last = attestations[-1]
        reason = f"the attestation by {last.get('attested_by') or 'its author'} expired on {last.get('expires')}; {reason}"
    return Outcome(req, Status.MISSING, implemented=False, covered_by=covering, reason=reason)


def attestation_detail(a: dict) -> dict:
    """What a result records of a signed attestation: who, the memo, when, its entry, and the files
    attached to it with their digests (the stored copies stay in the ledger's objects/)."""
    detail = {k: a.get(k) for k in ("attested_by", "role", "statement", "time", "expires", "seq", "author_key_id")}
    files = [{k: f.get(k) for k in ("path", "sha256", "size")} for f in a.get("blobs") or () if isinstance(f, dict)]
    if files:
        detail["files"] = files
    return detail


def add_supporting(outcome: Outcome, attestations: list[dict]) -> Outcome:
    """List the supporting attestations of a requirement its check verifies (they never change
    its status) in the result, so every report shows their memos and files."""
    supporting = [attestation_detail(a) for a in attestations if a.get("supporting")]
    if supporting:
        outcome.details["supporting_attestations"] = supporting
    return outcome


def run_jobs(jobs: list[_Job], width: int, executor: Any = None) -> Iterable[Outcome]:
    """Yield outcomes as checks finish, on ``executor`` or (None) in local threads."""
    if executor is None:
        return _run_jobs(jobs, width)
    return executor.run_jobs(jobs, width, _finish)


def _run_jobs(jobs: list[_Job], width: int) -> Iterable[Outcome]:
    """Yield outcomes as checks finish, at most ``width`` running at once."""
    pending = list(reversed(jobs))
    running: list[_Job] = []
    while pending or running:
        while pending and len(running) < width:
            job = pending.pop()
            job.started = time.monotonic()
            threading.Thread(target=_execute, args=(job,), daemon=True,
                             name=f"golive-check-{job.requirement.id}").start()
            running.append(job)
        time.sleep(0.002)
        still: list[_Job] = []
        for job in running:
            elapsed = time.monotonic() - job.started
            if job.done.is_set():
                yield _finish(job, elapsed)
            elif elapsed > job.timeout_s:
                job.crash = f"timed out after {job.timeout_s:g} s (the check was abandoned)"
                yield _finish(job, elapsed, timed_out=True)
            else:
                still.append(job)
        running = still


def _finish(job: _Job, elapsed: float, timed_out: bool = False) -> Outcome:
    req = job.requirement
    covering = [t.id for t in job.ctx.tests]
    if timed_out or job.crash:
        outcome = Outcome(req, Status.ERROR, reason=f"{job.spec.key} on {req.id}: {job.crash}",
                          implemented=bool(covering), covered_by=covering,
                          artifacts=list(job.ctx.artifacts))
    else:
        try:
            outcome = judge(req, job.result, job.ctx.artifacts, covering, evaluate_thresholds=req.check is not None,
                            tests=job.ctx.tests, now=job.ctx.clock())
        except Exception as exc:  # noqa: BLE001 -- judging one requirement must never end the whole run
            log.debug("judging %s failed", req.id, exc_info=True)
            return _unjudged(job, elapsed, covering, exc)
        ignored = unread_params(job.ctx.params)
        if ignored and outcome.status in (Status.PASS, Status.FAIL, Status.PARTIAL):
            # a verdict that ignored part of what the plan asked for is not about the plan
            outcome.reason = (f"{job.spec.key} ignored the param(s) {', '.join(ignored)} of {req.id} "
                              f"(it would have said {outcome.status.value}: {outcome.reason}); remove "
                              "them from the plan or tailoring, or fix the check to use them")
            outcome.status = Status.ERROR
    outcome.duration_s = round(elapsed, 6)
    outcome.checker = job.spec.key
    outcome.checker_version = job.spec.version
    return outcome


def _unjudged(job: _Job, elapsed: float, covering: list[str], exc: Exception) -> Outcome:
    """The ``error`` outcome of a requirement whose check ran but whose result could not be
    judged (a value the thresholds cannot compare, a malformed observation)."""
    req = job.requirement
    outcome = Outcome(req, Status.ERROR, implemented=bool(covering), covered_by=covering,
                      artifacts=list(job.ctx.artifacts),
                      reason=f"{job.spec.key} on {req.id}: the result could not be judged against the plan "
                             f"({_crash_text(exc)}); check the requirement's thresholds")
    if job.result is not None:
        outcome.metrics = dict(job.result.metrics or {})
    outcome.duration_s = round(elapsed, 6)
    outcome.checker = job.spec.key
    outcome.checker_version = job.spec.version
    return outcome


def _apply_tailoring_flags(outcome: Outcome, tailoring: Tailoring | None) -> Outcome:
    if tailoring:
        for tr in outcome.thresholds:
            tr.loosened = tailoring.loosened(outcome.requirement.id, tr.metric)
    return outcome


def _emit(host, run, outcome, on_outcome, done, total) -> None:
    _notify(host, "golive_result", outcome=outcome, run=run)
    if on_outcome:
        on_outcome(outcome, done, total)


def _notify(host: PluginHost, hook_name: str, **kwargs) -> None:
    """Call an observer hook implementation by implementation: observers must not break runs,
    except the ledger, whose failure must stop the run (evidence would be silently lost)."""
    for impl in getattr(host.pm.hook, hook_name).get_hookimpls():
        try:
            impl.function(**kwargs)
        except Exception as exc:
            name = host.pm.get_name(impl.plugin)
            if getattr(impl.plugin, "critical", False):
                raise
            log.warning("observer %s failed in %s: %s", name, hook_name, exc)
