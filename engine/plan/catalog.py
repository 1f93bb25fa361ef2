"""Framework catalogs: a regulation or guidance as items mapped to the plan's requirements.

A catalog lives beside the plan, in ``<plan folder>/frameworks/<framework id>.yaml`` (the
packaged ones in ``requirements/frameworks/``). The plan loader reads only the section files
``plan.yaml`` lists, so catalogs never become requirements. Each file is read with the same safe,
line-aware YAML reader as the plan and validated against ``schema/catalog.schema.json``; then:

- every item either maps to plan requirements (``requirements``, optionally ``uncovered`` for the
  part they do not evidence) or says why none does (``gap``) -- the schema enforces this;
- every mapped id is a requirement of the plan;
- every reference matches the framework's own ``reference_pattern`` (``RTS 6 Art. 12``);
- item ids are unique across all catalogs, framework ids are unique and name their file.

:func:`load_catalogs` returns the frameworks or raises :class:`CatalogError`, whose problems read
``file:line: field: message`` like the plan's. :func:`framework_mapping` gives, per framework,
its items, how many are mapped and how many are gaps, and per item the plan requirements with
their checks -- one check serves every framework whose items map to its requirement.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from golive.model import Plan
from golive.plan.load import Problem, field_name, resolve_plan_path, schema_problems, schema_validator
from golive.yamlsafe import YamlDoc, YamlError, read_yaml

CATALOG_FOLDER = "frameworks"


@dataclass(frozen=True)
class CatalogItem:
    """One item of a framework: what it asks, in golive's words, and what evidences it."""

    id: str
    reference: str
    title: str
    text: str
    requirements: tuple[str, ...] = ()
    uncovered: str | None = None  # the part of the item its requirements do not evidence
    gap: str | None = None  # why no requirement evidences the item
    line: int | None = None

    @property
    def is_gap(self) -> bool:
        return not self.requirements


@dataclass(frozen=True)
class Framework:
    """One catalog file."""

    id: str
    title: str
    source: str
    reference_pattern: str
    items: tuple[CatalogItem, ...]
    file: str
    url: str | None = None
    version: str | None = None
    description: str = ""


class CatalogError(ValueError):
    """A catalog cannot be used; ``problems`` lists every mistake found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems) or "invalid catalog"


def catalog_folder(plan_path: Path | str | None = None) -> Path:
    """``frameworks/`` beside the plan at ``plan_path`` (the packaged plan when None)."""
    return resolve_plan_path(plan_path).parent / CATALOG_FOLDER


def catalog_files(folder: Path) -> list[Path]:
    """The catalog files of ``folder``, by name (``*.yaml`` and ``*.yml``)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _name_item(field: str, data: Any) -> str:
    """``items[3].gap`` -> ``items[RTS6-ART12].gap``: an item is named by its id when it has one."""
    def rename(match: re.Match[str]) -> str:
        index = int(match.group(1))
        items = data.get("items") if isinstance(data, dict) else None
        item = items[index] if isinstance(items, list) and index < len(items) else None
        return f"items[{item['id']}]" if isinstance(item, dict) and isinstance(item.get("id"), str) else match.group(0)

    return re.sub(r"^items\[(\d+)\]", rename, field)


def _problem(doc: YamlDoc, path: list[Any], message: str) -> Problem:
    return Problem(doc.file, doc.line_of(path), _name_item(field_name(doc.data, path), doc.data), message)


def _named_items(problems: list[Problem], doc: YamlDoc) -> list[Problem]:
    """Schema problems with items named by id and the oneOf message made readable."""
    def reword(problem: Problem) -> str:
        # jsonschema's oneOf message repeats the whole item; say which keys are wrong instead
        match = re.fullmatch(r"items\[(\d+)\]", problem.field)
        if not match or "is not valid under any of the given schemas" not in problem.message:
            return problem.message
        item = doc.data["items"][int(match.group(1))]
        has = [key for key in ("requirements", "uncovered", "gap") if key in item]
        return (f"it has {' and '.join(repr(k) for k in has) if has else 'neither requirements nor gap'}; "
                "an item has either 'requirements' (plan ids, optionally with 'uncovered') or 'gap' (why no "
                "requirement covers it)")

    return [Problem(p.file, p.line, _name_item(p.field, doc.data), reword(p)) for p in problems]


def _build(doc: YamlDoc) -> Framework:
    head, items = doc.data["framework"], doc.data["items"]
    built = tuple(
        CatalogItem(id=i["id"], reference=i["reference"], title=i["title"], text=i["text"],
                    requirements=tuple(i.get("requirements", ())), uncovered=i.get("uncovered"),
                    gap=i.get("gap"), line=doc.line_of(["items", n]))
        for n, i in enumerate(items))
    return Framework(id=head["id"], title=head["title"], source=head["source"],
                     reference_pattern=head["reference_pattern"], items=built, file=doc.file,
                     url=head.get("url"), version=head.get("version"), description=head.get("description", ""))


