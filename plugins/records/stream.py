"""Reading a records file as a stream of converted chunks, for checks whose work is per row.

``scan(ctx, "fills", need=[...])`` validates the whole file first, exactly as
:func:`reader.load` does (same errors, same order: file missing or unreadable, then column by
column the first bad value or required null, then a duplicate key, then unsorted rows, then any
``value_checks`` in order), keeping nothing of it but the key column. Iterating the returned
:class:`Scan` reads the file again and yields frames of at most :data:`STREAM_ROWS` rows with
the columns, types, ``_row`` numbers and index labels the whole frame would have had for
those rows. So a check that aggregates chunk by chunk holds one chunk and its own totals, not
the file: a 400 MB fills.csv is checked in a few hundred MiB whatever the number of checks
reading it at once. A Parquet file is read the same way, a batch of rows at a time
(``parquet_batches``: pyarrow row groups turned into the rows a whole ``pandas.read_parquet``
gives), for validation and for each iteration; its frames carry the file's own index labels.

A successful validation is remembered for the file's sha256 (recorded as evidence when the
scan starts), so the checks of one run that read the same file validate it once.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from golive.plugins.records import reader
from golive.plugins.records.contract import TABLES
from golive.plugins.records.convert import ColumnBuilder, release_freed_memory

STREAM_ROWS = 20_000  # rows converted at a time: ~10 MiB of text and objects per check reading
_VALIDATED: "OrderedDict[tuple, tuple[int, str | None]]" = OrderedDict()  # -> (rows, timestamp unit)
_VALIDATED_MAX = 64
_FILE_LOCKS: dict[tuple, threading.Lock] = {}
_lock = threading.Lock()


@dataclass
class ValueCheck:
    """A rule on the values of one column beyond its type (``side`` is buy or sell): ``bad(value)``
    says a non-null value breaks it, ``message(value)`` what the error says."""

    column: str
    bad: Callable[[Any], bool]
    message: Callable[[Any], str]
    first: tuple[int, Any] | None = field(default=None, compare=False)  # (row, value) of the first break


class Scan:
    """A validated records file; iterate it for its rows in chunks (each iteration re-reads it)."""

    def __init__(self, ctx, name: str, need: Iterable[str] = (), optional: Iterable[str] = (),
                 nullable: Iterable[str] = (), value_checks: Iterable[ValueCheck] = ()) -> None:
        self.name, self.spec, self.path = name, TABLES[name], reader.find(ctx, name)
        self.rel = reader._rel(ctx, self.path)
        self.need, self.optional, self.nullable = list(need), list(optional), set(nullable)
        self.wanted = list(dict.fromkeys(self.need + self.optional))
        self.value_checks = [replace(c) for c in value_checks]  # each scan notes its own first break
        self.is_csv = self.path.suffix != ".parquet"
        if not self.path.exists():
            raise reader.RecordsMissing(f"{self.rel} not found (records file '{name}', see docs/records-contract.md)")
        art = next((a for a in ctx.artifacts if a.path == self.rel), None) or ctx.record_artifact(self.path)
        large = reader._size_note(self.path, self.rel) is not None
        key = (art.sha256, name, tuple(self.need), tuple(self.optional), tuple(sorted(self.nullable)),
               tuple((c.column, c.bad, c.message) for c in self.value_checks))
        # Checks running at once on one file validate it one at a time (one validation's memory,
        # not one per check); the first validation of a column set serves the checks after it.
        with _lock:
            if len(_FILE_LOCKS) > 4 * _VALIDATED_MAX:
                _FILE_LOCKS.clear()  # locks in use stay held by their waiters
            file_lock = _FILE_LOCKS.setdefault((art.sha256, name), threading.Lock())
        with file_lock:
            with _lock:
                known = _VALIDATED.get(key)
            if known is None:
                known = self._validate(large)
                self._raise_value_errors()
                with _lock:
                    _VALIDATED[key] = known
                    while len(_VALIDATED) > _VALIDATED_MAX:
                        _VALIDATED.popitem(last=False)
        self.rows, self.unit = known

    @property
    def empty(self) -> bool:
        return self.rows == 0

    def __len__(self) -> int:
        return self.rows

    # -- validation: what reader.load raises, holding one chunk and the key column -------------
    def _validate(self, large: bool) -> tuple[int, str | None]:
        columns, chunks = reader._read(self.path, self.rel, self.is_csv, STREAM_ROWS, only=self.wanted)
        builders = {c: ColumnBuilder(self.spec.column(c).kind, self.is_csv, compact=large and self.is_csv)
                    for c in self.wanted if c in columns}
        sort_col = self.spec.sorted_by if self.spec.sorted_by in builders else None
        key_col = self.spec.key if self.spec.key in builders else None
        order = _SortState(self.spec.column(sort_col).kind if sort_col else None)
        keys = _KeyHashes()
        rows, unit, clean = 0, None, True
        for chunk in chunks:
            start = rows
            rows += len(chunk)
            for col, builder in builders.items():
                builder.add(chunk[col])
                if builder.error is not None:
                    clean = False
                    continue
                if builder.kind == "timestamp" and not self.is_csv and builder._pieces:
                    builder._pieces[-1] = _datetimes(builder._pieces[-1])
                if col == key_col and builder._pieces:
                    keys.add(builder._pieces[-1])
                if col == sort_col and builder._pieces:
                    order.add(builder._pieces[-1], start)
                if builder.kind == "timestamp" and builder._pieces:
                    unit = _wider(unit, np.datetime_data(builder._pieces[-1].dtype)[0])
                if self.value_checks and col in {c.column for c in self.value_checks} and builder._pieces:
                    piece = builder._pieces[-1]
                    self._check_values(pd.DataFrame({col: piece, reader.ROW: np.arange(start + 1, start + len(piece) + 1)}),
                                       0, only=col)
                builder._pieces = []
            del chunk
        for col in self.wanted:  # the first error in column order, as reader.load reports it
            column = self.spec.column(col)
            if col not in builders:
                if col in self.need:
                    raise reader.RecordsError(self.rel, f"required column missing (has: {', '.join(map(str, columns))})",
                                              column=col, csv=self.is_csv)
                continue
            builder = builders[col]
            if builder.error is not None:
                row, bad = builder.error
                raise reader.RecordsError(self.rel, str(bad), column=col, row=row, csv=self.is_csv)
            if col in self.need and col not in self.nullable and builder.first_null is not None:
                raise reader.RecordsError(self.rel, f"a value is required ({column.kind})", column=col,
                                          row=builder.first_null, csv=self.is_csv)
        if clean and key_col:
            keys.check(self.path, self.rel, key_col, self.spec.column(key_col).kind, rows, self.is_csv)
        release_freed_memory()
        if order.problem is not None:
            row, before, after = order.problem
            raise reader.RecordsError(self.rel, f"not sorted by {sort_col}: {after} comes after {before}",
                                      column=sort_col, row=row, csv=self.is_csv)
        return rows, unit

    def _check_values(self, frame: pd.DataFrame, offset: int, only: str | None = None) -> None:
        for check in self.value_checks:
            if check.first is not None or (only is not None and check.column != only):
                continue
            for i, v in enumerate(frame[check.column].tolist()):
                if v is not None and not (isinstance(v, float) and v != v) and check.bad(v):
                    check.first = (int(frame[reader.ROW].iloc[i]) + offset, v)
                    break

    def _raise_value_errors(self) -> None:
        for check in self.value_checks:
            if check.first is not None:
                row, value = check.first
                check.first = None
                raise reader.RecordsError(self.rel, check.message(value), column=check.column, row=row,
                                          csv=self.is_csv)

    # -- the rows, chunk by chunk -----------------------------------------------------------
    def __iter__(self) -> Iterator[pd.DataFrame]:
        kinds = {c: self.spec.column(c).kind for c in self.wanted}
        columns, chunks = reader._read(self.path, self.rel, self.is_csv, STREAM_ROWS, only=self.wanted)
        builders = {c: ColumnBuilder(kinds[c], self.is_csv) for c in self.wanted if c in columns}
        start = 0
        for chunk in chunks:
            n = len(chunk)
            if n == 0:
                continue
            frame = pd.DataFrame(index=pd.RangeIndex(start, start + n) if self.is_csv else chunk.index)
            for col in self.wanted:
                if col not in builders:
                    frame[col] = None
                    continue
                builder = builders[col]
                builder.add(chunk[col])
                values = builder.series()
                if kinds[col] == "timestamp" and self.unit:
                    values = values.dt.as_unit(self.unit)
                frame[col] = values.set_axis(frame.index)
            frame[reader.ROW] = range(start + 1, start + n + 1)
            start += n
            del chunk
            yield frame

    def column(self, col: str) -> Iterator[Any]:
        """The values of one column, in row order."""
        for frame in self:
            yield from frame[col].tolist()


def scan(ctx, name: str, need: Iterable[str] = (), optional: Iterable[str] = (), nullable: Iterable[str] = (),
         value_checks: Iterable[ValueCheck] = ()) -> Scan:
    """Validate records file ``name`` now (raising what :func:`reader.load` raises) and return it
    for iteration chunk by chunk."""
    return Scan(ctx, name, need, optional, nullable, value_checks)


class _SortState:
    """``reader._check_sorted`` over chunks: the first row whose value is below the row before it
    (rows with a null on either side are not compared)."""

    def __init__(self, kind: str | None) -> None:
        self.kind, self.last, self.problem = kind, None, None

    def add(self, piece: np.ndarray, start: int) -> None:
        if self.problem is not None or len(piece) == 0:
            return
        if self.kind == "timestamp":
            values = piece.astype("datetime64[ns]").view("i8") if piece.dtype.kind == "M" else None
            known = ~np.isnat(piece)
            if self.last is not None:
                values = np.concatenate([[self.last[0]], values])
                known = np.concatenate([[self.last[1]], known])
                start -= 1
            back = known[1:] & known[:-1] & (values[1:] < values[:-1])
            self.last = (values[-1], known[-1])
            if back.any():
                i = int(back.argmax()) + 1
                self.problem = (start + i + 1, _utc(values[i - 1]), _utc(values[i]))
            return
        items = piece.tolist()
        if self.last is not None:
            items = [self.last] + items
            start -= 1
        for i in range(1, len(items)):
            a, b = items[i - 1], items[i]
            if b is not None and a is not None and not pd.isna(b) and not pd.isna(a) and b < a:
                self.problem = (start + i + 1, a, b)
                return
        self.last = items[-1]


def _datetimes(piece: np.ndarray) -> np.ndarray:
    """Timestamps of a Parquet chunk (objects) as datetime64 in the unit pandas gives them."""
    return pd.to_datetime(piece.tolist(), utc=True).tz_convert(None).to_numpy()


def _utc(ns: int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), unit="ns", tz="UTC")


def _wider(unit: str | None, other: str) -> str:
    order = ("s", "ms", "us", "ns")
    return other if unit is None or order.index(other) > order.index(unit) else unit


class _KeyHashes:
    """``reader._check_key`` holding next to nothing when the keys increase row by row (ids
    issued in order: no key can repeat) and 5 bytes a row otherwise: then the key column is read
    again and a 32-bit hash of each key kept; only when two hashes meet is it read once more for
    the keys that share them, to name the first row whose key was seen before, as the
    whole-file check does."""

    def __init__(self) -> None:
        self.last, self.increasing = None, True

    def add(self, piece) -> None:
        if not self.increasing:
            return
        texts = pa.array(piece.to_pylist() if hasattr(piece, "to_pylist") else piece.tolist(), pa.large_string()) \
            if _all_text(piece) else None
        if texts is None or texts.null_count:
            self.increasing = False
            return
        if self.last is not None:
            texts = pa.concat_arrays([pa.array([self.last], pa.large_string()), texts])
        if len(texts) > 1 and not pc.all(pc.greater(texts[1:], texts[:-1])).as_py():
            self.increasing = False
        self.last = texts[-1].as_py() if len(texts) else self.last

    def check(self, path, rel: str, key: str, kind: str, rows: int, is_csv: bool = True) -> None:
        if self.increasing:
            return
        # 32-bit hashes (4 bytes a row): the pairs that meet by chance are told apart by value below
        hashes, nulls, at = np.empty(rows, np.uint32), np.zeros(rows, bool), 0
        for values in _key_values(path, rel, key, kind, is_csv):
            hashes[at:at + len(values)], nulls[at:at + len(values)] = _hashed(values)
            at += len(values)
        known = hashes[~nulls] if nulls.any() else hashes
        del hashes, nulls
        known.sort()  # in place
        shared = np.unique(known[1:][known[1:] == known[:-1]])
        del known
        if not len(shared):
            return
        seen, at = set(), 0
        for values in _key_values(path, rel, key, kind, is_csv):
            hashes, nulls = _hashed(values)
            for i in np.flatnonzero(np.isin(hashes, shared) & ~nulls):
                value = values[i]
                if value in seen:
                    raise reader.RecordsError(rel, f"duplicate {key} {value!r}", column=key, row=at + int(i) + 1,
                                              csv=is_csv)
                seen.add(value)
            at += len(values)


def _all_text(piece) -> bool:
    if hasattr(piece, "to_pylist"):  # Arrow strings (ids of a large file)
        return pa.types.is_string(piece.type) or pa.types.is_large_string(piece.type)
    return all(isinstance(v, str) for v in piece)


def _key_values(path, rel: str, key: str, kind: str, is_csv: bool) -> Iterator[np.ndarray]:
    """The converted key column, chunk by chunk (the file is known to convert without error)."""
    builder = ColumnBuilder(kind, is_csv)
    for chunk in reader._read(path, rel, is_csv, STREAM_ROWS, only=[key])[1]:
        if len(chunk):
            builder.add(chunk[key])
            yield builder.series().to_numpy(dtype=object)


def _hashed(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(32-bit hash, is null) of each key; equal keys hash equal."""
    nulls = np.asarray(pd.isna(values), dtype=bool)
    if all(isinstance(v, str) for v in values[~nulls]):  # ids: hashed in C
        full = pd.util.hash_array(values, categorize=False)
    else:  # other kinds: Python's hash, equal for equal values (1 == 1.0 == Decimal("1"))
        full = np.fromiter((0 if n else hash(v) for v, n in zip(values, nulls)), dtype=np.int64,
                           count=len(values)).view(np.uint64)
    return (full & 0xFFFFFFFF).astype(np.uint32), nulls
