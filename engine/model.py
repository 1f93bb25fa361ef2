"""The data every part of golive passes around: plan, requirements, checks, results, tests.

Plain dataclasses, no behaviour beyond small derived properties. The plan loader builds
``Plan``; checker plugins return ``CheckResult``; the runner turns those into ``Outcome``;
traceability plugins return ``TestRecord``. See ../shared/DESIGN.md for the contracts.
"""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Mapping


class Status(str, enum.Enum):
    """A requirement's status after a run (DESIGN.md "Statuses")."""

    PASS = "pass"
    FAIL = "fail"
    PARTIAL = "partial"
    MISSING = "missing"
    ERROR = "error"
    SKIPPED = "skipped"
    WAIVED = "waived"

    def __str__(self) -> str:  # so f-strings print "pass", not "Status.PASS"
        return self.value


@dataclass(frozen=True)
class SourceLocation:
    """Where something was written in the plan: file and 1-based line, for error messages."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Threshold:
    """A typed limit from the plan, evaluated by the engine against a check's metric.

    ``op`` is one of ``<``, ``<=``, ``>``, ``>=``, ``==``, ``between``; for ``between``
    ``value`` is a ``(low, high)`` pair, inclusive. ``unit`` names the unit ``value`` is in;
    the engine converts a metric reported as a :class:`Quantity` into it.
    """

    metric: str
    op: str
    value: Any
    unit: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Quantity:
    """A metric value with its unit, e.g. ``Quantity(84.2, "s")``. Plain numbers are taken
    to be in the threshold's own unit."""

    value: float | int | Decimal
    unit: str


@dataclass(frozen=True)
class CheckRef:
    """The ``check`` block of a requirement: which plugin check verifies it, with what params."""

    plugin: str
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None


@dataclass(frozen=True)
class CoveredBy:
    """Traceability links from a requirement to the trading team's own tests and results.

    ``tests`` and ``results`` are glob patterns matched against a test's node id or a result
    file's path relative to the target (``**`` crosses folders). ``markers`` are extra marker
    ids that count as this requirement (a requirement's own id always counts).
    """

    tests: tuple[str, ...] = ()
    results: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    source: str
    clause: str = ""


@dataclass
class Requirement:
    id: str
    title: str
    statement: str
    category: str
    priority: str
    plan_lines: tuple[int, int]
    section: str = ""
    phase: int = 0
    check: CheckRef | None = None
    thresholds: tuple[Threshold, ...] = ()
    covered_by: CoveredBy = field(default_factory=CoveredBy)
    manual: bool = False
    references: tuple[Reference, ...] = ()
    schedule: Mapping[str, Any] | None = None
    tags: tuple[str, ...] = ()
    source: SourceLocation | None = None
    # time-series evidence (uptime, health, P&L ...): the engine turns a verdict into ``missing``
    # when the check observed a shorter period than ``min_period`` or its newest observation is
    # older than ``max_age`` at the run clock (durations as written in the plan, e.g. "5 d")
    min_period: str | None = None
    max_age: str | None = None
    # the role answerable for the requirement (its own ``owner``, else its section's; "" = none
    # named): a role such as "risk", never a person, so the plan outlives staff changes
    owner: str = ""


@dataclass
class Section:
    id: str
    phase: int
    title: str
    plan_lines: tuple[int, int]
    requirements: list[Requirement] = field(default_factory=list)
    file: str = ""
    # "plan": from the firm's own plan; "regulation": evidence a regulation names that the plan
    # lacks (the section file's ``source``), kept apart so the plan's own coverage stays readable
    origin: str = "plan"
    owner: str = ""  # the section's ``owner`` role: its requirements' default


@dataclass(frozen=True)
class Phase:
    number: int
    id: str
    title: str
    plan_lines: tuple[int, int]


@dataclass(frozen=True)
class Category:
    id: str
    title: str


@dataclass
class Plan:
    id: str
    title: str
    version: str
    source_lines: int
    phases: list[Phase]
    categories: list[Category]
    priorities: dict[str, str]
    bands: dict[str, float]
    sections: list[Section]
    digest: str = ""
    root: Path | None = None
    # the plan's ``readiness`` policy as written (golive.run.readiness.Policy reads it; empty =
    # the default policy)
    readiness: dict[str, Any] = field(default_factory=dict)
    # the plan's ``signoff`` policy as written ({"roles": [...] | {role: count}, "quorum": n});
    # empty = no sign-off required (golive.ledger.signoff reads it)
    signoff: dict[str, Any] = field(default_factory=dict)
    # the plan's ``waivers`` policy as written (max_days, approver_roles, approvers per priority);
    # empty = golive's defaults (golive.ledger.waiver_policy reads it)
    waivers: dict[str, Any] = field(default_factory=dict)

    @property
    def requirements(self) -> list[Requirement]:
        return [r for s in self.sections for r in s.requirements]

    def requirement(self, req_id: str) -> Requirement:
        for r in self.requirements:
            if r.id == req_id:
                return r
        raise KeyError(req_id)

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)


# --- plugins -----------------------------------------------------------------------------

CheckFunction = Callable[["Requirement", "CheckContext"], "CheckResult"]


@dataclass(frozen=True)
class CheckSpec:
    """One check a plugin provides (returned by the ``golive_checks`` hook).

    ``params_schema`` is a JSON Schema (draft 2020-12) for the requirement's ``check.params``;
    the plan validator applies it at load time. ``metrics`` names the metrics the check can
    report, so the validator can reject a threshold on a metric the check never produces.
    """

    plugin: str
    name: str
    func: CheckFunction
    description: str = ""
    params_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})
    metrics: tuple[str, ...] = ()
    version: str = "1"

    @property
    def key(self) -> str:
        return f"{self.plugin}.{self.name}"


