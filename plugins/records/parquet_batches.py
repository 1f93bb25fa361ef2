"""Reading a Parquet records file batch by batch, as the rows a whole-file read gives.

``pandas.read_parquet`` reads a whole file into one frame. :func:`frames` reads it with
``pyarrow.parquet.ParquetFile.iter_batches`` (row group by row group, at most ``rows`` rows at a
time) and turns each batch into the rows that frame would hold: the same columns, the same index
labels (a pandas ``RangeIndex`` kept as metadata is sliced for the batch; a stored index column
is read with it; a file without pandas metadata is numbered from 0) and the same Python values.
Values depend on the whole file in one case only: pandas gives an integer column holding a null
anywhere in the file as floats, so such a column is given as floats in every batch (the row
groups' null counts say which columns; a column without them is read once, alone, to count).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

try:  # what pandas.read_parquet applies to the table it read (string dtype, time zones)
    from pandas.io._util import arrow_table_to_pandas as _to_pandas
except ImportError:  # pandas before 3.0 converted with pyarrow's own defaults
    def _to_pandas(table: pa.Table) -> pd.DataFrame:
        return table.to_pandas()


def open_file(path: Path) -> pq.ParquetFile:
    """The file, its footer read (raises what pyarrow raises for a file that is not Parquet).
    Pages are read through a 1 MiB buffer, not a whole row group's column chunks at once."""
    return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)


def columns(parquet: pq.ParquetFile) -> list:
    """The data columns a whole read gives (index columns kept by pandas are not among them)."""
    return list(_to_pandas(parquet.schema_arrow.empty_table()).columns)


def frames(parquet: pq.ParquetFile, rows: int, only: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The file's rows in frames of at most ``rows`` rows (columns ``only``, or all); a file
    without rows gives one empty frame, as a whole read gives an empty frame."""
    total = parquet.metadata.num_rows
    if only is not None:  # a column the file lacks is the caller's to report
        only = [c for c in dict.fromkeys(only) if c in parquet.schema_arrow.names]
    whole_index = _range_index(parquet.schema_arrow.pandas_metadata, total)
    floats = _integers_with_nulls(parquet, only)
    at = 0
    for batch in parquet.iter_batches(batch_size=rows, columns=only, use_pandas_metadata=True):
        with warnings.catch_warnings():  # as pandas.read_parquet does
            warnings.filterwarnings("ignore", "make_block is deprecated")
            frame = _to_pandas(pa.Table.from_batches([batch]))
        for name in floats.intersection(frame.columns):
            if frame[name].dtype.kind in "iu":  # this batch has no null; the whole column had one
                frame[name] = frame[name].astype("float64")
        if whole_index is not None:
            frame.index = whole_index[at:at + len(frame)]
        at += len(frame)
        yield frame
    if at == 0:
        empty = _to_pandas(parquet.schema_arrow.empty_table())
        yield empty if only is None else empty[[c for c in only if c in empty.columns]]


def _range_index(meta: dict | None, total: int) -> pd.RangeIndex | None:
    """The index a whole read gives when it is not stored as a column (None when it is)."""
    kept = (meta or {}).get("index_columns") or []
    if kept and all(isinstance(c, str) for c in kept):
        return None  # stored columns: each batch carries its labels
    if len(kept) == 1 and isinstance(kept[0], dict) and kept[0].get("kind") == "range":
        spec = kept[0]
        index = pd.RangeIndex(spec["start"], spec["stop"], spec["step"], name=spec.get("name"))
        if len(index) == total:  # pyarrow renumbers from 0 when the metadata does not fit
            return index
    return pd.RangeIndex(total)


def _integers_with_nulls(parquet: pq.ParquetFile, only: list[str] | None) -> set[str]:
    """Integer columns with a null in some row group: pandas gives the whole column as floats."""
    schema, meta = parquet.schema_arrow, parquet.metadata
    names = [f.name for f in schema if pa.types.is_integer(f.type) and (only is None or f.name in only)]
    if not names or meta.num_row_groups == 0:
        return set()
    leaf = {meta.row_group(0).column(j).path_in_schema: j for j in range(meta.num_columns)}
    out = set()
    for name in names:
        counts = [_null_count(meta.row_group(g), leaf.get(name)) for g in range(meta.num_row_groups)]
        if any(c is None for c in counts):  # no statistics: count this column's nulls by reading it
            counts = [b.column(0).null_count for b in parquet.iter_batches(batch_size=65_536, columns=[name])]
        if sum(counts):
            out.add(name)
    return out


def _null_count(group, j: int | None) -> int | None:
    if j is None:
        return None
    stats = group.column(j).statistics
    return stats.null_count if stats is not None and stats.has_null_count else None
