"""A Parquet records file is read batch by batch (``parquet_batches``) and gives what the whole
``pandas.read_parquet`` read gave: ``reader.load`` the same frame, ``stream.scan`` the same rows
in chunks, the same errors at the same rows; and the same rows and row numbers as a CSV file
holding the same texts. Files here have several row groups and are read 2-5 rows at a time."""
from __future__ import annotations

import re
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from golive.plugins.broker import trading
from golive.plugins.records import reader, stream
from golive.plugins.records.common import standalone_context
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_records_reader_memory import FILL_COLUMNS, assert_same, draw_fills, write_fills  # noqa: E402
from tests.test_records_stream import assert_equivalent, loaded, streamed  # noqa: E402

UTC = "UTC"


def whole_read(real):
    """``reader._read`` as it was: a Parquet file read whole by pandas, as one chunk."""
    def read(path, rel, is_csv, rows=None, only=None):
        if is_csv:
            return real(path, rel, is_csv, rows, only)
        try:
            whole = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001
            raise reader._unreadable(rel, exc, False) from exc
        return list(whole.columns), iter([whole])
    return read


def typed_column(data, name: str, n: int, good: bool) -> pa.Array:
    """One fills column as a Parquet writer might type it: valid values only (``good``: unique
    ids, increasing times) or with nulls and near misses."""
    nulls = lambda: not good and data.draw(st.booleans())  # noqa: E731
    pick = lambda values: [data.draw(st.sampled_from(values[:2] if good else values)) for _ in range(n)]  # noqa: E731
    if name == "ts":
        unit = data.draw(st.sampled_from(["s", "ms", "us", "ns"]))
        seconds = list(range(0, 3 * n, 3)) if good else pick(range(0, 50))
        values = [pd.Timestamp("2026-11-02T14:00:00Z") + pd.Timedelta(s, "s") + pd.Timedelta(
            data.draw(st.sampled_from([0, 1, 500_000])), "us") for s in seconds]
        values = [None if nulls() and data.draw(st.booleans()) else v for v in values]
        if data.draw(st.booleans()):
            return pa.array([None if v is None else v.isoformat() for v in values], pa.string())
        return pa.array(values, pa.timestamp(unit, tz=UTC if data.draw(st.booleans()) else None))
    if name in ("fill_id", "order_id"):
        if data.draw(st.booleans()):  # integer ids, a null in some row group makes them floats
            ids = pick([1, 2, 3, 4, 5, 6, 7, 8, 9, None]) if nulls() else list(range(1, n + 1))
            return pa.array(ids, pa.int64())
        ids = pick(["F1", "F2", " F3 ", "", None, "é5"]) if nulls() else [f"F{i}" for i in range(n)]
        return pa.array(ids, pa.string())
    if name == "symbol":
        return pa.array(pick(["ESZ6", "NQZ6", " ESZ6", None]), pa.string())
    if name == "side":
        return pa.array(pick(["buy", "sell", "BUY", None]), pa.string())
    if name == "qty":
        kind = data.draw(st.sampled_from(["int", "text"] if good else ["int", "text", "float"]))
        if kind == "int":
            return pa.array(pick([1, 5, 2, -3, 0, None]), pa.int64())
        if kind == "text":
            return pa.array(pick(["1", "2", "1.0", "x", "", None]), pa.string())
        return pa.array(pick([1.0, 2.0, 1.5, None]), pa.float64())
    kind = data.draw(st.sampled_from(["decimal", "text"] if good else ["decimal", "text", "float"]))  # price, fees
    if kind == "decimal":
        return pa.array(pick([Decimal("6000.25"), Decimal("6000.250"), Decimal("1.20"), None]), pa.decimal128(12, 3))
    if kind == "text":
        return pa.array(pick(["6000.25", "1e3", "abc", "", None]), pa.string())
    return pa.array(pick([6000.25, None]), pa.float64())