def spec_maker(plugin: str) -> Callable[..., CheckSpec]:
    """``spec(name, func, params_schema, metrics, description)`` for one checker family, so a
    family's table of checks names its plugin once."""

    def spec(name: str, func: CheckFunction, params_schema: Mapping[str, Any], metrics, description: str) -> CheckSpec:
        return CheckSpec(plugin=plugin, name=name, func=func, params_schema=params_schema,
                         metrics=tuple(metrics), description=description)

    return spec


@dataclass
class Artifact:
    """A file a check read or wrote, recorded as evidence (path relative to the target)."""

    path: str
    sha256: str = ""
    role: str = "input"  # input | output | test-result


@dataclass
class CheckResult:
    """What a check function returns.

    ``status`` may be left ``None``: the engine then derives it from the thresholds. A check
    sets it when it knows better: ``missing`` (its input does not exist), ``skipped`` (not
    applicable now; give a ``message``), ``error`` (its input is corrupt), or ``fail``/
    ``partial`` for sub-checks that are not thresholds. Metrics are plain numbers (in the
    threshold's unit), :class:`Quantity` or strings. ``details`` is free JSON-able data the
    report may show (formulas, violation lists).

    ``observed`` says what the verdict rests on: ``{"events": int, "first": ISO-8601 | None,
    "newest": ISO-8601 | None, "what": "heartbeats"}``. The engine never lets a check pass on
    nothing: ``events == 0`` becomes ``missing`` ("not exercised: no heartbeats in the period"),
    and the requirement's ``min_period`` / ``max_age`` are judged against ``first`` / ``newest``.
    Empty when the check does not report observations.

    ``configure`` names what must be set for the check to run (a ``golive.toml`` setting or a
    plan param) when it returns ``missing``/``skipped`` for lack of configuration: the readiness
    verdict then says INCOMPLETE ("configure X"), not NOT READY.
    """

    status: Status | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    artifacts: list[Artifact] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    configure: str = ""


@dataclass
class TestRecord:
    """A test or a test result found in the target by a traceability plugin.

    ``id`` is a pytest node id (``tests/feed/test_x.py::test_y``) for tests and the relative
    path for standalone result files. ``kind`` is ``pytest`` (a test function), or
    ``result-json`` / ``junit`` (a result file). ``outcome`` is ``passed``, ``failed``,
    ``skipped``, ``error`` or ``None`` when no recorded result was found. ``requirements``
    holds the ids named by markers in the test itself.
    """

    id: str
    path: str
    kind: str
    name: str = ""
    outcome: str | None = None
    requirements: tuple[str, ...] = ()
    duration_s: float | None = None
    source: str = ""  # which plugin found it


@dataclass
class Target:
    """The trading workspace under audit. ``paths`` maps artifact kinds (data, records, logs,
    config, tests, test_results) to folders, from ``golive.toml`` or the defaults."""

    root: Path
    paths: dict[str, Path] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def path(self, kind: str) -> Path:
        """The folder for an artifact kind: configured in golive.toml, else ``<root>/<kind>``
        (``test_results`` -> ``test-results``). ``paths`` holds only configured folders."""
        return self.paths.get(kind, self.root / kind.replace("_", "-"))


@dataclass
class CheckContext:
    """What a check function gets besides its requirement.

    ``params`` are the requirement's ``check.params``; ``tests`` the traceability records that
    cover the requirement; ``record_artifact`` hashes a file and adds it to the evidence.
    """

    target: Target
    params: Mapping[str, Any]
    settings: Mapping[str, Any]
    log: logging.Logger
    tests: list[TestRecord] = field(default_factory=list)
    all_tests: list[TestRecord] = field(default_factory=list)
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    artifacts: list[Artifact] = field(default_factory=list)

    def record_artifact(self, path: Path | str, role: str = "input") -> Artifact:
        """Hash ``path`` (relative to the target root, or absolute) into the evidence. A path
        that resolves outside the target (a symbolic link out of it) raises
        ``golive.run.target.OutsideTarget``, naming the link and its destination."""
        from golive.digest import file_sha256
        from golive.run.target import confined

        full = confined(self.target.root, path)
        try:
            rel = str(full.relative_to(self.target.root.resolve()))
        except ValueError:  # a link loop, left unresolved: hashing it fails and says so
            rel = str(full)
        art = Artifact(path=rel, sha256=file_sha256(full), role=role)
        self.artifacts.append(art)
        return art


@dataclass
class ThresholdResult:
    metric: str
    op: str
    value: Any
    unit: str | None
    observed: Any
    passed: bool
    loosened: bool = False  # a tailoring override made it less strict than the plan


@dataclass
class Outcome:
    """The engine's verdict on one requirement in one run (one entry of ``results``).

    ``implemented`` means *covered* (see :attr:`covered`): a confirmed test links to the
    requirement, or its check / attestation produced evidence it could judge (status pass, fail
    or partial). It says nothing about passing: a failing requirement is covered. The name is
    kept for the results document's ``implemented`` key (an alias of ``covered``).
    """

    requirement: Requirement
    status: Status
    reason: str = ""
    implemented: bool = False
    covered_by: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    thresholds: list[ThresholdResult] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    checker: str = ""
    checker_version: str = ""
    not_applicable: str = ""  # reason from tailoring, when the requirement was tailored out
    observed: dict[str, Any] = field(default_factory=dict)  # CheckResult.observed, as judged
    configure: str = ""  # CheckResult.configure: what to set for the check to run

    @property
    def covered(self) -> bool:
        """A confirmed test, or evidence the check or an attestation could judge."""
        return self.implemented

    @property
    def verified(self) -> bool:
        """The requirement passes its thresholds (a waiver never makes it verified)."""
        return self.status is Status.PASS
