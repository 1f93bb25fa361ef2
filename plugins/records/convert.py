"""Converting one records column, chunk by chunk, to its contract kind.

``convert`` is the contract's rule for one value (null, str, decimal, int, float, bool,
timestamp, date). :class:`ColumnBuilder` applies it to a column that arrives in chunks: each
distinct text of a chunk is converted once (prices, sides, symbols repeat), and the converted
objects are shared between rows, so a 5 M-row column of decimals costs a pointer a row instead of
a ``Decimal`` a row. It keeps the first bad value and the first null (with its row) so the reader
can raise exactly the error a whole-file read would, and it stops converting once it has one.
"""
from __future__ import annotations

import ctypes
import sys
from datetime import date
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Decimal arithmetic carries 28 significant digits: an amount with more integer digits than this
# cannot be rounded to the cent or summed exactly (``1e309`` made checks fail with a bare
# InvalidOperation). 20 digits exceed any real price, quantity or notional with room for sums.
MAX_INTEGER_DIGITS = 20
CACHE_LIMIT = 100_000  # distinct texts remembered per column; an id column is not worth caching
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_UNITS = ("s", "ms", "us", "ns")
try:
    _LIBC = ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else None
    _LIBC.malloc_trim  # noqa: B018 - musl has no malloc_trim
except (OSError, AttributeError):
    _LIBC = None
_CLEAN = r"(?s)^[!-~](.*[!-~])?$"  # text that str.strip() leaves as it is and that is not blank


class BadValue(ValueError):
    """A value that breaks its column's kind; ``why`` completes "'<value>' ..."."""

    def __init__(self, value, why: str):
        self.value, self.why = value, why
        super().__init__(f"{value!r} {why}")