def write_parquet(data, root: Path) -> None:
    """records/fills.parquet in row groups of 1-4 rows, written by pyarrow (no pandas index) or by
    pandas (a default, a stepped or a stored index)."""
    n = data.draw(st.integers(0, 11))
    header = data.draw(st.permutations(FILL_COLUMNS))[:len(FILL_COLUMNS) - data.draw(st.integers(0, 1))]
    good = data.draw(st.booleans())
    table = pa.table({c: typed_column(data, c, n, good) for c in header})
    if not good and data.draw(st.booleans()) and n:  # a repeated row: a duplicate id unless ids are null
        i = data.draw(st.integers(0, n - 1))
        table = pa.concat_tables([table, table.slice(i, 1)])
    (root / "records").mkdir(exist_ok=True)
    path, groups = root / "records" / "fills.parquet", data.draw(st.integers(1, 4))
    writer = data.draw(st.sampled_from(["pyarrow", "pandas", "pandas stepped", "pandas stored"]))
    event(writer)
    if writer == "pyarrow":
        pq.write_table(table, path, row_group_size=groups)
        return
    frame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    if writer == "pandas stepped":
        frame.index = pd.RangeIndex(10, 10 + 3 * len(frame), 3, name="seq")
    elif writer == "pandas stored":
        frame.index = pd.Index([7 * i % 13 for i in range(len(frame))], dtype="int64")
    frame.to_parquet(path, row_group_size=groups)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_batches_give_the_frames_rows_and_errors_of_a_whole_read(tmp_path_factory, monkeypatch, data):
    monkeypatch.setattr(reader, "CHUNK_ROWS", data.draw(st.sampled_from([2, 3, 5])))
    monkeypatch.setattr(stream, "STREAM_ROWS", data.draw(st.sampled_from([2, 3])))
    root = tmp_path_factory.mktemp("parquet")
    write_parquet(data, root)
    ctx = standalone_context(root)
    if data.draw(st.booleans()):  # as the broker checks read fills
        old = lambda: trading.fills(ctx)  # noqa: E731
        new, streaming = old, lambda: trading.fill_scan(ctx)  # noqa: E731
    else:
        need = [c for c in FILL_COLUMNS if data.draw(st.booleans())]
        optional = [c for c in FILL_COLUMNS if c not in need and data.draw(st.booleans())]
        kw = {"need": need, "optional": optional, "nullable": [c for c in need if data.draw(st.booleans())]}
        old = new = lambda: reader.load(ctx, "fills", **kw)  # noqa: E731
        streaming = lambda: stream.scan(ctx, "fills", **kw)  # noqa: E731
    batched, chunks = loaded(new), streamed(streaming)
    with monkeypatch.context() as m:
        m.setattr(reader, "_read", whole_read(reader._read))
        whole = loaded(old)
    event("error" if isinstance(whole, str) else "frame")
    assert_same(batched, whole)
    assert_equivalent(chunks, whole)
    if isinstance(whole, pd.DataFrame):
        assert list(batched.index) == list(whole.index) and type(batched.index) is type(whole.index)


def _as_csv(message: str) -> str:
    """A Parquet error as the same error in fills.csv reads (the CSV names the line too)."""
    message = message.replace("fills.parquet", "fills.csv")
    return re.sub(r", row (\d+):", lambda m: f", row {m[1]} (line {int(m[1]) + 1}):", message)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_parquet_of_the_csv_texts_gives_the_same_rows_and_row_numbers(tmp_path_factory, monkeypatch, data):
    monkeypatch.setattr(reader, "CHUNK_ROWS", 3)
    monkeypatch.setattr(stream, "STREAM_ROWS", 2)
    header, rows = draw_fills(data)
    csv_root, pq_root = tmp_path_factory.mktemp("csv"), tmp_path_factory.mktemp("pq")
    write_fills(csv_root, header, rows)
    (pq_root / "records").mkdir()
    table = pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(header)})
    pq.write_table(table, pq_root / "records" / "fills.parquet", row_group_size=data.draw(st.integers(1, 4)))
    for read in (lambda root: trading.fills(standalone_context(root)),
                 lambda root: streamed(lambda: trading.fill_scan(standalone_context(root)))):
        csv, parquet = loaded(lambda: read(csv_root)), loaded(lambda: read(pq_root))
        event("error" if isinstance(csv, str) else "frame")
        if isinstance(csv, str) or isinstance(parquet, str):
            assert _as_csv(str(parquet)) == csv
            continue
        if csv is None or parquet is None:
            assert len(rows) == 0 and (csv is None or csv.empty) and (parquet is None or parquet.empty)
            continue
        assert list(parquet.columns) == list(csv.columns) and list(parquet.index) == list(csv.index)
        for col in csv.columns:  # equal values (a timestamp's unit may differ: CSV parses ISO text at once)
            assert parquet[col].tolist() == csv[col].tolist(), col


@pytest.fixture
def late_faults(tmp_path, monkeypatch):
    """fills.parquet of 10 rows in row groups of 3, read 2 rows at a time, with ``fault`` put in."""
    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)
    monkeypatch.setattr(stream, "STREAM_ROWS", 2)
    (tmp_path / "records").mkdir()

    def write(**columns):
        base = {"ts": pd.date_range("2026-11-02T14:00:00Z", periods=10, freq="s").tolist(),
                "fill_id": [f"F{i}" for i in range(10)], "order_id": [f"O{i}" for i in range(10)],
                "symbol": ["ESZ6"] * 10, "side": ["buy", "sell"] * 5, "qty": [1] * 10,
                "price": [Decimal("6000.25")] * 10, "fees": [Decimal("1.20")] * 10}
        table = pa.table({**base, **columns})
        pq.write_table(table, tmp_path / "records" / "fills.parquet", row_group_size=3)
        return standalone_context(tmp_path)
    return write