def _check(doc: YamlDoc, framework: Framework, plan: Plan | None, path: Path) -> list[Problem]:
    problems: list[Problem] = []
    if framework.id != path.stem:
        problems.append(_problem(doc, ["framework", "id"], f"framework id {framework.id!r} must match its "
                                 f"file name; rename the file to {framework.id}.yaml or the id to {path.stem!r}"))
    try:
        pattern = re.compile(framework.reference_pattern)
    except re.error as exc:
        problems.append(_problem(doc, ["framework", "reference_pattern"],
                                 f"not a valid regular expression: {exc}"))
        pattern = None
    known = {r.id for r in plan.requirements} if plan is not None else None
    for n, item in enumerate(framework.items):
        if pattern is not None and not pattern.fullmatch(item.reference):
            problems.append(_problem(doc, ["items", n, "reference"], f"reference {item.reference!r} is not "
                                     f"well-formed for {framework.id}; it must match {framework.reference_pattern}"))
        for k, rid in enumerate(item.requirements):
            if known is not None and rid not in known:
                near = difflib.get_close_matches(rid, sorted(known), n=1)
                hint = f" (did you mean {near[0]}?)" if near else ""
                problems.append(_problem(doc, ["items", n, "requirements", k], f"unknown requirement {rid!r}"
                                         f"{hint}; map to a requirement of the plan or write a 'gap' instead"))
    return problems


def read_catalogs(folder: Path | str, plan: Plan | None) -> tuple[list[Framework], list[Problem]]:
    """Read and check every catalog in ``folder``; never raises for bad input.

    ``plan`` is the plan the items map to (None skips the check that mapped ids exist).
    Returns the frameworks that are well-formed and every problem found.
    """
    folder = Path(folder)
    frameworks: list[Framework] = []
    problems: list[Problem] = []
    seen_items: dict[str, str] = {}  # item id -> "file:line" of its first definition
    seen_frameworks: dict[str, str] = {}
    for path in catalog_files(folder):
        try:
            doc = read_yaml(path, str(path))
        except YamlError as exc:
            problems.append(Problem(exc.file, exc.line, "", exc.message))
            continue
        errors = _named_items(schema_problems(schema_validator("catalog"), doc.data, doc, doc.file), doc)
        if errors:
            problems += errors
            continue
        framework = _build(doc)
        found = _check(doc, framework, plan, path)
        if framework.id in seen_frameworks:
            found.append(_problem(doc, ["framework", "id"], f"framework {framework.id!r} is also defined in "
                                  f"{seen_frameworks[framework.id]}"))
        seen_frameworks.setdefault(framework.id, doc.file)
        for n, item in enumerate(framework.items):
            if item.id in seen_items:
                found.append(_problem(doc, ["items", n, "id"], f"duplicate item id {item.id!r} (first defined "
                                      f"at {seen_items[item.id]}); item ids are unique across all catalogs"))
            else:
                seen_items[item.id] = f"{doc.file}:{item.line}"
        problems += found
        if not found:
            frameworks.append(framework)
    return frameworks, problems


def load_catalogs(folder: Path | str | None = None, plan: Plan | None = None) -> list[Framework]:
    """The checked catalogs of ``folder`` (default: beside the packaged plan), or
    :class:`CatalogError` listing every problem. A folder without catalogs is an error too:
    whoever asks for frameworks expects some."""
    folder = Path(folder) if folder is not None else catalog_folder(None)
    frameworks, problems = read_catalogs(folder, plan)
    if not problems and not frameworks:
        problems = [Problem(str(folder), None, "", "no framework catalogs found (expected <framework id>.yaml "
                            "files; see docs/frameworks.md)")]
    if problems:
        raise CatalogError(problems)
    return frameworks


def framework_mapping(frameworks: Iterable[Framework], plan: Plan) -> list[dict[str, Any]]:
    """Per framework: its items, how many are mapped (and of those, how many only in part),
    how many are gaps, the plan requirements it rests on, and per item those requirements
    with their checks. Plain data, ready for JSON."""
    by_id = {r.id: r for r in plan.requirements}
    out = []
    for fw in frameworks:
        items = []
        for item in fw.items:
            reqs = [by_id[rid] for rid in item.requirements if rid in by_id]
            items.append({
                "id": item.id, "reference": item.reference, "title": item.title, "text": item.text,
                "requirements": [{"id": r.id, "title": r.title, "priority": r.priority,
                                  "check": f"{r.check.plugin}.{r.check.name}" if r.check else None,
                                  "manual": r.manual} for r in reqs],
                "uncovered": item.uncovered, "gap": item.gap,
            })
        mapped = [i for i in fw.items if not i.is_gap]
        out.append({
            "id": fw.id, "title": fw.title, "source": fw.source, "url": fw.url, "file": fw.file,
            "items": len(fw.items), "mapped": len(mapped),
            "mapped_in_part": sum(1 for i in mapped if i.uncovered), "gaps": len(fw.items) - len(mapped),
            "requirements": sorted({rid for i in fw.items for rid in i.requirements}),
            "entries": items,
        })
    return out


def requirement_index(frameworks: Iterable[Framework]) -> dict[str, list[str]]:
    """``{requirement id: ["rts6:RTS6-ART12", "finra-15-09:FINRA-SYS-2", ...]}``: which framework
    items each requirement's evidence serves."""
    index: dict[str, list[str]] = {}
    for fw in frameworks:
        for item in fw.items:
            for rid in item.requirements:
                index.setdefault(rid, []).append(f"{fw.id}:{item.id}")
    return dict(sorted(index.items()))
