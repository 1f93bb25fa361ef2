"""golive's pytest plugin: link the trading team's tests to go-live requirements.

Installed with golive (entry point ``pytest11``), so any pytest run sees it. It is inert until a
test uses the marker or one of its options is given:

``@pytest.mark.requirement("PRE-PIPE-04", ...)``
    Links a test to requirements (also on classes and in ``pytestmark``). Ids may be positional
    strings, lists of strings or ``ids=[...]``, exactly as golive's traceability scanner reads
    them from source. The marker is registered, so ``--strict-markers`` accepts it.

Collection check
    Every id is looked up in the plan -- the packaged plan, or ``--golive-plan PATH``
    (plan.yaml or its folder). An unknown id gives one :class:`GoliveRequirementWarning` per
    test naming the id (with the closest known ids); ``--golive-strict`` turns them into a
    usage error that stops the run before any test executes. Ids a requirement lists under
    ``covered_by.markers`` count as known.

``--golive-results FILE``
    Writes every test's outcome as JSON when the session ends. The document is a
    pytest-json-report-compatible file, so golive's traceability plugin reads it as evidence
    when it lies in the workspace's results folder (``test-results/``)::

        {"golive_pytest_results": "1", "created": 1764100000.0, "duration": 12.3,
         "exitcode": 0, "root": "/repo", "plan": {"id", "version", "digest", "path"} | null,
         "summary": {"passed": 3, "failed": 1, ...},
         "tests": [{"nodeid": "tests/test_x.py::test_y", "outcome": "passed",
                    "duration": 0.012, "path": "tests/test_x.py",
                    "source_sha256": "<sha256 of the test file>",
                    "requirements": ["PRE-PIPE-04"], "unknown_requirements": [],
                    "setup": {"outcome", "duration"}, "call": {...}, "teardown": {...}}]}

    ``outcome`` is ``passed``, ``failed``, ``error`` (setup/teardown failed), ``skipped``,
    ``xfailed`` or ``xpassed``; ``duration`` sums the three stages in seconds. With
    pytest-xdist, workers attach ids and digests to their reports and only the controller writes.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Iterable

import pytest

MARKER = "requirement"
RESULTS_FORMAT_VERSION = "1"
_PROPERTY = "golive"  # user_properties key: survives the trip from xdist workers to the controller


class GoliveRequirementWarning(pytest.PytestWarning):
    """A test names a requirement id that is not in the plan."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("golive", "golive: link tests to go-live requirements")
    group.addoption("--golive-results", metavar="FILE", default=None,
                    help="write every test's outcome, duration, source digest and requirement ids "
                         "as JSON to FILE (put it in the workspace's test-results/ folder)")
    group.addoption("--golive-plan", metavar="PATH", default=None,
                    help="plan.yaml (or its folder) whose requirement ids markers are checked against "
                         "[default: the plan packaged with golive]")
    group.addoption("--golive-strict", action="store_true", default=False,
                    help="unknown requirement ids in markers are errors, not warnings")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(*ids): links the test to go-live requirements by id (golive)")
    config.pluginmanager.register(_GoliveSession(config), "golive-session")


def marker_ids(mark: pytest.Mark) -> list[Any]:
    """The ids a ``requirement`` mark names, in order (positional, nested lists, ``ids=``/``id=``)."""
    found: list[Any] = []

    def take(value: Any) -> None:
        if isinstance(value, (list, tuple)):
            for v in value:
                take(v)
        else:
            found.append(value)

    for value in mark.args:
        take(value)
    for key in ("ids", "id"):
        if key in mark.kwargs:
            take(mark.kwargs[key])
    return found


class _KnownIds:
    """The requirement ids of a plan, loaded on first use (most test runs never need it)."""

    def __init__(self, plan_path: str | None, rootdir: Path):
        self.plan_path = plan_path
        self.rootdir = rootdir
        self._ids: set[str] | None = None
        self.plan: dict[str, Any] | None = None

    def load(self) -> set[str]:
        if self._ids is None:
            from golive.plan import PlanError, load

            path = None
            if self.plan_path:
                path = Path(self.plan_path)
                path = path if path.is_absolute() else self.rootdir / path
            try:
                plan = load(path)
            except PlanError as exc:
                where = path if path is not None else "the packaged plan"
                raise pytest.UsageError(f"golive: cannot load {where} to check requirement markers "
                                        f"(--golive-plan):\n{exc}") from None
            ids = {r.id for r in plan.requirements}
            ids.update(m for r in plan.requirements for m in r.covered_by.markers)
            self._ids = ids
            self.plan = {"id": plan.id, "version": plan.version, "digest": plan.digest,
                         "path": str(path) if path is not None else "packaged"}
        return self._ids

    def describe(self) -> str:
        return f"plan {self.plan['id']} v{self.plan['version']}" if self.plan else "the plan"