def is_null(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def convert(value, kind: str, is_csv: bool):
    """``value`` as the contract's ``kind`` (None for a null); raises :class:`BadValue`."""
    if is_null(value):
        return None
    bad = lambda why: BadValue(value, why)  # noqa: E731
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


class ColumnBuilder:
    """One output column built from chunks of raw values (``add``), then ``series()``.

    ``compact``: a string column whose first chunk is mostly distinct (ids) is kept in Arrow
    (a few bytes a row instead of a Python ``str``) -- used for large files only, where the
    object column would not fit; values read back are the same Python strings.
    """

    def __init__(self, kind: str, is_csv: bool, compact: bool = False):
        self.kind, self.is_csv, self.compact = kind, is_csv, compact
        self.error: tuple[int, BadValue] | None = None  # first bad value: (row, problem)
        self.first_null: int | None = None  # row of the first null
        self.rows = 0
        self._cache: dict | None = {} if is_csv else None  # Parquet: equal objects may print apart
        self._pieces: list = []
        self._arrow: bool | None = None  # str columns: decided on the first chunk

    def add(self, raw: pd.Series) -> None:
        start, n = self.rows, len(raw)
        self.rows += n
        if self.error is not None or n == 0:
            return
        if self.kind == "timestamp" and self.is_csv:
            self._add_timestamps(raw, start)
            return
        if self.is_csv:  # texts: equal texts convert equally
            codes, uniques = pd.factorize(raw, use_na_sentinel=False)
            if self.kind == "str" and self._add_clean_texts(codes, uniques, start, n):
                return
            texts = uniques.tolist()
        else:  # Parquet objects: 1 and 1.0, Decimal('1') and Decimal('1.0') are equal but print apart
            texts, codes = raw.tolist(), np.arange(n)
        values = np.empty(len(texts), dtype=object)
        for k, text in enumerate(texts):
            try:
                values[k] = self._one(text)
            except BadValue as exc:
                self.error = (start + int(np.argmax(codes == k)) + 1, exc)
                self._pieces = []
                return
        nulls = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        if nulls.any() and self.first_null is None:
            self.first_null = start + int(np.argmax(nulls[codes])) + 1
        if self.kind == "str" and self._arrow is None:
            self._arrow = self.compact and len(texts) * 4 > n
        if self._arrow:
            self._pieces.append(pa.array(values.tolist(), pa.large_string()).take(pa.array(codes)))
        elif self.kind == "float":
            self._pieces.append(np.array([np.nan if v is None else v for v in values], dtype=float)[codes])
        else:
            self._pieces.append(values[codes])

    def _add_clean_texts(self, codes: np.ndarray, uniques, start: int, n: int) -> bool:
        """Strings that start and end with a visible ASCII character are their own value: kept
        without a Python object each (ids). False if some text needs ``convert`` (spaces, blanks)."""
        texts = pa.array(uniques, pa.large_string())
        if texts.null_count or not pc.all(pc.match_substring_regex(texts, _CLEAN)).as_py():
            return False
        if self._arrow is None:
            self._arrow = self.compact and len(texts) * 4 > n
        if self._arrow:
            self._pieces.append(texts.take(pa.array(codes)))
        else:
            self._pieces.append(np.array(texts.to_pylist(), dtype=object)[codes])
        return True

    def _one(self, text):
        if self._cache is None:
            return convert(text, self.kind, self.is_csv)
        key = (type(text), text) if not isinstance(text, str) else text
        try:
            return self._cache[key]
        except (KeyError, TypeError):
            value = convert(text, self.kind, self.is_csv)
        try:
            self._cache[key] = value
        except TypeError:
            pass
        if len(self._cache) > CACHE_LIMIT:
            self._cache = None
        return value

    def _add_timestamps(self, raw: pd.Series, start: int) -> None:
        """ISO 8601 texts parsed by pandas at once; anything else value by value, as before."""
        blank = pc.fill_null(pc.match_substring_regex(pa.array(raw.array, pa.large_string()), r"^\s*$"), True)
        blank = blank.to_numpy(zero_copy_only=False)
        try:
            parsed = pd.DatetimeIndex(pd.to_datetime(raw[~blank], utc=True, format="ISO8601"))
            values = np.full(len(raw), np.datetime64("NaT"), dtype=f"datetime64[{parsed.unit}]")
            values[~blank] = parsed.tz_convert(None).to_numpy()
        except (ValueError, TypeError, OverflowError):
            values = None
        if values is None:  # the slow path names the first bad row exactly as a whole-file read did
            self._cache = None
            objects = []
            for i, text in enumerate(raw.tolist()):
                try:
                    objects.append(convert(text, "timestamp", True))
                except BadValue as exc:
                    self.error = (start + i + 1, exc)
                    self._pieces = []
                    return
            series = pd.Series(pd.to_datetime(objects, utc=True)) if objects else pd.Series([], dtype="datetime64[us, UTC]")
            values = series.dt.tz_convert(None).to_numpy() if len(series) else np.array([], dtype="datetime64[us]")
            blank = np.fromiter((o is None for o in objects), dtype=bool, count=len(objects))
        if blank.any() and self.first_null is None:
            self.first_null = start + int(np.argmax(blank)) + 1
        self._pieces.append(values)

    def series(self) -> pd.Series:
        """The converted column (call once, after the last chunk and only without an error)."""
        pieces, self._pieces = self._pieces, []
        if self.kind == "timestamp" and self.is_csv:
            if not pieces:
                return pd.Series(pd.to_datetime([], utc=True))
            unit = max((np.datetime_data(p.dtype)[0] for p in pieces), key=_UNITS.index)
            joined = _join(pieces, np.dtype(f"datetime64[{unit}]"))
            return pd.Series(pd.DatetimeIndex(joined, copy=False).tz_localize("UTC"), copy=False)
        if self.kind == "timestamp":
            values = np.concatenate(pieces) if pieces else np.array([], dtype=object)
            return pd.Series(pd.to_datetime(values.tolist(), utc=True))
        if self._arrow:
            if self.first_null is None:  # the chunks stay as they are: no copy of the column
                return pd.Series(pd.StringDtype("pyarrow", na_value=np.nan).__from_arrow__(
                    pa.chunked_array(pieces, pa.large_string())), copy=False)
            pieces = [np.array(p.to_pylist(), dtype=object) for p in pieces]
        dtype = np.dtype(float if self.kind == "float" else object)
        return pd.Series(_join(pieces, dtype), dtype=dtype, copy=False)


def release_freed_memory() -> None:
    """Give freed heap memory back to the system (glibc keeps the chunks' small arrays otherwise,
    and the next column's large array is mapped afresh beside them); a no-op elsewhere."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _join(pieces: list, dtype: np.dtype) -> np.ndarray:
    """The pieces end to end, each freed once copied (peak: the column plus one piece)."""
    out = np.empty(sum(len(p) for p in pieces), dtype=dtype)
    at = 0
    while pieces:
        piece = pieces.pop(0)
        out[at:at + len(piece)] = piece
        at += len(piece)
    return out
