"""A JSON-lines log streamed into compact columns: the fields a check uses, nothing else.

Checks that need every sample of a long series (percentiles, gaps, regressions) keep it as
numpy arrays: 8 bytes per number and per time, 4 per text code, plus the line number for
messages, where a parsed record would cost ~1 KB. A 400 MB metrics log becomes ~60 MB.

``numbers`` are float columns (NaN where absent or null). A value that is present but not a
finite number is remembered with its line and reported by :meth:`Columns.numbers` only for
the rows the check uses, so a bad value in a record the check skips (another stage, another
process) is not an error, as before. ``texts`` are text columns with a default for absent
values, stored as codes into :attr:`Columns.labels`.
"""
from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .jsonlines import BadLine, json_lines, size_note
from .opslog import ArtifactError, ArtifactMissing, parse_ts


BIG = 1.7e308  # beyond this an int does not fit a float (and inf/nan fail both comparisons)


@dataclass
class Columns:
    path: Path
    line: np.ndarray  # 1-based line of each row
    ts: dict[str, np.ndarray]  # epoch seconds, NaN where absent
    num: dict[str, np.ndarray]
    codes: dict[str, np.ndarray]
    labels: dict[str, list[Any]]
    bad: dict[str, dict[int, Any]] = field(default_factory=dict)  # row -> the value that is no number

    def __len__(self) -> int:
        return len(self.line)

    def where(self, row: int) -> str:
        return f"{self.path.name}:{int(self.line[row])}"

    def numbers(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """The values of ``name`` at ``rows`` (all rows by default); a value there that is not
        a finite number raises ``ArtifactError`` naming its line (the first in file order)."""
        values = self.num[name] if rows is None else self.num[name][rows]
        wrong = self.bad.get(name)
        if wrong:
            bad_rows = np.array(sorted(wrong))
            if rows is not None:
                chosen = np.asarray(rows)
                chosen = np.flatnonzero(chosen) if chosen.dtype == bool else chosen
                bad_rows = bad_rows[np.isin(bad_rows, chosen)]
            if len(bad_rows):
                r = int(bad_rows[0])
                raise ArtifactError(self.path, int(self.line[r]),
                                    f"field {name!r} must be a finite number, got {wrong[r]!r}")
        return values

    def present(self, name: str) -> np.ndarray:
        """Rows where ``name`` is present and not null (a bad value is present too)."""
        mask = ~np.isnan(self.num[name])
        for r in self.bad.get(name, {}):
            mask[r] = True
        return mask

    def text(self, name: str) -> np.ndarray:
        """The text column as an object array (for the few rows a message shows)."""
        return np.array(self.labels[name], dtype=object)[self.codes[name]]

    def is_(self, name: str, value: Any) -> np.ndarray:
        """Rows whose text ``name`` equals ``value``."""
        labels = self.labels[name]
        return self.codes[name] == labels.index(value) if value in labels else np.zeros(len(self), bool)


def read_columns(path: Path, required: Sequence[str] = (), ts_fields: Sequence[str] = ("ts",),
                 numbers: Sequence[str] = (), texts: Mapping[str, Any] | None = None) -> Columns:
    """Stream ``path`` into :class:`Columns` (see the module doc); errors name file and line."""
    if not path.is_file():
        raise ArtifactMissing(f"{path} not found")
    size_note(path)
    texts = dict(texts or {})
    lines = array("q")
    ts = {f: array("d") for f in ts_fields}
    num = {f: array("d") for f in numbers}
    codes = {f: array("i") for f in texts}
    index: dict[str, dict[Any, int]] = {f: {} for f in texts}
    bad: dict[str, dict[int, Any]] = {}
    nan = math.nan
    # bound appends and per-field settings: this loop runs once per line of a long log
    stamp_cols = [(f, col.append) for f, col in ts.items()]
    number_cols = [(f, col.append, f in required) for f, col in num.items()]
    text_cols = [(f, col.append, texts[f], index[f]) for f, col in codes.items()]
    add_line = lines.append
    row = 0
    try:
        for number, data in json_lines(path, comments=True):
            for f in required:
                if f not in data:
                    absent = [f for f in required if f not in data]
                    raise ArtifactError(path, number, f"missing required field(s) {', '.join(absent)}")
            add_line(number)
            for f, add in stamp_cols:
                v = data.get(f)
                add(nan if v is None else parse_ts(v, path, number, f))
            for f, add, needed in number_cols:
                v = data.get(f)
                kind = type(v)
                if (kind is float or kind is int) and -BIG < v < BIG:  # finite and fits a float
                    add(v)
                elif v is None:
                    add(nan)
                    if needed:  # a required number may not be null
                        bad.setdefault(f, {})[row] = v
                else:
                    good = _finite(v)
                    add(v if good else nan)
                    if not good:
                        bad.setdefault(f, {})[row] = v
            for f, add, default, seen in text_cols:
                v = data.get(f, default)
                key = None if v is None and default is None else str(v)  # as str(record.get(f, default))
                code = seen.get(key)
                if code is None:
                    code = seen[key] = len(seen)
                add(code)
            row += 1
    except BadLine as exc:
        raise ArtifactError(path, exc.line, exc.problem) from None
    return Columns(path=path, line=np.frombuffer(lines, dtype=np.int64) if row else np.zeros(0, np.int64),
                   ts={f: _floats(c) for f, c in ts.items()}, num={f: _floats(c) for f, c in num.items()},
                   codes={f: np.frombuffer(c, dtype=np.int32) if row else np.zeros(0, np.int32)
                          for f, c in codes.items()},
                   labels={f: list(index[f]) for f in texts}, bad=bad)


def _finite(value: Any) -> bool:
    """A number a float column can hold: int or float (not bool), finite, within float range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond float range
        return False


def _floats(col: array) -> np.ndarray:
    return np.frombuffer(col, dtype=np.float64) if len(col) else np.zeros(0, np.float64)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, end) indices of each run of True in ``mask``: ``end`` is the first False after
    the run, or the last index when the run reaches the end (a breach ends at the first sample
    back under the line)."""
    mask = np.asarray(mask, dtype=bool)
    starts = np.flatnonzero(mask & ~np.concatenate(([False], mask[:-1])))
    under = np.flatnonzero(~mask)
    after = np.searchsorted(under, starts)
    ends = np.where(after < len(under), under[np.minimum(after, max(len(under) - 1, 0))] if len(under) else 0,
                    len(mask) - 1)
    return starts, ends