class _GoliveSession:
    """Per-session state: the collection check and, with ``--golive-results``, the outcomes."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.results_path: str | None = config.getoption("golive_results")
        self.strict: bool = config.getoption("golive_strict")
        # a relative --golive-plan means what it means in the shell that ran pytest, not under
        # pytest's rootdir (the two differ whenever pytest finds an ini file higher up)
        self.known = _KnownIds(config.getoption("golive_plan"), Path(str(config.invocation_params.dir)))
        self.collected = False  # set once collection succeeded: no results file before that
        self.is_worker = hasattr(config, "workerinput")  # pytest-xdist worker process
        self.reports: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.started = time.time()
        self._digests: dict[Path, str] = {}

    # -- collection --------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        problems: list[str] = []
        if config.getoption("golive_plan"):
            self.known.load()  # a wrong --golive-plan is an error even when no test uses the marker
        for item in items:
            ids, bad = self._item_ids(item)
            problems.extend(bad)
            unknown = [i for i in ids if i not in self.known.load()] if ids else []
            for req_id in unknown:
                hint = difflib.get_close_matches(req_id, sorted(self.known.load()), n=3)
                suggestion = f"; did you mean {', '.join(hint)}?" if hint else ""
                message = (f"{item.nodeid}: requirement {req_id!r} is not in {self.known.describe()}"
                           f"{suggestion}")
                if self.strict:
                    problems.append(message)
                else:
                    item.warn(GoliveRequirementWarning(message))
            if self.results_path:
                item.user_properties.append((_PROPERTY, {
                    "requirements": ids, "unknown_requirements": unknown,
                    "path": _relative(item.path, config.rootpath),
                    "source_sha256": self._digest(item.path)}))
        if problems:
            raise pytest.UsageError("golive: requirement markers name ids that cannot be used "
                                    "(--golive-strict):\n  " + "\n  ".join(problems))

    def _item_ids(self, item: pytest.Item) -> tuple[list[str], list[str]]:
        ids: list[str] = []
        bad: list[str] = []
        for mark in item.iter_markers(MARKER):
            values = marker_ids(mark)
            if not values:
                bad.append(f"{item.nodeid}: @pytest.mark.{MARKER}() names no requirement id")
            for value in values:
                if not isinstance(value, str) or not value.strip():
                    bad.append(f"{item.nodeid}: requirement id {value!r} is not a non-empty string")
                elif value.strip() not in ids:
                    ids.append(value.strip())
        if bad and not self.strict:  # a malformed marker is a mistake even without --golive-strict
            for message in bad:
                item.warn(GoliveRequirementWarning(message))
            bad = []
        return ids, bad

    def _digest(self, path: Path) -> str | None:
        if path not in self._digests:
            try:
                self._digests[path] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                self._digests[path] = None  # type: ignore[assignment]  # e.g. a generated item
        return self._digests[path]

    # -- outcomes ----------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.results_path or self.is_worker:
            return
        ours = [value for name, value in report.user_properties if name == _PROPERTY]
        # taken off before --junitxml and other reporters see it: it is golive's transport only
        report.user_properties = [p for p in report.user_properties if p[0] != _PROPERTY]
        entry = self.reports.get(report.nodeid)
        if entry is None:
            entry = self.reports[report.nodeid] = {"nodeid": report.nodeid, "outcome": None, "duration": 0.0}
            self.order.append(report.nodeid)
        for value in ours:
            if isinstance(value, dict):
                entry.update(value)
        entry[report.when] = {"outcome": report.outcome, "duration": round(report.duration, 6)}
        entry["duration"] = round(entry["duration"] + report.duration, 6)
        if hasattr(report, "wasxfail"):
            entry["xfail"] = True
        entry["outcome"] = _combined_outcome(entry)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors = getattr(self, "collection_errors", 0) + 1

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = not getattr(self, "collection_errors", 0)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.results_path or self.is_worker:
            return
        if not self.collected or exitstatus in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
            # a failed collection says nothing about the tests: keep the previous results file
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"golive: collection did not succeed; {self.results_path} not written")
            return
        tests = [self.reports[n] for n in self.order]
        for entry in tests:
            entry.setdefault("requirements", [])
            entry.setdefault("unknown_requirements", [])
            entry.setdefault("path", entry["nodeid"].split("::", 1)[0])
            entry.setdefault("source_sha256", None)
            entry.pop("xfail", None)
        if self.known.plan is None and any(e["requirements"] for e in tests):
            self.known.load()  # under xdist only the workers collected: name the plan here too
        summary: dict[str, int] = {}
        for entry in tests:
            summary[entry["outcome"]] = summary.get(entry["outcome"], 0) + 1
        document = {
            "golive_pytest_results": RESULTS_FORMAT_VERSION,
            "created": self.started,
            "duration": round(time.time() - self.started, 6),
            "exitcode": int(exitstatus),
            "root": str(self.config.rootpath),
            "plan": self.known.plan,
            "summary": summary,
            "tests": tests,
        }
        path = Path(self.results_path)
        path = path if path.is_absolute() else Path(str(self.config.invocation_params.dir)) / path
        _write_atomically(path, document)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"golive: {len(tests)} test outcome(s) written to {path}")


def _combined_outcome(entry: dict[str, Any]) -> str:
    """One outcome per test from its setup/call/teardown stages, as traceability reads them."""
    setup, call, teardown = entry.get("setup"), entry.get("call"), entry.get("teardown")
    xfail = entry.get("xfail", False)
    if setup and setup["outcome"] == "failed":
        return "error"
    if setup and setup["outcome"] == "skipped":
        return "xfailed" if xfail else "skipped"
    if call and call["outcome"] == "failed":
        return "failed"
    if teardown and teardown["outcome"] == "failed":
        return "error"
    if call and call["outcome"] == "skipped":
        return "xfailed" if xfail else "skipped"
    return "xpassed" if xfail else "passed"


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _write_atomically(path: Path, document: dict[str, Any]) -> None:
    """A reader (golive run) never sees half a file, even when pytest is interrupted mid-write."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        warnings.warn(GoliveRequirementWarning(f"golive: cannot write --golive-results {path}: {exc}"))


def requirement_ids(items: Iterable[pytest.Item]) -> dict[str, list[str]]:
    """``{nodeid: [requirement ids]}`` for collected items (for conftest.py helpers)."""
    return {item.nodeid: [i for m in item.iter_markers(MARKER) for i in marker_ids(m) if isinstance(i, str)]
            for item in items}
