"""Derived content of the report: traceability file lists, changes since the previous run and
the trend (recommendations, assessment and timeline: ``narrative.py``).

Everything here is computed from the run's results; nothing is written by hand. The wording
follows the reference gap-analysis report so a reader of that report finds the same parts.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

#: Traceability kinds that are test functions; every other kind (result-json, junit,
#: pytest-json-report, ...) is a result file -- the same rule the results summary counts by.
TEST_KINDS = ("pytest",)


@dataclass(frozen=True)
class Change:
    requirement_id: str
    title: str
    before: str
    after: str


@dataclass(frozen=True)
class Changes:
    previous_run_id: str
    previous_finished: str
    newly_failing: tuple[Change, ...]
    newly_passing: tuple[Change, ...]
    other: tuple[Change, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    plan_digest_before: str
    plan_digest_after: str
    incomparable: str = ""  # why the previous run was not compared ("" when it was)

    @property
    def plan_changed(self) -> bool:
        return self.plan_digest_before != self.plan_digest_after or bool(self.added or self.removed)

    @property
    def empty(self) -> bool:
        return not (self.newly_failing or self.newly_passing or self.other or self.plan_changed)


@dataclass(frozen=True)
class HistoryPoint:
    label: str
    run_id: str
    coverage_rate: float
    verification_rate: float


# --- traceability ------------------------------------------------------------------------

def test_file(test_id: str) -> str:
    """The file part of a test id (``tests/x/test_a.py::test_b`` -> ``tests/x/test_a.py``)."""
    return test_id.split("::", 1)[0]


def file_name(test_id: str) -> str:
    return test_file(test_id).rsplit("/", 1)[-1]


def is_result(record: Mapping[str, Any]) -> bool:
    return str(record.get("kind", "")) not in TEST_KINDS


def split_test_sources(tests: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """Distinct test files and distinct result files the traceability scan found."""
    test_files: dict[str, None] = {}
    result_files: dict[str, None] = {}
    for t in tests:
        if is_result(t):
            result_files[str(t.get("path") or t["id"])] = None
        else:
            test_files[test_file(str(t["id"]))] = None
    return list(test_files), list(result_files)


def file_kinds(tests: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {file_name(str(t["id"])): "result" if is_result(t) else "test" for t in tests}


def test_file_names(test_ids: Iterable[str]) -> list[str]:
    """Distinct file names of ``test_ids``, in first-seen order."""
    return list(dict.fromkeys(file_name(str(t)) for t in test_ids))


from golive.results import CONTAINER_KINDS  # noqa: E402 - result containers are never tests


@dataclass(frozen=True)
class AdditionalFile:
    """A file holding tests that cover no requirement: ``tests`` of its ``of`` tests."""

    path: str
    tests: int
    of: int

    @property
    def label(self) -> str:
        if self.tests >= self.of:
            return f"{self.tests} test{'s' if self.tests != 1 else ''}"
        return f"{self.tests} of {self.of} tests cover no requirement"


def covering_ids(doc: Mapping[str, Any]) -> set[str]:
    """Every test or result id that covers at least one requirement (confirmed links)."""
    ids = {str(t) for r in doc.get("results", []) for t in r.get("covered_by") or ()}
    ids |= {str(t["id"]) for t in doc.get("tests", []) if t.get("covers")}
    return ids


def additional_files(doc: Mapping[str, Any]) -> tuple[AdditionalFile, ...]:
    """The "additional tests" by path, with counts. Uses the document's
    ``additional_test_files`` when present, else derives them from ``additional_tests`` and
    ``tests``; a test that covers a requirement is never counted, whatever the list says."""
    covering = covering_ids(doc)
    tests = [t for t in doc.get("tests", []) if str(t.get("kind", "")) not in CONTAINER_KINDS]
    per_file: dict[str, int] = {}
    for t in tests:
        path = str(t.get("path") or test_file(str(t["id"])))
        per_file[path] = per_file.get(path, 0) + 1
    if doc.get("additional_test_files") is not None:
        files = [AdditionalFile(str(f["path"]), int(f["tests"]), int(f.get("of") or f["tests"]))
                 for f in doc["additional_test_files"] if int(f.get("tests") or 0) > 0]
        return tuple(sorted(files, key=lambda f: f.path))
    paths = {str(t["id"]): str(t.get("path") or test_file(str(t["id"]))) for t in tests}
    uncovered: dict[str, int] = {}
    containers = {str(t["id"]) for t in doc.get("tests", []) if str(t.get("kind", "")) in CONTAINER_KINDS}
    for tid in dict.fromkeys(str(t) for t in doc.get("additional_tests", [])):
        if tid in covering or tid in containers:  # result containers are not tests themselves
            continue
        path = paths.get(tid) or test_file(tid)
        uncovered[path] = uncovered.get(path, 0) + 1
    return tuple(AdditionalFile(p, n, max(n, per_file.get(p, n))) for p, n in sorted(uncovered.items()))


@dataclass(frozen=True)
class SuggestedLink:
    """A suggested, unconfirmed link of a requirement to a test (link recovery)."""

    test: str
    path: str
    band: str
    score: float
    rank: int
    why: tuple[str, ...]


@dataclass(frozen=True)
class IfConfirmed:
    """Requirements implemented if every counted (high/medium, top-1) suggestion were confirmed."""

    implemented: int
    requirements: int
    rate: float
    suggested_links: int
    tests: int
    new_requirements: int
    by_band: tuple[tuple[str, int], ...]

    @property
    def percent(self) -> int:
        return round(self.rate * 100)

    @property
    def bands_text(self) -> str:
        return ", ".join(f"{b} {n}" for b, n in self.by_band if n)

    @property
    def summary_text(self) -> str:
        """``3 links from 3 tests to 1 more requirement (high 1)``."""
        bands = f" ({self.bands_text})" if self.bands_text else ""
        return (f"{plural(self.suggested_links, 'link')} from {plural(self.tests, 'test')} to "
                f"{plural(self.new_requirements, 'more requirement')}{bands}")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def suggested_links(result: Mapping[str, Any]) -> tuple[SuggestedLink, ...]:
    out = []
    for s in result.get("suggested") or ():
        test = str(s.get("test", ""))
        out.append(SuggestedLink(test=test, path=str(s.get("path") or test_file(test)), band=str(s.get("band", "")),
                                 score=float(s.get("score") or 0.0), rank=int(s.get("rank") or 1),
                                 why=tuple(str(w) for w in s.get("why") or ())))
    return tuple(out)


def if_confirmed(doc: Mapping[str, Any]) -> IfConfirmed | None:
    """The "if confirmed" figure, or None when the run suggested no counted link."""
    summary = doc.get("summary") or {}
    ic = summary.get("if_confirmed")
    if ic is None:  # a document without the figure: derive it from results[].suggested
        from golive.results import if_confirmed as compute

        ic = compute(list(doc.get("results", [])))
    if not ic.get("suggested_links"):
        return None
    return IfConfirmed(implemented=int(ic["implemented"]), requirements=int(ic["requirements"]),
                       rate=float(ic["rate"]), suggested_links=int(ic["suggested_links"]),
                       tests=int(ic.get("tests") or 0), new_requirements=int(ic.get("new_requirements") or 0),
                       by_band=tuple((str(b), int(n)) for b, n in (ic.get("by_band") or {}).items()))


# --- documents -----------------------------------------------------------------------------

def document_bytes(doc: Mapping[str, Any]) -> bytes:
    """The JSON format's exact bytes; the PDF attaches the same bytes and prints their hash."""
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def document_sha256(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(document_bytes(doc)).hexdigest()


def history_points(history: Sequence[Mapping[str, Any]], current: Mapping[str, Any]) -> tuple[HistoryPoint, ...]:
    """The trend: the runs of ``history`` in the current run's series (same plan digest,
    tailoring and selection), then the current run; others would not measure the same thing."""
    from golive.history import incomparable, rates

    points = []
    for doc in [*(d for d in history if incomparable(dict(current), dict(d)) is None), current]:
        run = doc.get("run") or {}
        when = str(run.get("finished") or run.get("started") or "")
        coverage, verification = rates(doc)  # coverage_rate, or compliance_rate in schema 1
        points.append(HistoryPoint(label=when[:10] or str(run.get("id", ""))[:8],
                                   run_id=str(run.get("id", "")),
                                   coverage_rate=coverage, verification_rate=verification))
    return tuple(points)


def changes(current: Mapping[str, Any], previous: Mapping[str, Any],
            titles: Mapping[str, str] | None = None) -> Changes:
    """What changed since ``previous``; a previous run of another series (plan digest,
    tailoring, selection) is not compared, and :attr:`Changes.incomparable` says why."""
    from golive.history import incomparable

    why = incomparable(dict(current), dict(previous))
    if why:
        return Changes(previous_run_id=str(previous["run"].get("id", "")),
                       previous_finished=str(previous["run"].get("finished", "")),
                       newly_failing=(), newly_passing=(), other=(), added=(), removed=(),
                       plan_digest_before="", plan_digest_after="", incomparable=why)
    before = {r["requirement_id"]: r for r in previous["results"]}
    after = {r["requirement_id"]: r for r in current["results"]}
    failing, passing, other = [], [], []
    for rid, r in after.items():
        if rid not in before:
            continue
        old, new = before[rid]["status"], r["status"]
        if old == new:
            continue
        change = Change(rid, (titles or {}).get(rid) or str(r.get("title") or rid), old, new)
        if old == "pass":
            failing.append(change)
        elif new == "pass":
            passing.append(change)
        else:
            other.append(change)
    prev_plan = (previous.get("run") or {}).get("plan") or {}
    cur_plan = (current.get("run") or {}).get("plan") or {}
    return Changes(
        previous_run_id=str(previous["run"].get("id", "")),
        previous_finished=str(previous["run"].get("finished", "")),
        newly_failing=tuple(failing), newly_passing=tuple(passing), other=tuple(other),
        added=tuple(sorted(set(after) - set(before))), removed=tuple(sorted(set(before) - set(after))),
        plan_digest_before=str(prev_plan.get("digest", "")),
        plan_digest_after=str(cur_plan.get("digest", "")))
