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

Where tests are found: pytest files anywhere in the target at any depth (tests kept beside the
code count too), plus the configured ``tests`` folder when it lies outside the target.

Where results are found -- the target is walked once (symlinks never followed, vendored and tool
folders skipped, at most ``MAX_WALK_FILES`` files looked at) and a ``.xml``/``.json`` file is
taken as a result file when it parses as JUnit XML, pytest-json-report or a golive result and

* it lies in a *result location*: a folder named ``test-results``, ``test_results``,
  ``test-reports``, ``surefire-reports``, ``failsafe-reports`` or ``*junit*`` at any depth, the
  top-level ``reports/``, ``build/test-results/`` or ``target/surefire-reports/`` (inside
  ``build``, ``target``, ``dist`` and ``out`` only such folders are entered), the configured
  ``[paths] test_results`` folder, or a path matching a ``traceability_results`` glob; or
* its name is a *result name*: ``TEST-*.xml`` (Maven/Gradle/Ant), ``*junit*.xml``,
  ``*pytest*.xml``/``*.json``, ``*test-results*``/``*test_report*`` ``.xml``/``.json``,
  ``.report.json``/``report.json``/``*.report.json``; or
* anywhere else, its first few KB look like one of those shapes (:func:`.results.sniff`).

Files in result locations or with result names that cannot be read are warned about, naming the
file; other sniffed files that turn out not to be results are passed over silently, so a
repository's JSON fixtures and XML configs never produce warnings.

``golive.toml`` settings (under ``[settings]``)::

    traceability_results = ["ci/out/**/*.xml", "artifacts/pytest-*.json"]  # more result globs
    traceability_exclude = ["legacy/**", "**/test_scratch_*.py"]  # left out: tests and results

