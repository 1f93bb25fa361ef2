"""The reviewed-links map file, ``golive-links.yaml``: links a team confirmed without editing tests.

Teams that will not (or may not) add ``@pytest.mark.requirement`` markers to their tests list
the links they reviewed in one file at the workspace root::

    version: 1
    links:
      PRE-ALGO-01:
        - test: tests/algorithm/test_ev.py::TestEV::test_min_ev   # a test's node id
          confirmed_by: Jane Doe
          confirmed_at: "2026-12-02"                             # ISO date
          note: checks the EV floor per signal                     # optional
          score: 0.82                                              # optional: the suggestion's
          why: ["ev", "min ev"]                                    # score and matched terms
        - test: tests/algorithm/test_ifd.py                         # a whole file, or a class
          ...                                                      # (path::Class), or a result file

An entry naming a file or a class covers every test in it. Where the file is: ``golive.toml``
``[paths] links = "..."``, else ``golive-links.yaml`` at the target root when it exists.

Reading never crashes a run: structural problems drop the entries they concern and are named
``file: links.PRE-ALGO-01[2].test: message``; unknown requirement ids and entries that match no
test are warnings (:meth:`LinkMap.review`).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml
from jsonschema import Draft202012Validator

from golive.model import Target, TestRecord
from golive.run.target import OutsideTarget, confined

__all__ = [
    "DEFAULT_NAME", "LinkEntry", "LinkMap", "MapFileError", "SCHEMA", "VERSION",
    "default_path", "load", "load_for_target", "locate", "merge", "read", "render", "write",
]

DEFAULT_NAME = "golive-links.yaml"
VERSION = 1

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "links"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": VERSION},
        "links": {
            "type": ["object", "null"],
            "additionalProperties": {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "required": ["test", "confirmed_by", "confirmed_at"],
                    "additionalProperties": False,
                    "properties": {
                        "test": {"type": "string", "pattern": r"\S"},
                        "confirmed_by": {"type": "string", "minLength": 1, "pattern": r"\S"},
                        "confirmed_at": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                        "note": {"type": "string"},
                        "score": {"type": "number"},
                        "why": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
}
_VALIDATOR = Draft202012Validator(SCHEMA)


class MapFileError(ValueError):
    """The map file cannot be used as a whole (for commands that must not lose its content)."""


@dataclass(frozen=True)
class LinkEntry:
    """One reviewed link: ``test`` covers ``requirement_id``."""

    requirement_id: str
    test: str  # node id, class node id (path::Class), test file path or result file path
    confirmed_by: str
    confirmed_at: str  # ISO date
    note: str = ""
    score: float | None = None
    why: tuple[str, ...] = ()

    def covers(self, record: TestRecord) -> bool:
        """The entry names the record, its file, or a class (or file) the record is in."""
        test = self.test
        return record.id == test or record.path == test or record.id.startswith(test + "::")

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"test": self.test, "confirmed_by": self.confirmed_by,
                                "confirmed_at": self.confirmed_at}
        if self.note:
            data["note"] = self.note
        if self.score is not None:
            data["score"] = self.score
        if self.why:
            data["why"] = list(self.why)
        return data


@dataclass
class LinkMap:
    """A loaded map file: its valid entries plus the problems met while reading it."""

    path: Path | None = None
    entries: list[LinkEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # entries dropped, file unreadable, ...
    label: str = DEFAULT_NAME  # how reasons name the file (relative to the target root)

    def __post_init__(self) -> None:
        self._by_requirement: dict[str, list[LinkEntry]] = {}
        for entry in self.entries:
            self._by_requirement.setdefault(entry.requirement_id, []).append(entry)

    def for_requirement(self, requirement_id: str) -> list[LinkEntry]:
        return list(self._by_requirement.get(requirement_id, ()))

    def entry_covering(self, requirement_id: str, record: TestRecord) -> LinkEntry | None:
        for entry in self._by_requirement.get(requirement_id, ()):
            if entry.covers(record):
                return entry
        return None

    def review(self, requirement_ids: Iterable[str], records: Sequence[TestRecord]) -> list[str]:
        """Warnings about entries that name no requirement of the plan or match no test."""
        known = set(requirement_ids)
        warnings = []
        for requirement_id, entries in self._by_requirement.items():
            if requirement_id not in known:
                warnings.append(f"{self.label}: links.{requirement_id}: no requirement with this id "
                                f"in the plan; its {len(entries)} link(s) are ignored")
        position: dict[str, int] = {}
        for entry in self.entries:
            index = position[entry.requirement_id] = position.get(entry.requirement_id, -1) + 1
            if entry.requirement_id in known and not any(entry.covers(r) for r in records):
                warnings.append(f"{self.label}: links.{entry.requirement_id}[{index}].test: "
                                f"{entry.test!r} matches no test or result file in the target")
        return warnings


# -- reading -------------------------------------------------------------------------------


def _where(path: Sequence[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _normalise_dates(doc: Any) -> Any:
    """YAML reads an unquoted 2026-12-02 as a date: turn those back into ISO strings."""
    if isinstance(doc, dict):
        return {k: _normalise_dates(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_normalise_dates(v) for v in doc]
    if isinstance(doc, _dt.datetime):
        return doc.date().isoformat()
    if isinstance(doc, _dt.date):
        return doc.isoformat()
    return doc


def read(path: Path, label: str | None = None) -> LinkMap:
    """Read and validate a map file; every problem is named, bad entries are dropped."""
    path = Path(path)
    label = label or path.name
    found = LinkMap(path=path, label=label)
    problems = found.problems
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{label}: cannot read the map file ({exc}); its links are not counted")
        return found
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problems.append(f"{label}{line}: not valid YAML ({getattr(exc, 'problem', None) or exc}); "
                        f"its links are not counted")
        return found
    if doc is None:
        doc = {"version": VERSION, "links": {}}
    doc = _normalise_dates(doc)
    bad_entries: set[tuple[str, int]] = set()
    bad_requirements: set[str] = set()
    fatal = False
    for error in sorted(_VALIDATOR.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        where = list(error.absolute_path)
        problems.append(f"{label}: {_where(where)}: {error.message}")
        if len(where) >= 3 and where[0] == "links":
            bad_entries.add((str(where[1]), where[2]))
        elif len(where) == 2 and where[0] == "links":
            bad_requirements.add(str(where[1]))
        else:
            fatal = True
    if fatal or not isinstance(doc, dict) or not isinstance(doc.get("links"), dict):
        if doc and not problems:  # pragma: no cover - the schema catches these
            problems.append(f"{label}: not a map file")
        if problems:
            problems[-1] += "; no link in the file is counted"
        return found
    entries: list[LinkEntry] = []
    for requirement_id, items in doc["links"].items():
        requirement_id = str(requirement_id)
        if requirement_id in bad_requirements or not items:
            continue
        for index, item in enumerate(items):
            if (requirement_id, index) in bad_entries:
                continue
            if not _valid_date(item["confirmed_at"]):
                problems.append(f"{label}: links.{requirement_id}[{index}].confirmed_at: "
                                f"{item['confirmed_at']!r} is not a calendar date")
                continue
            entries.append(LinkEntry(
                requirement_id=requirement_id, test=item["test"].strip(),
                confirmed_by=item["confirmed_by"].strip(), confirmed_at=item["confirmed_at"],
                note=item.get("note", ""), score=item.get("score"), why=tuple(item.get("why", ())),
            ))
    return LinkMap(path=path, entries=entries, problems=problems, label=label)


def _valid_date(text: str) -> bool:
    try:
        _dt.date.fromisoformat(text)
        return True
    except ValueError:
        return False


# -- where the file is -------------------------------------------------------------------------


def _label(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def default_path(target: Target) -> Path:
    """Where the map file is (or would be written): ``[paths] links``, else the root default."""
    configured = target.paths.get("links")
    if configured is not None:
        configured = Path(configured)
        return configured if configured.is_absolute() else target.root / configured
    return target.root / DEFAULT_NAME


def locate(target: Target) -> Path | None:
    """The map file to read: the configured one (even when missing, so that is reported),
    else ``golive-links.yaml`` at the root when it exists."""
    if target.paths.get("links") is not None:
        return default_path(target)
    path = target.root / DEFAULT_NAME
    return path if path.is_file() else None


_CACHE: dict[tuple[str, int, int], LinkMap] = {}


def load(path: Path, root: Path) -> LinkMap:
    """:func:`read` with the label relative to ``root`` and a missing file reported, cached by
    (path, mtime, size) so that every check of a run reads it once."""
    label = _label(path, root)
    try:
        confined(root, path)
    except OutsideTarget as exc:  # a map linked out of the workspace: refused, no map links counted
        return LinkMap(path=path, label=label, problems=[f"{exc}; no map links counted"])
    try:
        stat = path.stat()
    except OSError:
        return LinkMap(path=path, label=label,
                       problems=[f"{label}: the map file configured in golive.toml does not exist; no map links counted"])
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = read(path, label)
    return _CACHE[key]


def load_for_target(target: Target) -> LinkMap | None:
    """The target's map file, loaded; ``None`` when it has none."""
    path = locate(target)
    return None if path is None else load(path, target.root)


