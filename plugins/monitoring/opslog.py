"""Reading the target's operational artifacts: JSON-lines logs, timestamps, statistics.

Shared by the monitoring, config_security and audit families. Every reader names the file
and the 1-based line of a bad record (``ArtifactError``) so a check can return ``error``
with a message the trading team can act on; a missing input raises ``ArtifactMissing`` so a
check can return ``missing``. Field contracts: docs/ops-artifacts.md.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.run.target import confined

from .jsonlines import BadLine, json_lines, size_note, streamed_note


class ArtifactError(ValueError):
    """A target artifact exists but does not match its contract (file, line, what to fix)."""

    def __init__(self, path: Path | str, line: int | None, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


class ArtifactMissing(FileNotFoundError):
    """An input the check needs does not exist (the requirement is not implemented)."""


@dataclass(frozen=True)
class Record:
    """One JSON-lines record with where it came from, for messages and violation lists."""

    data: dict[str, Any]
    path: Path
    line: int

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


ARTIFACT_KINDS = ("data", "records", "logs", "config", "tests", "test_results")


def input_path(ctx: CheckContext, param: str, default: str) -> Path:
    """The path named by ``ctx.params[param]``, relative to the target root, or ``default``.

    A default starting with an artifact kind (``logs/heartbeats.jsonl``) follows the
    target's ``golive.toml`` folders, so a team that keeps logs in ``var/log`` changes one
    line there instead of every requirement. A path that resolves outside the target (a
    symbolic link out of it) raises ``OutsideTarget`` naming it, before anything is read.
    """
    raw = ctx.params.get(param)
    head, _, rest = default.partition("/")
    if raw is None and head in ARTIFACT_KINDS and rest:
        path = ctx.target.path(head) / rest
    else:
        p = Path(default if raw is None else raw)
        path = p if p.is_absolute() else ctx.target.root / p
    confined(ctx.target.root, path)
    return path


def rel(ctx: CheckContext, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ctx.target.root.resolve()))
    except ValueError:
        return str(path)


def parse_ts(value: Any, path: Path | str = "", line: int | None = None, field: str = "ts") -> float:
    """Epoch seconds (UTC) from an ISO-8601 string or an epoch number.

    Numbers above 1e14 are taken as nanoseconds, above 1e11 as milliseconds, because loggers
    disagree and the magnitudes cannot be confused for dates after 1973.
    """
    if isinstance(value, bool) or value is None:
        raise ArtifactError(path, line, f"field {field!r} must be an ISO-8601 time or epoch number, got {value!r}")
    if isinstance(value, (int, float)):
        v = float(value)
        if not math.isfinite(v):
            raise ArtifactError(path, line, f"field {field!r} is not a finite number")
        if v > 1e14:
            return v / 1e9
        if v > 1e11:
            return v / 1e3
        return v
    if isinstance(value, str):
        try:  # the common form first (Python 3.11 reads a trailing Z); the lenient one on failure
            dt = datetime.fromisoformat(value)
        except ValueError:
            try:
                dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                raise ArtifactError(path, line, f"field {field!r}: {value!r} is not an ISO-8601 time") from None
        if dt.tzinfo is None:  # naive times are read as UTC, the contract's default
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.timestamp()
    raise ArtifactError(path, line, f"field {field!r} must be an ISO-8601 time or epoch number, got {type(value).__name__}")


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def iter_jsonl(path: Path, required: Sequence[str] = (), ts_fields: Sequence[str] = ("ts",)) -> Iterator[Record]:
    """The records of a JSON-lines file one at a time (streamed: a check keeps only what it
    needs), each checked for ``required`` fields.

    Timestamps named in ``ts_fields`` (when present) are parsed into epoch seconds under the
    key ``_<field>`` so callers never re-parse. Blank lines and ``#`` comments are skipped.
    A missing file raises ``ArtifactMissing`` here, before the first record is asked for.
    """
    if not path.is_file():
        raise ArtifactMissing(f"{path} not found")
    size_note(path)
    return _records(path, tuple(required), tuple(ts_fields))


def _records(path: Path, required: tuple[str, ...], ts_fields: tuple[str, ...]) -> Iterator[Record]:
    try:
        for number, data in json_lines(path, comments=True):
            absent = [f for f in required if f not in data]
            if absent:
                raise ArtifactError(path, number, f"missing required field(s) {', '.join(absent)}")
            for f in ts_fields:
                if f in data and data[f] is not None:
                    data[f"_{f}"] = parse_ts(data[f], path, number, f)
            yield Record(data, path, number)
    except BadLine as exc:
        raise ArtifactError(path, exc.line, exc.problem) from None


def read_jsonl(path: Path, required: Sequence[str] = (), ts_fields: Sequence[str] = ("ts",)) -> list[Record]:
    """All records of a JSON-lines file (:func:`iter_jsonl` kept in a list): only for logs that
    stay small by nature (drills, backups, pipeline runs); large logs are streamed."""
    return list(iter_jsonl(path, required, ts_fields))


def number(record: Record, field: str, allow_none: bool = False) -> float | None:
    """A numeric field of a record, or an ``ArtifactError`` naming the line."""
    value = record.get(field)
    if value is None and allow_none:
        return None
    try:  # an integer beyond float range overflows here: not a usable number either
        usable = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(float(value))
    except OverflowError:
        usable = False
    if not usable:
        raise ArtifactError(record.path, record.line, f"field {field!r} must be a finite number, got {value!r}")
    return float(value)


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): always an observed value, never interpolated,
    so "p99 < 100 ms" means at least 99 % of observations were below the line."""
    data = sorted(values)
    if not data:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(q / 100.0 * len(data)))
    return data[rank - 1]


