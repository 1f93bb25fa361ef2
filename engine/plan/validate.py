"""Semantic checks of the plan, after its files passed their JSON Schemas.

The schema says a field has the right shape; these checks say the plan makes sense: ids are
unique and prefixed by their section, categories/priorities/phases exist in plan.yaml, plan line
ranges nest (requirement in section, section in phase, phase in the document), units are known,
``between`` ranges are ordered, manual requirements carry no check, schedules parse, and -- given
the installed plugins' checks -- every ``check`` names a real plugin check with valid params and
thresholds only on metrics the check reports.

``validate_plan`` collects every problem; ``load_validated`` raises :class:`PlanError`.
``format_problems`` and ``requirements_per_phase`` serve ``golive validate``.
"""
from __future__ import annotations

import difflib
import math
import zoneinfo
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

import jsonschema

from golive.model import CheckSpec, Plan, Requirement, Section
from golive.plan.load import PLAN_FILE, PlanError, PlanSource, Problem, read_plan, schema_problems
from golive.plan.thresholds import value_problem
from golive.plan.units import UNITS, UnitError, duration_seconds, is_known

PLUGINS_HINT = "run `golive plugins` to list installed plugins and their checks"


def _known(names: Iterable[Any]) -> str:
    return ", ".join(str(n) for n in names) or "none"


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    by_lower = {str(o).lower(): str(o) for o in options}  # "mb" should still find "MiB"
    close = difflib.get_close_matches(str(word).lower(), list(by_lower), n=1)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def _lines(r: tuple[int, int]) -> str:
    return f"lines {r[0]}-{r[1]}"


