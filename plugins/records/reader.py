"""Reading one records file and enforcing the contract on it.

``load(ctx, "fills", need=[...], optional=[...])`` finds ``records/fills.csv`` (or ``.parquet``;
``check.params.files.fills`` overrides the path), records it as evidence, converts every column
to its contract kind and raises :class:`RecordsError` naming the file, the column and the row of
the first bad value (missing column, wrong type, null where a value is required, duplicate key,
unsorted timestamps). Decimal columns hold :class:`decimal.Decimal` objects so sums are exact.

Memory: a CSV is parsed :data:`CHUNK_ROWS` rows at a time and only the asked columns are kept;
repeated values (symbols, sides, prices, quantities) share one object, and in a file above
:data:`LARGE_INPUT_BYTES` mostly-distinct text columns (ids) stay in Arrow. A 400 MB fills.csv
(5.6 M rows, all 8 columns) loads in ~650 MiB instead of ~4.9 GiB; the run says such a file was
large ("records/fills.csv is 400 MB: read in chunks"). A Parquet file is read the same way, in
batches of rows (``parquet_batches``: the values a whole ``pandas.read_parquet`` gives, a row
group at a time), its values kept as Python objects as before. Checks that go through every row use
``golive.plugins.records.stream`` instead: validated as here, then streamed in chunks, so a run
never holds the whole file.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from golive.plugins.records import parquet_batches
from golive.plugins.records.contract import TABLES, TableSpec
from golive.plugins.records.convert import MAX_INTEGER_DIGITS, ColumnBuilder, release_freed_memory  # noqa: F401

ROW = "_row"  # 1-based data row number kept on every frame so checkers can name bad rows
CHUNK_ROWS = 200_000  # rows parsed at a time: bounds the text held, whatever the file's size
LARGE_INPUT_BYTES = 64 * 1024 * 1024  # above this a run says the file was large (as the log readers do)
log = logging.getLogger("golive.plugins.inputs")
_warned: set[tuple[str, int]] = set()
_large: dict[str, str] = {}  # resolved path -> size note, for the large records files read here


class RecordsMissing(FileNotFoundError):
    """The records file a check needs does not exist (status ``missing``)."""


class RecordsError(ValueError):
    """A records file breaks the contract; names the file, column and row."""

    def __init__(self, file: str, message: str, column: str | None = None, row: int | None = None,
                 csv: bool = True):
        self.file, self.column, self.row, self.reason = file, column, row, message
        where = file
        if column:
            where += f": column '{column}'"
        if row is not None:
            where += f", row {row}" + (f" (line {row + 1})" if csv else "")
        super().__init__(f"{where}: {message}")

    def as_dict(self) -> dict:
        return {"file": self.file, "column": self.column, "row": self.row, "problem": self.reason}


def find(ctx, name: str) -> Path:
    """The path of records file ``name`` for this check (params override, then the default)."""
    files = dict(ctx.params.get("files") or {})
    if name in files:
        p = Path(files[name])
        return p if p.is_absolute() else ctx.target.root / p
    folder = ctx.target.path("records")
    for suffix in (".csv", ".parquet"):
        if (folder / f"{name}{suffix}").exists():
            return folder / f"{name}{suffix}"
    return folder / f"{name}.csv"


def exists(ctx, name: str) -> bool:
    return find(ctx, name).exists()


def _rel(ctx, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ctx.target.root.resolve()))
    except ValueError:
        return str(path)


def load(ctx, name: str, need: Iterable[str] = (), optional: Iterable[str] = (),
         nullable: Iterable[str] = ()) -> pd.DataFrame:
    """Read records file ``name`` and return the columns ``need`` + ``optional``.

    ``need`` columns must exist and (unless listed in ``nullable``) hold a value in every row;
    ``optional`` columns may be absent (filled with nulls) or hold nulls. A CSV or Parquet file is
    read in chunks of :data:`CHUNK_ROWS` rows and only the asked columns are kept, so memory
    follows the columns returned, not the file; the first error reported is the one a whole-file
    read reported.
    """
    spec = TABLES[name]
    path = find(ctx, name)
    rel = _rel(ctx, path)
    if not path.exists():
        raise RecordsMissing(f"{rel} not found (records file '{name}', see docs/records-contract.md)")
    if not any(a.path == rel for a in ctx.artifacts):  # a check may read a file twice; record it once
        ctx.record_artifact(path)
    is_csv = path.suffix != ".parquet"
    need, optional, nullable = list(need), list(optional), set(nullable)
    large = _size_note(path, rel) is not None
    columns, chunks = _read(path, rel, is_csv, only=need + optional)
    builders = {col: ColumnBuilder(spec.column(col).kind, is_csv, compact=large and is_csv)
                for col in need + optional if col in columns}
    rows, labels = 0, []
    for chunk in chunks:  # a parse error in any chunk is raised here, before any value error
        rows += len(chunk)
        if not is_csv:  # Parquet may carry its own index
            labels.append(chunk.index)
        for col, builder in builders.items():
            builder.add(chunk[col])
        del chunk
    frame = pd.DataFrame(index=labels[0].append(labels[1:]) if labels else pd.RangeIndex(rows))
    for col in need + optional:
        column = spec.column(col)
        if col in frame.columns:  # asked twice
            continue
        if col not in builders:
            if col in need:
                raise RecordsError(rel, f"required column missing (has: {', '.join(map(str, columns))})",
                                   column=col, csv=is_csv)
            frame[col] = None
            continue
        builder = builders.pop(col)
        if builder.error is not None:
            row, bad = builder.error
            raise RecordsError(rel, str(bad), column=col, row=row, csv=is_csv)
        if col in need and col not in nullable and builder.first_null is not None:
            raise RecordsError(rel, f"a value is required ({column.kind})", column=col,
                               row=builder.first_null, csv=is_csv)
        frame[col] = builder.series().set_axis(frame.index)
        del builder
        release_freed_memory()
    frame[ROW] = range(1, rows + 1)
    _check_key(spec, frame, rel, is_csv)
    _check_sorted(spec, frame, rel, is_csv)
    return frame


def _read(path: Path, rel: str, is_csv: bool, rows: int | None = None,
          only: list[str] | None = None) -> tuple[list, Iterator[pd.DataFrame]]:
    """(header columns, chunks of at most ``rows`` rows): CSV as text; Parquet as the rows of a
    whole ``pandas.read_parquet`` (``only`` some columns of it), batch by batch."""
    try:
        if not is_csv:
            parquet = parquet_batches.open_file(path)
            return parquet_batches.columns(parquet), _parquet_chunks(parquet, rel, rows, only)
        header = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, nrows=0)
    except pd.errors.EmptyDataError:
        return [], iter([])
    except Exception as exc:  # noqa: BLE001 - any parser failure is bad input, named
        raise _unreadable(rel, exc, is_csv) from exc
    return list(header.columns), _chunks(path, rel, rows)


def _parquet_chunks(parquet, rel: str, rows: int | None, only: list[str] | None) -> Iterator[pd.DataFrame]:
    try:
        yield from parquet_batches.frames(parquet, rows or CHUNK_ROWS, only)
    except Exception as exc:  # noqa: BLE001 - a corrupt page anywhere is bad input, named
        raise _unreadable(rel, exc, False) from exc


def _chunks(path: Path, rel: str, rows: int | None = None) -> Iterator[pd.DataFrame]:
    try:
        with pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                         chunksize=rows or CHUNK_ROWS) as reader:
            yield from reader
    except pd.errors.EmptyDataError:
        return
    except Exception as exc:  # noqa: BLE001 - any parser failure is bad input, named
        raise _unreadable(rel, exc, True) from exc


def _unreadable(rel: str, exc: Exception, is_csv: bool) -> RecordsError:
    return RecordsError(rel, f"cannot be read: {type(exc).__name__}: {exc}", csv=is_csv)


def _size_note(path: Path, rel: str) -> str | None:
    """"records/fills.csv is 400 MB: read in chunks" for a file above LARGE_INPUT_BYTES (logged
    once per file and size as a run warning; ``checkutil.guarded`` adds it to the result)."""
    size = path.stat().st_size
    if size <= LARGE_INPUT_BYTES:
        return None
    note = f"{rel} is {size / 1e6:,.0f} MB: read in chunks"
    _large[str(path.resolve())] = note
    if (str(path), size) not in _warned:
        _warned.add((str(path), size))
        log.warning(note)
    return note


def size_notes(ctx) -> list[str]:
    """The size notes of the records files this check read that were large."""
    return sorted({n for n in (_large.get(str((ctx.target.root / a.path).resolve())) for a in ctx.artifacts) if n})


def _check_key(spec: TableSpec, frame: pd.DataFrame, rel: str, is_csv: bool) -> None:
    if not spec.key or spec.key not in frame:
        return
    i = _first_duplicate(frame[spec.key])
    if i is not None:
        raise RecordsError(rel, f"duplicate {spec.key} {frame[spec.key].iloc[i]!r}", column=spec.key,
                           row=i + 1, csv=is_csv)


def _first_duplicate(values: pd.Series) -> int | None:
    """Position of the first non-null value seen before (pandas ``duplicated``). Arrow strings
    (ids of large files) are sorted instead of hashed into Python objects: a stable sort puts
    equal ids side by side in row order, so each later copy is a duplicate."""
    if str(values.dtype) == "str" and not values.isna().any():
        texts = pa.chunked_array(values.array._pa_array)
        if len(texts) < 2 or pc.all(pc.greater(texts[1:], texts[:-1])).as_py():  # increasing ids: no copy
            return None
        order = pc.sort_indices(texts)
        ranked = texts.take(order)
        same = pc.equal(ranked[1:], ranked[:-1]).to_numpy(zero_copy_only=False) if len(ranked) > 1 else []
        del ranked
        return int(order.to_numpy()[1:][same].min()) if np.any(same) else None
    dup = values.duplicated() & values.notna()
    return int(dup.to_numpy().argmax()) if dup.any() else None


def _check_sorted(spec: TableSpec, frame: pd.DataFrame, rel: str, is_csv: bool) -> None:
    col = spec.sorted_by
    if not col or col not in frame or frame[col].isna().all():
        return
    if isinstance(frame[col].dtype, pd.DatetimeTZDtype):  # compared as numbers: no object per row
        values = frame[col].array.asi8
        known = ~frame[col].isna().to_numpy()
        back = known[1:] & known[:-1] & (values[1:] < values[:-1])
        if back.any():
            i = int(back.argmax()) + 1
            raise RecordsError(rel, f"not sorted by {col}: {frame[col].iloc[i]} comes after {frame[col].iloc[i - 1]}",
                               column=col, row=i + 1, csv=is_csv)
        return
    values = frame[col].tolist()
    for i in range(1, len(values)):
        if values[i] is not None and values[i - 1] is not None and not pd.isna(values[i]) \
                and not pd.isna(values[i - 1]) and values[i] < values[i - 1]:
            raise RecordsError(rel, f"not sorted by {col}: {values[i]} comes after {values[i - 1]}",
                               column=col, row=i + 1, csv=is_csv)


def row_error(ctx, name: str, frame: pd.DataFrame, position: int, column: str, message: str) -> RecordsError:
    """A contract error found by a checker after loading (e.g. side not buy/sell)."""
    path = find(ctx, name)
    return RecordsError(_rel(ctx, path), message, column=column, row=int(frame[ROW].iloc[position]),
                        csv=path.suffix != ".parquet")


def check_values(ctx, name: str, frame: pd.DataFrame, column: str, allowed: Iterable[str]) -> None:
    """Raise a RecordsError for the first non-null value of ``column`` not in ``allowed``."""
    allowed = set(allowed)
    for i, v in enumerate(frame[column].tolist()):
        if v is not None and not (isinstance(v, float) and v != v) and v not in allowed:
            raise row_error(ctx, name, frame, i, column, f"{v!r} is not one of {', '.join(sorted(allowed))}")