# -- writing ---------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")

HEADER = """\
# {name}: reviewed links from the go-live plan's requirements to the tests that cover them.
# Written by `golive link --write-map` on {when} for {by}.
# Review it: delete the entries that are wrong; only the links listed here count.
# `test` is a test's node id (path::Class::test), a class (path::Class), a test file or a
# result file; a file or a class covers every test in it. Re-run `golive link` to see the effect.
"""


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    if isinstance(value, float):
        return repr(round(value, 4))
    return json.dumps(value, ensure_ascii=False)


def render(entries: Iterable[LinkEntry], by: str = "", when: str = "", name: str = DEFAULT_NAME,
           order: Sequence[str] | None = None) -> str:
    """The map file's text: a comment header, then the links grouped by requirement (in
    ``order`` -- the plan's order -- else sorted by id; unknown ids last), entries in the order
    given."""
    grouped: dict[str, list[LinkEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.requirement_id, []).append(entry)
    rank = {rid: i for i, rid in enumerate(order or ())}
    ids = sorted(grouped, key=lambda rid: (rank.get(rid, len(rank)), rid))
    lines = [HEADER.format(name=name, when=when or _dt.date.today().isoformat(), by=by or "the reviewer").rstrip("\n"),
             f"version: {VERSION}"]
    if not ids:
        lines.append("links: {}")
    else:
        lines.append("links:")
    for rid in ids:
        key = rid if _PLAIN_KEY.fullmatch(rid) else json.dumps(rid, ensure_ascii=False)
        lines.append(f"  {key}:")
        for entry in grouped[rid]:
            fields = list(entry.as_dict().items())
            for i, (name_, value) in enumerate(fields):
                if name_ == "why":
                    text = "[" + ", ".join(_scalar(v) for v in value) + "]"
                else:
                    text = _scalar(value)
                lines.append(f"    {'- ' if i == 0 else '  '}{name_}: {text}")
    return "\n".join(lines) + "\n"


def merge(existing: Iterable[LinkEntry], new: Iterable[LinkEntry]) -> tuple[list[LinkEntry], list[LinkEntry]]:
    """Existing entries kept as they are; new ones appended unless the same requirement and
    test is already listed. Returns (all entries, the ones added)."""
    merged = list(existing)
    seen = {(e.requirement_id, e.test) for e in merged}
    added = []
    for entry in new:
        if (entry.requirement_id, entry.test) not in seen:
            seen.add((entry.requirement_id, entry.test))
            merged.append(entry)
            added.append(entry)
    return merged, added


def write(path: Path, new: Iterable[LinkEntry], by: str, when: str | None = None,
          order: Sequence[str] | None = None) -> list[LinkEntry]:
    """Merge ``new`` into the map file at ``path`` (created when missing) and write it
    atomically. Refuses (:class:`MapFileError`) to rewrite a file with problems, which would
    lose the entries it could not read. Returns the entries added."""
    path = Path(path)
    existing: list[LinkEntry] = []
    if path.exists():
        current = read(path)
        if current.problems:
            raise MapFileError(f"{path} has problems; fix them before adding links:\n" + "\n".join(current.problems))
        existing = current.entries
    when = when or _dt.date.today().isoformat()
    merged, added = merge(existing, [replace(e, confirmed_by=e.confirmed_by or by, confirmed_at=e.confirmed_at or when)
                                     for e in new])
    if added or not path.exists():  # nothing new: the reviewed file stays as it is
        atomic_write(path, render(merged, by=by, when=when, name=path.name, order=order).encode("utf-8"))
    return added


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and ``os.replace``; keeps the file mode."""
    path = Path(path)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