def _inside(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


class _Checker:
    """Runs the semantic checks over one read plan, appending to ``problems``."""

    def __init__(self, source: PlanSource, checks: Mapping[str, CheckSpec] | None):
        assert source.plan is not None
        self.source = source
        self.plan: Plan = source.plan
        self.checks = checks
        self.problems: list[Problem] = []
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}  # per check, metaschema-checked

    def add(self, rel: str, path: list[Any], message: str) -> None:
        self.problems.append(self.source.problem(rel, path, message))

    # -- plan.yaml ---------------------------------------------------------------------------
    def check_plan_file(self) -> None:
        plan = self.plan
        document = (1, plan.source_lines)
        numbers: dict[int, int] = {}
        ids: dict[str, int] = {}
        for index, phase in enumerate(plan.phases):
            where = ["phases", index]
            if phase.number in numbers:
                self.add(PLAN_FILE, where + ["number"], f"phase number {phase.number} is used twice "
                         f"(also phases[{numbers[phase.number]}])")
            numbers.setdefault(phase.number, index)
            if phase.id in ids:
                self.add(PLAN_FILE, where + ["id"], f"phase id {phase.id!r} is used twice (also phases[{ids[phase.id]}])")
            ids.setdefault(phase.id, index)
            self.check_range(PLAN_FILE, where + ["plan_lines"], phase.plan_lines, document,
                             f"the plan document (lines 1-{plan.source_lines}; see plan.source_lines)")
        seen: dict[str, int] = {}
        for index, category in enumerate(plan.categories):
            if category.id in seen:
                self.add(PLAN_FILE, ["categories", index, "id"],
                         f"category {category.id!r} is defined twice (also categories[{seen[category.id]}])")
            seen.setdefault(category.id, index)
        for key in ("verified", "no_failing"):
            named = plan.readiness.get(key)
            for index, priority in enumerate(named if isinstance(named, list) else []):
                if priority not in plan.priorities:
                    self.add(PLAN_FILE, ["readiness", key, index], f"unknown priority {priority!r}; plan.yaml "
                             f"defines: {_known(plan.priorities)}")
        roles, quorum = plan.signoff.get("roles"), plan.signoff.get("quorum")
        if isinstance(roles, list) and isinstance(quorum, int) and quorum > len(roles):
            self.add(PLAN_FILE, ["signoff", "quorum"], f"quorum {quorum} exceeds the {len(roles)} roles listed")
        if isinstance(roles, dict) and quorum is not None:
            self.add(PLAN_FILE, ["signoff", "quorum"], "quorum applies to a list of roles; with a count per role "
                     "every role needs its count")
        for key in ("max_days", "approvers"):
            for priority in plan.waivers.get(key) or {}:
                if priority not in plan.priorities:
                    self.add(PLAN_FILE, ["waivers", key, priority], f"unknown priority {priority!r}; plan.yaml "
                             f"defines: {_known(plan.priorities)}")
        if any(math.isnan(v) for v in plan.bands.values()):
            self.add(PLAN_FILE, ["bands"], "bands must be numbers between 0 and 1, not NaN")
        elif plan.bands["partial"] > plan.bands["well"]:
            self.add(PLAN_FILE, ["bands", "partial"], f"partial ({plan.bands['partial']}) must not exceed "
                     f"well ({plan.bands['well']})")

    def check_range(self, rel: str, path: list[Any], span: tuple[int, int], outer: tuple[int, int] | None,
                    outer_name: str) -> None:
        if span[0] > span[1]:
            self.add(rel, path, f"[{span[0]}, {span[1]}] is reversed; write [first, last] with first <= last")
        elif outer is not None and not _inside(span, outer):
            self.add(rel, path, f"{_lines(span)} lie outside {outer_name}")

    # -- section files -----------------------------------------------------------------------
    def check_sections(self) -> None:
        phases = {p.number: p for p in self.plan.phases}
        section_ids: dict[str, str] = {}
        first_seen: dict[str, str] = {}  # requirement id -> "file:line" of its first definition
        for section in self.plan.sections:
            rel = section.file
            if section.id in section_ids:
                self.add(rel, ["section", "id"], f"section id {section.id!r} is also used in {section_ids[section.id]}")
            section_ids.setdefault(section.id, self.source.display(rel))
            phase = phases.get(section.phase)
            if phase is None:
                self.add(rel, ["section", "phase"], f"phase {section.phase} is not defined in plan.yaml "
                         f"(phases: {_known(phases)})")
            phase_range = phase.plan_lines if phase and phase.plan_lines[0] <= phase.plan_lines[1] else None
            self.check_range(rel, ["section", "plan_lines"], section.plan_lines, phase_range,
                             f"phase {section.phase} ({_lines(phase_range)})" if phase_range else "")
            for index, requirement in enumerate(section.requirements):
                where = ["requirements", index]
                if requirement.id in first_seen:
                    self.add(rel, where + ["id"], f"duplicate requirement id {requirement.id!r} "
                             f"(first defined at {first_seen[requirement.id]})")
                else:
                    first_seen[requirement.id] = f"{self.source.display(rel)}:{requirement.source.line}"
                self.check_requirement(section, requirement, rel, where)

    def check_requirement(self, section: Section, req: Requirement, rel: str, where: list[Any]) -> None:
        plan = self.plan
        if not req.id.startswith(section.id + "-"):
            self.add(rel, where + ["id"], f"requirement id {req.id!r} must start with its section id "
                     f"'{section.id}-' (e.g. {section.id}-01)")
        categories = [c.id for c in plan.categories]
        if req.category not in categories:
            self.add(rel, where + ["category"], f"unknown category {req.category!r}"
                     f"{_did_you_mean(req.category, categories)}; plan.yaml defines: {_known(categories)}")
        if req.priority not in plan.priorities:
            self.add(rel, where + ["priority"], f"unknown priority {req.priority!r}; plan.yaml defines: "
                     f"{_known(plan.priorities)}")
        section_range = section.plan_lines if section.plan_lines[0] <= section.plan_lines[1] else None
        if "plan_lines" in self._raw(rel, where):  # otherwise it is the section's own range
            self.check_range(rel, where + ["plan_lines"], req.plan_lines, section_range,
                             f"section {section.id} ({_lines(section_range)})" if section_range else "")
        self.check_thresholds(req, rel, where)
        if req.check is not None:
            self.check_check_block(req, rel, where + ["check"])
        if req.manual and req.check is not None:
            self.add(rel, where + ["check"], "a manual requirement has no automated check; remove "
                     "'check' or set manual: false")
        if req.schedule is not None:
            self.check_schedule(req.schedule, rel, where + ["schedule"])
        for key in ("min_period", "max_age"):
            if getattr(req, key) is not None:
                try:
                    duration_seconds(self._raw(rel, where)[key])
                except UnitError as exc:
                    self.add(rel, where + [key], f"{exc}; write a duration such as \"5 d\" or \"12 h\"")
        if req.check is not None and self.checks is not None:
            self.check_plugin_check(req, rel, where)

    def check_check_block(self, req: Requirement, rel: str, at: list[Any]) -> None:
        assert req.check is not None
        timeout = req.check.timeout_s
        if timeout is not None and not math.isfinite(timeout):
            self.add(rel, at + ["timeout"], f"timeout must be a finite number of seconds, not {timeout}")
        bad = _first_non_json(req.check.params, [])
        if bad is not None:
            path, value = bad
            shown = value.isoformat() if hasattr(value, "isoformat") else repr(value)
            self.add(rel, at + ["params", *path], f"params must be plain JSON values (string, number, boolean, "
                     f"null, list, mapping); {shown} is read as {type(value).__name__}: quote it")

    def _raw(self, rel: str, where: list[Any]) -> dict[str, Any]:
        node: Any = self.source.docs[rel].data
        for step in where:
            node = node[step]
        return node

    def check_thresholds(self, req: Requirement, rel: str, where: list[Any]) -> None:
        metrics = Counter(t.metric for t in req.thresholds)
        reported: set[str] = set()
        for index, threshold in enumerate(req.thresholds):
            at = where + ["thresholds", index]
            if metrics[threshold.metric] > 1 and threshold.metric not in reported:
                reported.add(threshold.metric)
                self.add(rel, at + ["metric"], f"metric {threshold.metric!r} has more than one threshold; "
                         "use one threshold per metric (op 'between' for a range)")
            if threshold.unit is not None and not is_known(threshold.unit):
                self.add(rel, at + ["unit"], f"unknown unit {threshold.unit!r}"
                         f"{_did_you_mean(threshold.unit, UNITS)}; known units: {_known(UNITS)}")
            problem = value_problem(threshold.op, threshold.value, threshold.unit)
            if problem is not None:
                self.add(rel, at + ["value"], problem)

    def check_schedule(self, schedule: Mapping[str, Any], rel: str, at: list[Any]) -> None:
        has_cron, has_interval = "cron" in schedule, "interval" in schedule
        if has_cron == has_interval:
            self.add(rel, at, "a schedule needs exactly one of 'cron' or 'interval'")
        timezone = schedule.get("timezone")
        tz = None
        if timezone is not None:
            try:
                tz = zoneinfo.ZoneInfo(timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                self.add(rel, at + ["timezone"], f"unknown time zone {timezone!r}; use an IANA name "
                         "such as America/New_York")
        if has_cron:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(schedule["cron"], timezone=tz or "UTC")
            except ValueError as exc:
                self.add(rel, at + ["cron"], f"invalid cron expression {schedule['cron']!r}: {exc} "
                         "(five fields: minute hour day month day-of-week)")
        if has_interval:
            try:
                duration_seconds(schedule["interval"])
            except UnitError as exc:
                self.add(rel, at + ["interval"], str(exc))

    def check_plugin_check(self, req: Requirement, rel: str, where: list[Any]) -> None:
        assert req.check is not None and self.checks is not None
        ref, at = req.check, where + ["check"]
        plugins = sorted({spec.plugin for spec in self.checks.values()})
        spec = self.checks.get(f"{ref.plugin}.{ref.name}")
        if ref.plugin not in plugins:
            self.add(rel, at + ["plugin"], f"unknown plugin {ref.plugin!r}{_did_you_mean(ref.plugin, plugins)}; "
                     f"installed plugins: {_known(plugins)} ({PLUGINS_HINT})")
            return
        if spec is None:
            names = sorted(s.name for s in self.checks.values() if s.plugin == ref.plugin)
            self.add(rel, at + ["name"], f"plugin {ref.plugin!r} has no check {ref.name!r}"
                     f"{_did_you_mean(ref.name, names)}; its checks: {_known(names)} ({PLUGINS_HINT})")
            return
        doc = self.source.docs[rel]
        try:
            validator = self._validators.get(spec.key)
            if validator is None:  # the metaschema check is slow: once per check, not per requirement
                jsonschema.Draft202012Validator.check_schema(spec.params_schema)
                validator = self._validators[spec.key] = jsonschema.Draft202012Validator(spec.params_schema)
            self.problems += schema_problems(validator, dict(ref.params), doc, self.source.display(rel),
                                             base_path=at + ["params"], field_data=doc.data)
            for name in undeclared_params(spec.params_schema, ref.params):
                declared = sorted((spec.params_schema.get("properties") or {}))
                self.add(rel, at + ["params", name],
                         f"check {spec.key} has no param {name!r}{_did_you_mean(name, declared)}; "
                         f"its params: {_known(declared) if declared else 'none'}")
        except jsonschema.SchemaError as exc:
            self.add(rel, at, f"check {spec.key} declares an invalid params schema (a plugin bug): {exc.message}")
        except Exception as exc:  # noqa: BLE001 -- a third-party schema must not crash validation
            self.add(rel, at, f"check {spec.key}: its params schema cannot be applied (a plugin bug): "
                     f"{type(exc).__name__}: {exc}")
        if spec.metrics:
            for index, threshold in enumerate(req.thresholds):
                if threshold.metric not in spec.metrics:
                    self.add(rel, where + ["thresholds", index, "metric"],
                             f"check {spec.key} does not report metric {threshold.metric!r}"
                             f"{_did_you_mean(threshold.metric, spec.metrics)}; it reports: {_known(spec.metrics)}")


def undeclared_params(schema: Any, params: Any) -> list[str]:
    """Param names a check's schema does not declare. A schema that says nothing about extra
    names (no ``additionalProperties``) is read as closed: a param no check reads is ignored
    silently, the worst outcome. ``additionalProperties`` true or a schema is an explicit
    opt-in; ``additionalProperties: false`` is left to JSON Schema (reported once)."""
    if not isinstance(schema, dict) or not isinstance(params, dict) or "additionalProperties" in schema:
        return []
    declared = set(schema.get("properties") or {})
    patterns = list(schema.get("patternProperties") or {})
    import re

    return [k for k in params if k not in declared and not any(re.search(p, str(k)) for p in patterns)]


def _first_non_json(value: Any, path: list[Any]) -> tuple[list[Any], Any] | None:
    """The first value inside check params that JSON cannot carry (a YAML date, binary, NaN),
    because params are recorded in the evidence ledger as canonical JSON."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_non_json(item, path + [key])
            if found:
                return found
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_non_json(item, path + [index])
            if found:
                return found
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return path, value
    if value is None or isinstance(value, (str, bool, int, float)):
        return None
    return path, value


def _sort(source: PlanSource, problems: Iterable[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (source.file_rank(p.file), p.file, p.line or 0, p.field, p.message))


def validate_plan(plan_path: Path | str | None = None,
                  checks: Mapping[str, CheckSpec] | None = None) -> tuple[Plan | None, list[Problem]]:
    """Read and check the plan; returns ``(plan, [])`` or ``(None, problems)`` with every problem found.

    ``checks`` maps ``"plugin.name"`` to the installed :class:`CheckSpec` (``PluginHost.checks()``);
    None skips the plugin checks (unknown plugin/check, params, metrics).
    """
    source = read_plan(plan_path)
    problems = list(source.problems)
    if source.plan is not None:
        checker = _Checker(source, checks)
        checker.check_plan_file()
        checker.check_sections()
        problems += checker.problems
    problems = _sort(source, problems)
    return (None, problems) if problems else (source.plan, [])


def load_validated(path: Path | str | None = None, checks: Mapping[str, CheckSpec] | None = None) -> Plan:
    """The checked plan at ``path``, or :class:`PlanError` listing every problem."""
    plan, problems = validate_plan(path, checks)
    if problems or plan is None:
        raise PlanError(problems)
    return plan


def format_problems(problems: Iterable[Problem]) -> str:
    """One ``file:line: field: message`` line per problem, in the order given (the CLI adds the count)."""
    return "\n".join(str(p) for p in problems)


def requirements_per_phase(plan: Plan) -> dict[int, int]:
    """Requirement count per phase number, in plan.yaml's phase order (0 for empty phases)."""
    counts = {phase.number: 0 for phase in plan.phases}
    for requirement in plan.requirements:
        counts[requirement.phase] = counts.get(requirement.phase, 0) + 1
    return counts

