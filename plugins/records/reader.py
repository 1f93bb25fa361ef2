"""Reading one records file and enforcing the contract on it.

``load(ctx, "fills", need=[...], optional=[...])`` finds ``records/fills.csv`` (or ``.parquet``;
``check.params.files.fills`` overrides the path), records it as evidence, converts every column
to its contract kind and raises :class:`RecordsError` naming the file, the column and the row of
the first bad value (missing column, wrong type, null where a value is required, duplicate key,
unsorted timestamps). Decimal columns hold :class:`decimal.Decimal` objects so sums are exact.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable

import pandas as pd

from golive.plugins.records.contract import TABLES, TableSpec

ROW = "_row"  # 1-based data row number kept on every frame so checkers can name bad rows
# Decimal arithmetic carries 28 significant digits: an amount with more integer digits than this
# cannot be rounded to the cent or summed exactly (``1e309`` made checks fail with a bare
# InvalidOperation). 20 digits exceed any real price, quantity or notional with room for sums.
MAX_INTEGER_DIGITS = 20
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


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
    ``optional`` columns may be absent (filled with nulls) or hold nulls.
    """
    spec = TABLES[name]
    path = find(ctx, name)
    rel = _rel(ctx, path)
    if not path.exists():
        raise RecordsMissing(f"{rel} not found (records file '{name}', see docs/records-contract.md)")
    if not any(a.path == rel for a in ctx.artifacts):  # a check may read a file twice; record it once
        ctx.record_artifact(path)
    is_csv = path.suffix != ".parquet"
    raw = _read(path, rel, is_csv)
    need, optional, nullable = list(need), list(optional), set(nullable)
    frame = pd.DataFrame(index=raw.index)
    for col in need + optional:
        column = spec.column(col)
        if col not in raw.columns:
            if col in need:
                raise RecordsError(rel, f"required column missing (has: {', '.join(map(str, raw.columns))})",
                                   column=col, csv=is_csv)
            frame[col] = None
            continue
        values = [_convert(v, column.kind, rel, col, i + 1, is_csv) for i, v in enumerate(raw[col].tolist())]
        if col in need and col not in nullable:
            for i, v in enumerate(values):
                if v is None:
                    raise RecordsError(rel, f"a value is required ({column.kind})", column=col,
                                       row=i + 1, csv=is_csv)
        frame[col] = _series(values, column.kind, raw.index)
    frame[ROW] = range(1, len(raw) + 1)
    _check_key(spec, frame, rel, is_csv)
    _check_sorted(spec, frame, rel, is_csv)
    return frame


def _read(path: Path, rel: str, is_csv: bool) -> pd.DataFrame:
    try:
        if is_csv:
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
        return pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except Exception as exc:  # noqa: BLE001 - any parser failure is bad input, named
        raise RecordsError(rel, f"cannot be read: {type(exc).__name__}: {exc}", csv=is_csv) from exc


def _null(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _convert(value, kind: str, rel: str, col: str, row: int, is_csv: bool):
    if _null(value):
        return None
    bad = lambda why: RecordsError(rel, f"{value!r} {why}", column=col, row=row, csv=is_csv)  # noqa: E731
    text = value.strip() if isinstance(value, str) else value
    if kind == "str":
        return str(text)
    if kind == "decimal":
        if isinstance(text, float) and not is_csv:
            raise bad("is a binary float; money and prices must be decimal128 or strings")
        try:
            d = Decimal(str(text))
        except InvalidOperation:
            raise bad("is not a decimal number") from None
        if not d.is_finite():
            raise bad("is not a finite decimal")
        if d and d.adjusted() >= MAX_INTEGER_DIGITS:
            raise bad(f"is out of range: more than {MAX_INTEGER_DIGITS} digits before the decimal point")
        return d
    if kind in ("int", "float"):
        try:
            f = float(text)
        except (TypeError, ValueError):
            raise bad(f"is not a{'n integer' if kind == 'int' else ' number'}") from None
        if f != f or f in (float("inf"), float("-inf")):
            raise bad("is not a finite number")
        if kind == "int":
            if f != int(f):
                raise bad("is not an integer")
            return int(f)
        return f
    if kind == "bool":
        if isinstance(text, bool):
            return text
        s = str(text).lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise bad("is not a boolean (true/false)")
    if kind == "timestamp":
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError):
            raise bad("is not an ISO 8601 timestamp") from None
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if kind == "date":
        if isinstance(text, date):
            return text if not isinstance(text, pd.Timestamp) else text.date()
        try:
            return date.fromisoformat(str(text))
        except ValueError:
            raise bad("is not a date (YYYY-MM-DD)") from None
    raise AssertionError(f"unknown kind {kind}")


def _series(values: list, kind: str, index) -> pd.Series:
    if kind == "timestamp":
        return pd.Series(pd.to_datetime(values, utc=True), index=index)
    if kind == "float":
        return pd.Series([float("nan") if v is None else v for v in values], index=index, dtype=float)
    return pd.Series(values, index=index, dtype=object)


def _check_key(spec: TableSpec, frame: pd.DataFrame, rel: str, is_csv: bool) -> None:
    if not spec.key or spec.key not in frame:
        return
    dup = frame[spec.key].duplicated() & frame[spec.key].notna()
    if dup.any():
        i = int(dup.to_numpy().argmax())
        raise RecordsError(rel, f"duplicate {spec.key} {frame[spec.key].iloc[i]!r}", column=spec.key,
                           row=i + 1, csv=is_csv)


def _check_sorted(spec: TableSpec, frame: pd.DataFrame, rel: str, is_csv: bool) -> None:
    col = spec.sorted_by
    if not col or col not in frame or frame[col].isna().all():
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