def ratio(value: float) -> Quantity:
    return Quantity(round(value, 6), "ratio")


def seconds(value: float) -> Quantity:
    return Quantity(round(value, 3), "s")


def hours(value_s: float) -> Quantity:
    return Quantity(round(value_s / 3600, 4), "h")


def days(value_s: float) -> Quantity:
    return Quantity(round(value_s / 86400, 4), "d")


def age_seconds(ctx: CheckContext, epoch_s: float) -> float:
    return ctx.clock().timestamp() - epoch_s


def guarded(func: Callable[[Requirement, CheckContext], CheckResult]) -> Callable[[Requirement, CheckContext], CheckResult]:
    """Turn the two expected input problems into statuses instead of crashes:
    a missing input is ``missing``, a corrupt one is ``error`` naming file and line."""

    @functools.wraps(func)
    def wrapper(requirement: Requirement, ctx: CheckContext) -> CheckResult:
        try:
            return with_size_notes(func(requirement, ctx), ctx)
        except ArtifactMissing as exc:
            return CheckResult(status=Status.MISSING, message=f"{requirement.id}: input not found: {exc}")
        except ArtifactError as exc:
            return CheckResult(status=Status.ERROR, message=f"{requirement.id}: {exc}")

    return wrapper


def with_size_notes(result: CheckResult, ctx: CheckContext) -> CheckResult:
    """``result`` with ``details.large_inputs`` naming the inputs read that are large
    ("logs/x.jsonl is 400 MB: read streaming"), so a slow run explains itself."""
    notes = [n for n in (streamed_note(ctx.target.root / a.path, a.path) for a in ctx.artifacts) if n]
    if notes:
        result.details = {**(result.details or {}), "large_inputs": sorted(set(notes))}
    return result


def threshold_value(requirement: Requirement, metric: str, unit: str) -> float | None:
    """The plan's line for ``metric`` converted into ``unit`` (``%`` or ``ratio``), or None.

    Checks use it only to *describe* a series (share of samples above the line, longest
    breach); the pass/fail verdict stays with the engine.
    """
    for t in requirement.thresholds:
        if t.metric == metric and t.op in ("<", "<=", ">", ">=") and isinstance(t.value, (int, float)):
            value = float(t.value)
            if t.unit == "ratio" and unit == "%":
                return value * 100.0
            if t.unit == "%" and unit == "ratio":
                return value / 100.0
            return value
    return None


PATH_PARAM = {"type": "string", "minLength": 1}
