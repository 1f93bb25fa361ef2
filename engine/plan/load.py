"""Loading the plan: ``requirements/plan.yaml`` plus its section files -> :class:`~golive.model.Plan`.

Two stages, both collecting every problem instead of stopping at the first:

1. :func:`read_plan` reads each file with the safe, line-aware reader (:mod:`golive.yamlsafe`),
   validates it against its JSON Schema (``schema/plan.schema.json``,
   ``schema/section.schema.json``) and builds the dataclasses of :mod:`golive.model` from the
   files that are well-formed. It never raises for bad input.
2. :mod:`golive.plan.validate` runs the semantic checks (unique ids, known categories, line ranges,
   units, plugin checks and their params).

:func:`load` runs both (without plugin checks) and raises :class:`PlanError`, the one exception
type for a bad plan; its ``problems`` name ``file:line: field: message`` for each mistake.

``Plan.digest`` is the sha256 of a manifest with one line ``<sha256 of file bytes>  <path>``
per plan file -- plan.yaml first, then the section files in the order plan.yaml lists them --
so ``sha256sum`` can reproduce it, and any byte change (comments included) changes the digest.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Mapping

import jsonschema

from golive.model import (
    Category, CheckRef, CoveredBy, Phase, Plan, Reference, Requirement, Section, SourceLocation,
    Threshold,
)
from golive.yamlsafe import YamlDoc, YamlError, read_yaml

PLAN_FILE = "plan.yaml"
SCHEMA_DIR = Path(__file__).parent.parent / "schema"


@dataclass(frozen=True)
class Problem:
    """One mistake in the plan: where it is and what to fix. ``line`` is 1-based, None if unknown."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PlanError(ValueError):
    """The plan cannot be used; ``problems`` lists every mistake found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid plan")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems) or "invalid plan"


def default_plan_path() -> Path:
    """plan.yaml of the plan that ships with golive (``golive.requirements``)."""
    import golive.requirements

    return Path(golive.requirements.__file__).parent / PLAN_FILE


@functools.cache
def schema_validator(name: str) -> jsonschema.Draft202012Validator:
    """The draft 2020-12 validator for ``schema/<name>.schema.json`` (``plan`` or ``section``)."""
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# --- turning JSON Schema errors into messages a plan author can act on -------------------------

def yaml_type(value: Any) -> str:
    """The YAML name of a value's type, as an author sees it."""
    if isinstance(value, bool):
        return "boolean"
    names = {str: "string", int: "integer", float: "number", type(None): "null", dict: "mapping",
             list: "list", bytes: "binary"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    if hasattr(value, "isoformat"):
        return "date"
    return type(value).__name__


JSON_TYPE_NAMES = {"object": "mapping", "array": "list"}  # say it in YAML's words


def field_name(data: Any, path: Iterable[Any]) -> str:
    """``requirements[PRE-PIPE-04].thresholds[0].op``: a requirement is named by its id."""
    out, node = "", data
    for step in path:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            named = isinstance(item, dict) and isinstance(item.get("id"), str) and out.endswith("requirements")
            out += f"[{item['id']}]" if named else f"[{step}]"
            node = item
        else:
            out += f".{step}" if out else str(step)
            node = node.get(step) if isinstance(node, dict) else None
    return out


def _follow(root: Mapping[str, Any], node: Any, step: Any) -> Any:
    """``node[step]``, looking through ``$ref`` (jsonschema leaves refs out of schema paths)."""
    while isinstance(node, dict) and step not in node and "$ref" in node:
        node = _deref(root, node["$ref"])
    return node[step]


def _deref(root: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#"):
        raise KeyError(ref)  # remote refs carry no hints we could use
    node: Any = root
    for part in ref.removeprefix("#").strip("/").split("/"):
        if part:
            node = node[int(part) if isinstance(node, list) else part]
    return node


def _schema_hint(root: Mapping[str, Any], schema_path: Iterable[Any]) -> str:
    """The ``x-error`` hint of the schema node holding the failing keyword, or of the node whose
    ``$ref`` led to it (``"id": {"$ref": ..., "x-error": ...}``)."""
    steps = list(schema_path)
    try:
        holder: Any = root
        for step in steps[:-1]:
            holder = _follow(root, holder, step)
        hints = []
        while isinstance(holder, dict):
            hints.append(holder.get("x-error"))
            if not steps or steps[-1] in holder or "$ref" not in holder:
                break
            holder = _deref(root, holder["$ref"])
    except (KeyError, IndexError, TypeError, ValueError):
        return ""
    return next((h for h in reversed(hints) if isinstance(h, str) and h), "")


def schema_messages(error: jsonschema.ValidationError, root_schema: Mapping[str, Any]) -> list[tuple[list[Any], str]]:
    """(instance path, message) pairs for one schema error; ``required`` and
    ``additionalProperties`` errors point at each missing or extra key itself."""
    path = list(error.absolute_path)
    value = error.instance
    if error.validator == "required" and isinstance(value, dict):
        missing = [name for name in error.validator_value
                   if name not in value and error.message.startswith(repr(name))]
        return [(path + [name], "required field is missing") for name in missing[:1] or ["?"]]
    if error.validator == "additionalProperties" and isinstance(value, dict):
        allowed = sorted((error.schema.get("properties") or {}).keys())
        patterns = list((error.schema.get("patternProperties") or {}).keys())
        extra = [k for k in value if k not in allowed and not any(re.search(p, str(k)) for p in patterns)]
        return [(path + [name], f"unknown field {name!r}; allowed fields: {', '.join(allowed) or 'none'}")
                for name in extra or ["?"]]
    hint = _schema_hint(root_schema, error.absolute_schema_path)
    if error.validator == "enum":
        return [(path, f"must be one of {', '.join(map(str, error.validator_value))}, not {value!r}")]
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = [JSON_TYPE_NAMES.get(w, w) for w in wanted]
        shown = value.isoformat() if hasattr(value, "isoformat") else repr(value)
        message = f"expected {' or '.join(wanted)}, got {yaml_type(value)} {shown[:80]}"
        if hasattr(value, "isoformat") and "string" in wanted:
            message += "; quote it to keep it a string"
    elif error.validator == "minItems" and error.validator_value == 1:
        message = "must not be empty"
    else:
        message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
    return [(path, f"{message} ({hint})" if hint else message)]


def schema_problems(validator: jsonschema.Draft202012Validator, data: Any, doc: YamlDoc | None,
                    file: str, base_path: Iterable[Any] = (), field_data: Any = None) -> list[Problem]:
    """Every schema error of ``data`` as a Problem. ``base_path`` places ``data`` inside ``doc``
    (check params live under ``requirements[i].check.params``); ``field_data`` is the document
    the field names are computed from (``data`` itself by default)."""
    base = list(base_path)
    named_from = field_data if field_data is not None else data
    problems = []
    for error in validator.iter_errors(data):
        for path, message in schema_messages(error, validator.schema):
            full = base + path
            line = doc.line_of(full) if doc else None
            problems.append(Problem(file, line, field_name(named_from, full), message))
    return problems


# --- reading the files -----------------------------------------------------------------------

@dataclass
class PlanSource:
    """The result of reading the plan files: what was built, from which documents, and the
    problems found so far. :mod:`golive.plan.validate` adds the semantic problems."""

    plan_file: Path
    root: Path
    docs: dict[str, YamlDoc] = field(default_factory=dict)  # by path relative to plan.yaml
    order: list[str] = field(default_factory=list)  # plan.yaml, then sections as listed
    plan: Plan | None = None
    complete: bool = False  # every listed file was read, schema-valid and built into ``plan``
    problems: list[Problem] = field(default_factory=list)

    def display(self, rel: str) -> str:
        """How a plan file is named in messages: the folder the user gave, plus the relative path."""
        return str(self.plan_file) if rel == PLAN_FILE else str(self.root / rel)

    def problem(self, rel: str, path: Iterable[Any], message: str, field: str | None = None) -> Problem:
        doc = self.docs.get(rel)
        path = list(path)
        line = doc.line_of(path) if doc else None
        name = field if field is not None else field_name(doc.data if doc else None, path)
        return Problem(self.display(rel), line, name, message)

    def file_rank(self, display: str) -> int:
        names = [self.display(rel) for rel in self.order]
        return names.index(display) if display in names else len(names)


def resolve_plan_path(path: Path | str | None) -> Path:
    """plan.yaml for ``path``: the packaged plan when None, ``path/plan.yaml`` for a folder."""
    if path is None:
        return default_plan_path()
    path = Path(path)
    return path / PLAN_FILE if path.is_dir() else path


def _read(source: PlanSource, rel: str, path: Path) -> YamlDoc | None:
    try:
        doc = read_yaml(path, source.display(rel))
    except YamlError as exc:
        source.problems.append(Problem(exc.file, exc.line, "", exc.message))
        return None
    source.docs[rel] = doc
    return doc


def _section_paths(source: PlanSource, plan_data: Any) -> list[tuple[str, int]]:
    """The section files plan.yaml lists that can be read: (relative path, index in the list)."""
    listed = plan_data.get("sections") if isinstance(plan_data, dict) else None
    if not isinstance(listed, list):
        return []
    seen: dict[str, int] = {}
    paths = []
    for index, rel in enumerate(listed):
        if not isinstance(rel, str) or not rel.endswith((".yaml", ".yml")) or rel.startswith("/"):
            continue  # the schema reports it
        where = ["sections", index]
        if rel == PLAN_FILE:
            source.problems.append(source.problem(PLAN_FILE, where, "plan.yaml cannot list itself as a section"))
        elif ".." in PurePosixPath(rel).parts or "\\" in rel:
            source.problems.append(source.problem(PLAN_FILE, where, f"{rel!r} leaves the plan folder; "
                                                  "section files must live under it"))
        elif rel in seen:
            source.problems.append(source.problem(PLAN_FILE, where, f"{rel} is listed twice "
                                                  f"(first as sections[{seen[rel]}])"))
        elif not (source.root / rel).is_file():
            what = "is a directory" if (source.root / rel).is_dir() else "not found"
            source.problems.append(source.problem(PLAN_FILE, where, f"section file {rel} {what} "
                                                  f"(looked in {source.root})"))
        else:
            seen[rel] = index
            paths.append((rel, index))
    return paths


def read_plan(path: Path | str | None = None) -> PlanSource:
    """Read, schema-check and build the plan at ``path`` (see :func:`resolve_plan_path`).

    Never raises for bad input: ``source.plan`` is None when plan.yaml is unreadable or fails
    its schema; it leaves out section files that are, and ``source.problems`` says why.
    """
    plan_file = resolve_plan_path(path)
    source = PlanSource(plan_file=plan_file, root=plan_file.parent, order=[PLAN_FILE])
    plan_doc = _read(source, PLAN_FILE, plan_file)
    if plan_doc is None:
        return source
    plan_errors = schema_problems(schema_validator("plan"), plan_doc.data, plan_doc, source.display(PLAN_FILE))
    source.problems += plan_errors
    sections: list[Section] = []
    clean = not plan_errors
    for rel, _ in _section_paths(source, plan_doc.data):
        source.order.append(rel)
        doc = _read(source, rel, source.root / rel)
        if doc is None:
            clean = False
            continue
        errors = schema_problems(schema_validator("section"), doc.data, doc, source.display(rel))
        source.problems += errors
        if errors:
            clean = False
        else:
            sections.append(build_section(doc.data, rel, doc))
    if not plan_errors:
        # built even when a section file is broken, so the semantic checks still cover the
        # others; ``complete`` says whether every file made it in
        source.plan = build_plan(plan_doc.data, sections, source)
        source.complete = clean and not source.problems
    return source


# --- building the model from schema-valid data ----------------------------------------------

def _range(value: list[int]) -> tuple[int, int]:
    return int(value[0]), int(value[1])


def build_requirement(data: dict[str, Any], section: Section, rel: str, line: int | None) -> Requirement:
    check = data.get("check")
    thresholds = tuple(
        Threshold(
            metric=t["metric"], op=t["op"],
            value=tuple(t["value"]) if t["op"] == "between" else t["value"],
            unit=t.get("unit"), description=t.get("description", ""),
        )
        for t in data.get("thresholds", [])
    )
    covered = data.get("covered_by", {})
    return Requirement(
        id=data["id"], title=data["title"], statement=data["statement"],
        category=data["category"], priority=data["priority"],
        plan_lines=_range(data["plan_lines"]) if "plan_lines" in data else section.plan_lines,
        section=section.id, phase=section.phase,
        check=CheckRef(
            plugin=check["plugin"], name=check["name"], params=dict(check.get("params", {})),
            timeout_s=float(check["timeout"]) if "timeout" in check else None,
        ) if check else None,
        thresholds=thresholds,
        covered_by=CoveredBy(
            tests=tuple(covered.get("tests", ())), results=tuple(covered.get("results", ())),
            markers=tuple(covered.get("markers", ())),
        ),
        manual=bool(data.get("manual", False)),
        references=tuple(Reference(r["source"], r.get("clause", "")) for r in data.get("references", [])),
        schedule=dict(data["schedule"]) if "schedule" in data else None,
        tags=tuple(data.get("tags", ())),
        source=SourceLocation(rel, line),
        min_period=_duration_text(data.get("min_period")),
        max_age=_duration_text(data.get("max_age")),
        owner=str(data.get("owner") or section.owner),
    )


def _duration_text(value: Any) -> str | None:
    """A plan duration as written ("5 d"); a bare number is seconds. Checked by the validator."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value!r} s"  # repr round-trips: ':g' made 123456789 '1.23457e+08' (and unparseable)
    return str(value)


def build_section(data: dict[str, Any], rel: str, doc: YamlDoc) -> Section:
    head = data["section"]
    section = Section(id=head["id"], phase=int(head["phase"]), title=head["title"],
                      plan_lines=_range(head["plan_lines"]), file=rel, origin=head.get("source", "plan"),
                      owner=str(head.get("owner") or ""))
    section.requirements = [
        build_requirement(item, section, rel, doc.line_of(["requirements", index]))
        for index, item in enumerate(data["requirements"])
    ]
    return section


def plan_digest(docs: Iterable[tuple[str, YamlDoc]]) -> str:
    """sha256 of the manifest ``<sha256>  <relative path>\\n`` over the plan files, in plan order."""
    manifest = "".join(f"{doc.sha256}  {rel}\n" for rel, doc in docs)
    return hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def build_plan(data: dict[str, Any], sections: list[Section], source: PlanSource) -> Plan:
    head = data["plan"]
    return Plan(
        id=head["id"], title=head["title"], version=head["version"], source_lines=int(head["source_lines"]),
        phases=[Phase(int(p["number"]), p["id"], p["title"], _range(p["plan_lines"])) for p in data["phases"]],
        categories=[Category(c["id"], c["title"]) for c in data["categories"]],
        priorities=dict(data["priorities"]),
        bands={k: float(v) for k, v in data["bands"].items()},
        sections=sections,
        digest=plan_digest((rel, source.docs[rel]) for rel in source.order if rel in source.docs),
        root=source.root,
        readiness=dict(data.get("readiness") or {}),
        signoff=dict(data.get("signoff") or {}),
        waivers=dict(data.get("waivers") or {}),
    )


def load(path: Path | str | None = None) -> Plan:
    """Load and check the plan at ``path`` (default: the packaged plan); raises :class:`PlanError`.

    Runs every check that needs no plugin; use :func:`golive.plan.validate.load_validated` to also
    resolve ``check`` blocks against the installed plugins.
    """
    from golive.plan.validate import load_validated  # validate builds on this module

    return load_validated(path, checks=None)


def load_validated(path: Path | str | None = None, checks: Mapping[str, Any] | None = None) -> Plan:
    """:func:`load` plus the plugin checks: ``checks`` maps ``"plugin.name"`` to each installed
    :class:`~golive.model.CheckSpec`. Raises :class:`PlanError` listing every problem."""
    from golive.plan.validate import load_validated as load_and_resolve

    return load_and_resolve(path, checks)