``traceability_results`` globs (relative to the target, ``**`` crosses folders) add result
locations, also inside folders that are otherwise skipped; a glob that matches no file is
warned about. Both must be lists of glob strings; anything else is an error naming golive.toml.
When nothing is found the warning says where golive looked and how to configure it.
"""
from __future__ import annotations

import logging
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from golive.model import Target, TestRecord

from .globs import GlobError, glob_match, glob_to_regex
from .pytest_files import SKIPPED_DIRS, FoundTest, scan_tests, symlink_problem
from .results import CaseResult, ResultFile, read_result_file, sniff

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


def _glob_list(target: Target, key: str, example: str) -> tuple[str, ...]:
    value = target.settings.get(key, ())
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"golive.toml [settings] {key} must be a list of glob strings, e.g. {example}")
    for pattern in value:
        try:
            glob_to_regex(pattern)
        except GlobError as exc:
            raise ValueError(f"golive.toml [settings] {key}: {exc}") from None
    return tuple(value)


def exclusions(target: Target) -> tuple[str, ...]:
    return _glob_list(target, "traceability_exclude", '["legacy/**"]')


def result_globs(target: Target) -> tuple[str, ...]:
    """``[settings] traceability_results``: extra globs (relative to the target) for result files."""
    return _glob_list(target, "traceability_results", '["ci/out/**/*.xml"]')


# -- finding result files ----------------------------------------------------------------

MAX_WALK_FILES = 300_000  # files looked at while searching a target for result files
MAX_RESULT_FILES = 5_000  # result files parsed from one target
RESULT_SUFFIXES = (".xml", ".json")
#: folder names that mark a result location at any depth
RESULT_DIRS = frozenset({"test-results", "test_results", "testresults", "test-reports", "test_reports",
                         "surefire-reports", "failsafe-reports"})
#: result locations only at the top of the target (``reports/`` is too common a name deeper down)
TOP_RESULT_DIRS = frozenset({"reports"})
#: build-output folders: only result locations inside them are entered
GATED_DIRS = frozenset({"build", "target", "dist", "out"})
_RESULT_NAME = re.compile(
    r"(?:.*junit.*\.xml|.*pytest.*\.(?:xml|json)|\.?report\.json|.+\.report\.json"
    r"|(?:.*[^a-z])?tests?[-_]?(?:results?|reports?)[^/]*\.(?:xml|json))$", re.IGNORECASE)
LOOKED_IN = ("test-results/, test_results/, test-reports/, surefire-reports/ and *junit*/ folders at any depth, "
             "reports/, build/test-results/, target/surefire-reports/, files named TEST-*.xml, *junit*.xml, "
             "*pytest*.xml/.json, .report.json or report.json, and any other .xml/.json that is a "
             "JUnit or pytest-json-report document")
_HARD_SKIP = frozenset({".git", ".hg", ".svn"})


def is_result_dir(name: str, depth: int) -> bool:
    """``name`` at ``depth`` (0 = directly in the target) marks a result location."""
    lower = name.lower()
    return lower in RESULT_DIRS or "junit" in lower or (depth == 0 and lower in TOP_RESULT_DIRS)


def is_result_name(name: str) -> bool:
    return (name.startswith("TEST-") and name.endswith(".xml")) or _RESULT_NAME.match(name) is not None


@dataclass
class ResultCandidate:
    path: Path
    rel: str  # relative to the target root, POSIX (absolute for a configured folder outside it)
    loud: bool  # in a result location or with a result name: problems are warned about


@dataclass
class ResultSearch:
    candidates: list[ResultCandidate] = field(default_factory=list)
    looked_at: int = 0
    capped: bool = False
    unmatched_globs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _literal_prefix(pattern: str) -> str:
    """The folder part of a glob before its first wildcard: ``ci/out/**/*.xml`` -> ``ci/out``."""
    parts = pattern.strip("/").split("/")
    if len(parts) == 1:
        return ""  # a bare name matches anywhere
    literal: list[str] = []
    for part in parts[:-1]:
        if any(c in part for c in "*?["):
            break
        literal.append(part)
    return "/".join(literal)


def find_result_files(target: Target, exclude: tuple[str, ...] = ()) -> ResultSearch:
    """Walk the target once and list the files that may hold test results (see the module doc)."""
    root = target.root
    globs = result_globs(target)
    configured = _configured(target, "test_results")
    forced: list[str] = [p for p in (_literal_prefix(g) for g in globs) if p]
    walks: list[tuple[Path, bool]] = [(root, True)]  # (folder, inside the target)
    if configured is not None and configured.is_dir():
        inside = _rel_inside(configured, root)
        if inside is None:
            walks.append((configured, False))  # a folder outside the target (a Target built in code)
        elif inside:
            forced.append(inside)
    search = ResultSearch()
    matched_globs: set[str] = set()
    seen: set[str] = set()

    def is_forced(rel_dir: str) -> bool:
        return any(rel_dir == p or p.startswith(rel_dir + "/") or rel_dir.startswith(p + "/") for p in forced)

    for start, inside_target in walks:
        # a configured folder is a result location; "." (the whole target) is not one
        location: dict[str, bool] = {str(start): not inside_target}
        for folder, dirnames, filenames in os.walk(start, followlinks=False):
            here = Path(folder)
            in_location = location.pop(folder, False)
            rel_dir = os.path.relpath(folder, start).replace(os.sep, "/") if inside_target else ""
            rel_dir = "" if rel_dir == "." else rel_dir
            depth = rel_dir.count("/") + 1 if rel_dir else 0
            gated = inside_target and here.name.lower() in GATED_DIRS and not in_location
            kept: list[str] = []
            for d in sorted(dirnames):
                child_rel = f"{rel_dir}/{d}" if rel_dir else d
                if inside_target and exclude and _excluded_rel(child_rel, exclude):
                    continue
                child_location = in_location or is_result_dir(d, depth) or (
                    configured is not None and here / d == configured)
                if not (inside_target and is_forced(child_rel)):
                    if d in _HARD_SKIP:
                        continue
                    if not child_location and (gated or d.endswith(".egg-info")
                                               or (d in SKIPPED_DIRS and d not in GATED_DIRS)):
                        continue
                location[os.path.join(folder, d)] = child_location
                kept.append(d)
            dirnames[:] = kept
            for f in sorted(filenames):
                search.looked_at += 1
                if search.looked_at > MAX_WALK_FILES or len(search.candidates) >= MAX_RESULT_FILES:
                    search.capped = True
                    break
                if not f.lower().endswith(RESULT_SUFFIXES):
                    continue
                path = here / f
                rel = (f"{rel_dir}/{f}" if rel_dir else f) if inside_target else path.as_posix()
                if inside_target and exclude and _excluded_rel(rel, exclude):
                    continue
                hits = [g for g in globs if glob_match(rel, g)] if inside_target else []
                matched_globs.update(hits)
                loud = in_location or bool(hits) or is_result_name(f)
                problem = symlink_problem(path, root) or (None if _is_regular(path) else "not a regular file")
                if problem is not None:
                    if loud:
                        search.warnings.append(f"traceability: {rel}: {problem}; skipped")
                    continue
                if not loud and not sniff(path):
                    continue
                key = _real(path)
                if key in seen:
                    continue
                seen.add(key)
                search.candidates.append(ResultCandidate(path, rel, loud))
            if search.capped:
                break
    search.unmatched_globs = [g for g in globs if g not in matched_globs]
    return search


def _rel_inside(path: Path, root: Path) -> str | None:
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return None
    return "" if rel == "." else rel


def _excluded_rel(rel: str, exclude: tuple[str, ...]) -> bool:
    return any(glob_match(rel, pattern) for pattern in exclude)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)  # a FIFO would block the read
    except OSError:
        return False


def _real(path: Path) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, RuntimeError, ValueError):
        return str(path)


def discover(target: Target) -> Discovery:
    """Scan ``target`` for tests and results and merge outcomes onto the tests they belong to."""
    root = target.root
    scan = scan_tests(root, search_roots_for_tests(target), exclusions(target))
    found = Discovery(test_files=list(scan.files), warnings=list(scan.warnings))

    def warn(message: str) -> None:
        log.warning(message)
        found.warnings.append(message)

    parsed: list[ResultFile] = []
    search = find_result_files(target, exclusions(target))
    for message in search.warnings:
        warn(message)
    for candidate in search.candidates:
        if candidate.loud:
            result = read_result_file(candidate.path, candidate.rel, warn)
        else:  # sniffed only: a file that turns out not to be a result is no news
            quiet: list[str] = []
            result = read_result_file(candidate.path, candidate.rel, quiet.append)
            for message in quiet if result is not None else ():
                warn(message)
            if result is None:
                log.debug("traceability: %s looked like a result file but is not: %s", candidate.rel, quiet)
        if result is not None:
            parsed.append(result)
            found.result_files.append(candidate.rel)
    configured = _configured(target, "test_results")
    if configured is not None and not configured.is_dir():
        warn(f"traceability: golive.toml [paths] test_results = {configured} does not exist; "
             "results are searched for in the rest of the workspace")
    for pattern in search.unmatched_globs:
        warn(f"traceability: golive.toml [settings] traceability_results glob {pattern!r} matches no file")
    if search.capped:
        warn(f"traceability: stopped searching for result files after {MAX_WALK_FILES} files or "
             f"{MAX_RESULT_FILES} result files; list them with [settings] traceability_results in golive.toml")
    if not found.result_files and not any(c.loud for c in search.candidates):
        where = LOOKED_IN
        if configured is not None:
            where += f", the configured [paths] test_results folder {configured}"
        if search.unmatched_globs:
            where += ", the traceability_results globs " + ", ".join(repr(g) for g in search.unmatched_globs)
        warn(f"traceability: no test result files found in {root} (looked in: {where}; configure "
             '[paths] test_results = "DIR" or [settings] traceability_results = ["GLOB", ...] in golive.toml); '
             "tests have no recorded outcomes")

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
        ambiguous: list[str] = []
        for case in result.cases:
            node_id, several = matcher.match(case)
            if several:
                extra = f" and {len(several) - 3} more" if len(several) > 3 else ""
                ambiguous.append(f"{case.label!r} ({', '.join(several[:3])}{extra})")
            if node_id is None:
                node_id = _orphan_id(case)
                # path = the result file: the source is not in the workspace, and the engine
                # counts result files by the distinct paths of non-pytest records.
                orphans.setdefault(node_id, TracedTestRecord(
                    id=node_id, path=result.path, kind="result-case",
                    name=_strip_params(case.name or case.nodeid.rsplit("::", 1)[-1]), source=SOURCE))
            per_test.setdefault(node_id, []).append(case)
        if ambiguous:
            shown = "; ".join(ambiguous[:MAX_NAMED_AMBIGUOUS])
            more = f"; and {len(ambiguous) - MAX_NAMED_AMBIGUOUS} more" if len(ambiguous) > MAX_NAMED_AMBIGUOUS else ""
            warn(f"traceability: {result.path}: {len(ambiguous)} result(s) match several tests and are "
                 f"not attributed to any: {shown}{more}")
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


MAX_NAMED_AMBIGUOUS = 5


def _path_parts(text: str) -> tuple[str, ...]:
    text = text.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return tuple(p for p in text.split("/") if p and p != ".")


class _SuffixIndex:
    """Keys (tuples of path or dotted components) looked up by path-boundary suffix in time
    proportional to the key's length, however many keys share a tail.

    ``best(wanted)`` returns the values whose key equals ``wanted``; else those whose key ends
    with ``wanted`` (they share all of it); else the one whose key is the longest suffix of
    ``wanted``. More than one value is an ambiguity for the caller to report.
    """

    def __init__(self) -> None:
        self.full: dict[tuple[str, ...], list] = {}
        self.tails: dict[tuple[str, ...], list] = {}  # proper suffixes of the keys

    def add(self, key: tuple[str, ...], value) -> None:
        self.full.setdefault(key, []).append(value)
        for start in range(1, len(key)):
            self.tails.setdefault(key[start:], []).append(value)

    def best(self, wanted: tuple[str, ...]) -> list:
        if not wanted:
            return []
        exact = self.full.get(wanted)
        if exact:
            return exact
        longer = self.tails.get(wanted)
        if longer:
            return longer
        for start in range(1, len(wanted)):
            shorter = self.full.get(wanted[start:])
            if shorter:
                return shorter
        return []


class _CaseMatcher:
    """Maps a recorded case back to the node id of a test found in source.

    pytest writes ids relative to its rootdir, which need not be the target root (a team may run
    pytest from ``tests/`` -- ``unit/test_x.py::test_a`` -- or from a monorepo root --
    ``src/pkg/tests/unit/test_x.py::test_a``), and JUnit spells them as a dotted ``classname``
    (``tests.unit.test_x.TestA``, ``pkg.tests.unit.test_x``) plus the function ``name``,
    sometimes with a ``file=`` attribute. So a case matches a test when one key is a suffix of
    the other at a path (or dot) boundary: an exact match wins, then the longest shared suffix;
    a tie is ambiguous -- reported and attributed to no test, never to two. Lookups go through
    suffix indexes, so the cost per case does not grow with the number of tests (10,000 tests
    named ``test_it`` in 10,000 ``test_x.py`` files cost the same as one); answers are memoised,
    since the same case recurs in every run's file.
    """

    def __init__(self, tests: list[FoundTest]):
        self.nodes = _SuffixIndex()  # tests/unit/test_x.py::TestA::test_b as parts
        self.dotted = _SuffixIndex()  # tests.unit.test_x.TestA.test_b as parts
        self.files = _SuffixIndex()  # tests/unit/test_x.py as parts -> path
        self.in_file: dict[tuple[str, str], list[FoundTest]] = {}
        for test in tests:
            file_parts = _path_parts(test.path)
            self.nodes.add(file_parts + tuple(test.classes) + (test.name,), test)
            self.dotted.add(tuple(_dotted(test).split(".")), test)
            if (test.path, test.name) not in self.in_file:
                self.files.add(file_parts, test.path)
            self.in_file.setdefault((test.path, test.name), []).append(test)
        self._memo: dict[tuple[str, str, str, str], tuple[str | None, tuple[str, ...]]] = {}

    def match(self, case: CaseResult) -> tuple[str | None, tuple[str, ...]]:
        """(node id or None, the node ids it could not choose between when ambiguous)."""
        key = (case.nodeid, case.classname, case.name, case.file)
        answer = self._memo.get(key)
        if answer is None:
            answer = self._memo[key] = self._match(case)
        return answer

    def _match(self, case: CaseResult) -> tuple[str | None, tuple[str, ...]]:
        if case.nodeid:
            head, *rest = _strip_params(case.nodeid).split("::")
            return _one(self.nodes.best(_path_parts(head) + tuple(rest)))
        name = _strip_params(case.name)
        dotted = tuple(p for p in case.classname.split(".") if p) + (name,)
        if case.file:
            paths = set(self.files.best(_path_parts(case.file)))
            in_file = [t for path in sorted(paths) for t in self.in_file.get((path, name), [])]
            if len(paths) == 1 and in_file:
                if len(in_file) == 1:  # the file has one test of that name: it is the one
                    return in_file[0].node_id, ()
                chosen = set(map(id, self.dotted.best(dotted)))
                fitting = [t for t in in_file if id(t) in chosen] or [t for t in in_file if _classes_fit(t, dotted)]
                return _one(fitting)
        return _one(self.dotted.best(dotted))


def _one(tests: list[FoundTest]) -> tuple[str | None, tuple[str, ...]]:
    if not tests:
        return None, ()
    ids = tuple(dict.fromkeys(t.node_id for t in tests))
    return (ids[0], ()) if len(ids) == 1 else (None, ids)


def _classes_fit(test: FoundTest, dotted: tuple[str, ...]) -> bool:
    """The classname ends with the test's classes (or, for a module-level test, names no class)."""
    qualifiers = dotted[:-1]
    if test.classes:
        return qualifiers[-len(test.classes):] == tuple(test.classes)
    return not qualifiers or not qualifiers[-1][:1].isupper()


def _dotted(test: FoundTest) -> str:
    """The JUnit ``classname.name`` pytest writes for a test: dotted module path + classes."""
    module = test.path[:-3] if test.path.endswith(".py") else test.path
    return ".".join([module.replace("/", ".")] + list(test.classes) + [test.name])