@pytest.mark.parametrize("columns, error", [
    ({"fill_id": [f"F{i}" for i in range(9)] + ["F2"]}, "column 'fill_id', row 10: duplicate fill_id 'F2'"),
    ({"side": ["buy"] * 8 + ["hold", "buy"]}, "column 'side', row 9: 'hold' is not one of buy, sell"),
    ({"qty": [1] * 7 + [0, 1, 1]}, "column 'qty', row 8: 0 must be > 0"),
    ({"price": pa.array([6000.25] * 10)}, "column 'price', row 1: 6000.25 is a binary float"),
    ({"fees": [Decimal("1.20")] * 9 + [None]}, "column 'fees', row 10: a value is required"),
    ({"ts": pd.date_range("2026-11-02T14:00:00Z", periods=10, freq="s").tolist()[::-1]},
     "column 'ts', row 2: not sorted by ts"),
])
def test_a_fault_in_a_late_row_group_names_file_column_and_row(late_faults, columns, error):
    ctx = late_faults(**columns)
    for read in (trading.fills, trading.fill_scan):
        with pytest.raises(reader.RecordsError) as caught:
            read(ctx)
        assert str(caught.value).startswith(f"records/fills.parquet: {error}"), str(caught.value)
        assert "(line" not in str(caught.value)


def test_an_integer_column_with_a_null_late_reads_as_pandas_reads_it(late_faults):
    """A null in the last row group only: pandas gave the whole column as floats (so "1.0" as a
    text column); every batch gives it so, not only the batch holding the null."""
    ctx = late_faults(order_id=pa.array(list(range(1, 10)) + [None], pa.int64()))
    frame = reader.load(ctx, "fills", need=["fill_id"], optional=["order_id"])
    assert frame["order_id"].tolist() == [f"{i}.0" for i in range(1, 10)] + [None]
    chunks = list(stream.scan(ctx, "fills", need=["fill_id"], optional=["order_id"]))
    assert len(chunks) == 5 and pd.concat(chunks)["order_id"].tolist() == frame["order_id"].tolist()


def test_scan_reads_parquet_a_batch_at_a_time(late_faults, monkeypatch):
    """Validation and iteration both go through batches of STREAM_ROWS rows: no read of the whole
    file (pandas.read_parquet) and no batch above 2 rows."""
    ctx = late_faults()
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: pytest.fail("whole-file read"))
    sizes = []
    real = pq.ParquetFile.iter_batches

    def batches(self, *args, **kwargs):
        for batch in real(self, *args, **kwargs):
            sizes.append(batch.num_rows)
            yield batch
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", batches)
    scan = trading.fill_scan(ctx)
    assert [len(c) for c in scan] == [2] * 5 and sizes and max(sizes) == 2
    assert pd.concat(list(scan))["fill_id"].tolist() == [f"F{i}" for i in range(10)]


@pytest.mark.parametrize("content", [b"", b"not a parquet file at all" * 4])
def test_an_unreadable_parquet_file_is_named(tmp_path, content):
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "fills.parquet").write_bytes(content)
    for read in (trading.fills, trading.fill_scan):
        with pytest.raises(reader.RecordsError, match=r"^records/fills.parquet: cannot be read: ArrowInvalid: "):
            read(standalone_context(tmp_path))


def test_a_large_parquet_file_is_named_and_reads_as_a_small_one(late_faults, monkeypatch):
    """Above LARGE_INPUT_BYTES a Parquet file is named in the run's size notes ("read in chunks",
    as it now is) and gives the same frame: ids stay Python objects, as before."""
    ctx = late_faults()
    small = reader.load(ctx, "fills", need=FILL_COLUMNS)
    monkeypatch.setattr(reader, "LARGE_INPUT_BYTES", 100)
    monkeypatch.setattr(reader, "_warned", set())
    large_ctx = standalone_context(ctx.target.root)
    large = reader.load(large_ctx, "fills", need=FILL_COLUMNS)
    assert_same(large, small)
    assert large["fill_id"].dtype == object
    size = (ctx.target.root / "records" / "fills.parquet").stat().st_size
    assert reader.size_notes(large_ctx) == [f"records/fills.parquet is {size / 1e6:,.0f} MB: read in chunks"]
