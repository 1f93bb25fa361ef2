"""Turn a target workspace's test files and result files into ``TestRecord``s.

Records produced (``kind``):

* ``pytest`` -- one per test function found in source; its ``outcome`` is the latest recorded
  result of that test (JUnit/pytest-json-report), ``runs`` how many result files ran it;
* ``result-json`` -- a standalone golive result file (a test of its own, id = its path);
* ``junit`` / ``pytest-json-report`` -- a result file holding many test outcomes (id = its path;
  outcome = the worst of its cases). They let the engine count result files and let
  ``covered_by.results`` point at a whole run; they are containers, not extra tests;
* ``result-case`` -- a recorded test outcome whose source file is not in the workspace
  (id = its node id, path = the result file that recorded it).

Where to look: pytest files anywhere in the target at any depth (tests kept beside the code
count too), plus the configured ``tests`` folder when it lies outside the target; results in the
configured ``test_results`` folder, else ``test-results/`` or ``test_results/``. The target
setting ``traceability_exclude`` (a list of globs relative to the target, e.g.
``["legacy/**", "**/test_scratch_*.py"]`` under ``[settings]`` in ``golive.toml``) leaves
folders or test files out.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from golive.model import Target, TestRecord

from .pytest_files import SKIPPED_DIRS, FoundTest, scan_tests, stays_inside
from .results import CaseResult, ResultFile, read_result_file

log = logging.getLogger("golive.plugins.traceability")
SOURCE = "traceability"
CONTAINER_KINDS = frozenset({"junit", "pytest-json-report"})
RESULT_FILE_KINDS = CONTAINER_KINDS | {"result-json"}
_SEVERITY = {"error": 3, "failed": 2, "passed": 1, "skipped": 0}
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


@dataclass
class TracedTestRecord(TestRecord):
    """A ``TestRecord`` with what traceability knows beyond the shared contract."""

    runs: int = 0  # result files that recorded this test
    result_files: tuple[str, ...] = ()  # those files, oldest first
    last_run: str | None = None  # ISO time of the run whose outcome is reported
    line: int | None = None  # line of the test function
    metrics: dict[str, Any] = field(default_factory=dict)  # a standalone result's own metrics
    features: Any = field(default=None, compare=False, repr=False)  # a pytest test's TextFeatures (features.py), for link recovery


@dataclass
class Discovery:
    """Everything found in one target: records, the files they came from, and the warnings."""

    records: list[TracedTestRecord] = field(default_factory=list)
    test_files: list[str] = field(default_factory=list)
    result_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _configured(target: Target, kind: str) -> Path | None:
    path = target.paths.get(kind)
    if path is None:
        return None
    path = Path(path)
    return path if path.is_absolute() else target.root / path


def search_roots_for_tests(target: Target) -> list[Path]:
    roots = [target.root]
    configured = _configured(target, "tests")
    if configured is not None and not configured.resolve().is_relative_to(target.root.resolve()):
        roots.append(configured)
    return roots


def result_roots(target: Target) -> list[Path]:
    """The first existing results folder: the configured one, else the usual spellings."""
    configured = _configured(target, "test_results")
    candidates = ([configured] if configured is not None else []) + [
        target.root / "test-results", target.root / "test_results"]
    return [p for p in candidates if p.is_dir()][:1]


def exclusions(target: Target) -> tuple[str, ...]:
    value = target.settings.get("traceability_exclude", ())
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("golive.toml [settings] traceability_exclude must be a list of glob strings, "
                         'e.g. ["legacy/**"]')
    return tuple(value)


def iter_result_files(folder: Path, root: Path) -> list[Path]:
    found: list[Path] = []
    for current, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        found.extend(Path(current) / f for f in sorted(filenames)
                     if f.lower().endswith((".xml", ".json")) and stays_inside(Path(current) / f, root))
    return found


def discover(target: Target) -> Discovery:
    """Scan ``target`` for tests and results and merge outcomes onto the tests they belong to."""
    root = target.root
    scan = scan_tests(root, search_roots_for_tests(target), exclusions(target))
    found = Discovery(test_files=list(scan.files), warnings=list(scan.warnings))

    def warn(message: str) -> None:
        log.warning(message)
        found.warnings.append(message)

    parsed: list[ResultFile] = []
    folders = result_roots(target)
    if not folders:
        configured = _configured(target, "test_results")
        where = f"{configured}" if configured is not None else f"{root}/test-results"
        warn(f"traceability: no results folder ({where} does not exist); tests have no recorded outcomes")
    for folder in folders:
        for path in iter_result_files(folder, root):
            rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
            result = read_result_file(path, rel, warn)
            if result is not None:
                parsed.append(result)
                found.result_files.append(rel)

    tests = {t.node_id: TracedTestRecord(id=t.node_id, path=t.path, kind="pytest", name=t.name,
                                         requirements=t.requirements, source=SOURCE, line=t.line,
                                         features=t.features)
             for t in scan.tests}
    matcher = _CaseMatcher(scan.tests)
    runs: dict[str, list[tuple[datetime, str, str, float | None]]] = {}
    orphans: dict[str, TracedTestRecord] = {}
    containers: list[TracedTestRecord] = []
    for result in sorted(parsed, key=lambda r: (r.timestamp or _EPOCH, r.path)):
        stamp = result.timestamp or _EPOCH
        if result.format == "golive-json":
            found.records.append(TracedTestRecord(
                id=result.path, path=result.path, kind="result-json", name=result.name, outcome=result.outcome,
                requirements=result.requirements, duration_s=result.duration_s, source=SOURCE, runs=1,
                result_files=(result.path,), last_run=_iso(result.timestamp), metrics=dict(result.metrics)))
            continue
        per_test: dict[str, list[CaseResult]] = {}
        for case in result.cases:
            node_id = matcher.match(case, warn, result.path)
            if node_id is None:
                node_id = _orphan_id(case)
                # path = the result file: the source is not in the workspace, and the engine
                # counts result files by the distinct paths of non-pytest records.
                orphans.setdefault(node_id, TracedTestRecord(
                    id=node_id, path=result.path, kind="result-case",
                    name=_strip_params(case.name or case.nodeid.rsplit("::", 1)[-1]), source=SOURCE))
            per_test.setdefault(node_id, []).append(case)
        for node_id, cases in per_test.items():
            outcome, duration = _combine(cases)
            runs.setdefault(node_id, []).append((stamp, result.path, outcome, duration))
            record = tests.get(node_id)
            if record is not None:
                _merge_plugin_fields(record, cases, target, result.path, warn)
        outcome, duration = _combine(result.cases) if result.cases else (None, None)
        containers.append(TracedTestRecord(
            id=result.path, path=result.path, kind=result.format, name=result.path.rsplit("/", 1)[-1],
            outcome=outcome, duration_s=duration, source=SOURCE, runs=1, result_files=(result.path,),
            last_run=_iso(result.timestamp)))

    for node_id, record in list(tests.items()) + list(orphans.items()):
        history = runs.get(node_id, [])
        if history:
            stamp, _, outcome, duration = history[-1]  # sorted by run time: the latest wins
            record.outcome, record.duration_s = outcome, duration
            record.runs = len(history)
            record.result_files = tuple(path for _, path, _, _ in history)
            record.last_run = _iso(stamp) if stamp != _EPOCH else None
    found.records = list(tests.values()) + list(orphans.values()) + found.records + containers
    return found


def _merge_plugin_fields(record, cases: list[CaseResult], target: Target, result_path: str, warn) -> None:
    """What golive's pytest plugin adds per test: requirement ids (markers applied at run time
    count too) and the digest of the test file that ran, to flag outcomes of an older version."""
    extra = [r for c in cases for r in c.requirements if r not in record.requirements]
    if extra:
        record.requirements = tuple(record.requirements) + tuple(dict.fromkeys(extra))
    digests = {c.source_sha256 for c in cases if c.source_sha256}
    if digests:
        from golive.digest import file_sha256

        try:
            current = file_sha256(target.root / record.path)
        except OSError:
            return
        if current not in digests:
            warn(f"traceability: {result_path}: {record.id} was run from a different version of "
                 f"{record.path}; its outcome may be stale")


def _combine(cases: list[CaseResult]) -> tuple[str, float | None]:
    """Several cases of one test in one run (parametrised): the worst outcome, summed time."""
    outcome = max((c.outcome for c in cases), key=lambda o: _SEVERITY.get(o, 0))
    durations = [c.duration_s for c in cases if c.duration_s is not None]
    return outcome, (round(sum(durations), 6) if durations else None)


def _iso(stamp: datetime | None) -> str | None:
    return stamp.isoformat() if stamp is not None else None


def _strip_params(text: str) -> str:
    cut = text.find("[")
    return text[:cut] if cut >= 0 else text


def _orphan_id(case: CaseResult) -> str:
    if case.nodeid:
        return _strip_params(case.nodeid)
    return f"{case.classname}::{_strip_params(case.name)}" if case.classname else _strip_params(case.name)


class _CaseMatcher:
    """Maps a recorded case back to the node id of a test found in source.

    pytest writes node ids relative to its rootdir, which need not be the target root (a team
    may run pytest from ``tests/`` or from a monorepo root), so an id matches when one is a
    suffix of the other at a path boundary; an exact match always wins, an ambiguous one is
    reported and left unmatched.
    """

    def __init__(self, tests: list[FoundTest]):
        self.by_name: dict[str, list[FoundTest]] = {}
        for test in tests:
            self.by_name.setdefault(test.name, []).append(test)

    def match(self, case: CaseResult, warn, result_path: str) -> str | None:
        if case.nodeid:
            wanted = _strip_params(case.nodeid)
            while wanted.startswith("./"):
                wanted = wanted[2:]
            name = wanted.rsplit("::", 1)[-1]
            keys = [(t, t.node_id) for t in self.by_name.get(name, [])]
            separators = ("/",)
        else:
            name = _strip_params(case.name)
            wanted = f"{case.classname}.{name}" if case.classname else name
            keys = [(t, _dotted(t)) for t in self.by_name.get(name, [])]
            separators = (".",)
        exact = [t for t, key in keys if key == wanted]
        if exact:
            return exact[0].node_id
        near = [t for t, key in keys if any(key.endswith(s + wanted) or wanted.endswith(s + key) for s in separators)]
        if len(near) == 1:
            return near[0].node_id
        if len(near) > 1:
            warn(f"traceability: {result_path}: result {case.label!r} matches several tests "
                 f"({', '.join(t.node_id for t in near)}); not attributed to any")
        return None


def _dotted(test: FoundTest) -> str:
    """The JUnit ``classname.name`` pytest writes for a test: dotted module path + classes."""
    module = test.path[:-3] if test.path.endswith(".py") else test.path
    return ".".join([module.replace("/", ".")] + list(test.classes) + [test.name])
