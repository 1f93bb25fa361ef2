"""The chunked records reader returns what a whole-file read returned, and names the same errors.

``whole_file_load`` below is the reader as it was before chunking (the whole CSV read as text,
every value converted in column order): the chunked reader, with chunks of 3 rows so that
every file spans chunks, must give equal frames and equal error messages on any file.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from golive.plugins.broker import trading
from golive.plugins.records import checkutil, convert, reader
from golive.plugins.records.common import standalone_context
from golive.plugins.records.contract import TABLES

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/ and the fixtures' CASES
FILL_COLUMNS = ["ts", "fill_id", "order_id", "symbol", "side", "qty", "price", "fees"]
CELLS = {  # per column: good values, near misses and nulls
    "ts": ["2026-11-02T14:30:00Z", "2026-11-02T14:30:01.5Z", "2026-11-02 14:30:02", "2026-11-02T15:30:03+01:00",
           "2026-11-02T14:30:04.123456789Z", "", " ", "not-a-time", "2026-11-02T14:29:00Z", "Nov 2 2026 14:31"],
    "fill_id": ["F1", "F2", " F3 ", "F4", "", "F1", "é5"],
    "order_id": ["O1", "O2", "", "O3"],
    "symbol": ["ESZ6", "NQZ6", " ESZ6", ""],
    "side": ["buy", "sell", "BUY", ""],
    "qty": ["1", "2", "1.0", "1e1", "-3", "1.5", "x", "", "inf"],
    "price": ["6000.25", "6000.250", "1e3", "-0", "1e309", "NaN", "abc", "", " 6000.5 "],
    "fees": ["1.2", "1.20", "0", "", "0.000000001"],
}


def whole_file_load(ctx, name, need=(), optional=(), nullable=()):
    """The reader before chunking: read all text, convert column by column, then key and order."""
    spec, path = TABLES[name], reader.find(ctx, name)
    rel = reader._rel(ctx, path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.EmptyDataError:
        raw = pd.DataFrame()
    except Exception as exc:  # noqa: BLE001
        raise reader.RecordsError(rel, f"cannot be read: {type(exc).__name__}: {exc}") from exc
    need, optional, nullable = list(need), list(optional), set(nullable)
    frame = pd.DataFrame(index=raw.index)
    for col in need + optional:
        kind = spec.column(col).kind
        if col not in raw.columns:
            if col in need:
                raise reader.RecordsError(rel, f"required column missing (has: {', '.join(map(str, raw.columns))})",
                                          column=col)
            frame[col] = None
            continue
        values = []
        for i, v in enumerate(raw[col].tolist()):
            try:
                values.append(convert.convert(v, kind, True))
            except convert.BadValue as exc:
                raise reader.RecordsError(rel, str(exc), column=col, row=i + 1) from None
        if col in need and col not in nullable and None in values:
            raise reader.RecordsError(rel, f"a value is required ({kind})", column=col, row=values.index(None) + 1)
        if kind == "timestamp":
            frame[col] = pd.Series(pd.to_datetime(values, utc=True), index=raw.index)
        elif kind == "float":
            frame[col] = pd.Series([np.nan if v is None else v for v in values], index=raw.index, dtype=float)
        else:
            frame[col] = pd.Series(values, index=raw.index, dtype=object)
    frame[reader.ROW] = range(1, len(raw) + 1)
    reader._check_key(spec, frame, rel, True)
    reader._check_sorted(spec, frame, rel, True)
    return frame


def outcome(load, ctx, **kw):
    try:
        return load(ctx, "fills", **kw)
    except reader.RecordsError as exc:
        return str(exc)


def write_fills(root, header, rows):
    (root / "records").mkdir(exist_ok=True)
    lines = [",".join(header)] + [",".join(r) for r in rows]
    (root / "records" / "fills.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def assert_same(new, old):
    if isinstance(old, str) or isinstance(new, str):
        assert new == old
        return
    assert list(new.columns) == list(old.columns)
    for col in old.columns:
        assert new[col].tolist() == old[col].tolist(), col
        assert [type(v) for v in new[col].tolist()] == [type(v) for v in old[col].tolist()], col
        if str(old[col].dtype).startswith("datetime"):
            assert new[col].dtype == old[col].dtype, col


def draw_fills(data) -> tuple[list[str], list[tuple]]:
    """(header, rows) of a fills file: good values only (unique ids, increasing times) or any."""
    header = data.draw(st.permutations(FILL_COLUMNS).map(lambda cols: cols[:len(cols) - data.draw(st.integers(0, 1))]))
    good = data.draw(st.booleans())
    rows = data.draw(st.lists(st.tuples(*[st.sampled_from(CELLS[c][:2] if good else CELLS[c]) for c in header]),
                              max_size=12))
    if data.draw(st.booleans()) and rows:  # a repeated row: duplicate ids
        rows.insert(data.draw(st.integers(0, len(rows))), rows[data.draw(st.integers(0, len(rows) - 1))])
    if good:  # unique ids and increasing times, so the file loads and the frames are compared
        rows = [tuple(f"F{i}" if c == "fill_id" else f"2026-11-02T14:{i:02d}:00Z" if c == "ts" else v
                      for c, v in zip(header, r)) for i, r in enumerate(rows)]
    return header, rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_chunked_reader_agrees_with_a_whole_file_read(tmp_path_factory, monkeypatch, data):
    monkeypatch.setattr(reader, "CHUNK_ROWS", 3)
    # as a large file (ids kept in Arrow, duplicates found by sorting) or as a small one
    monkeypatch.setattr(reader, "LARGE_INPUT_BYTES", data.draw(st.sampled_from([0, 64 << 20])))
    root = tmp_path_factory.mktemp("fills")
    write_fills(root, *draw_fills(data))
    need = [c for c in FILL_COLUMNS if data.draw(st.booleans())]
    optional = [c for c in FILL_COLUMNS if c not in need and data.draw(st.booleans())]
    nullable = [c for c in need if data.draw(st.booleans())]
    ctx = standalone_context(root)
    kw = {"need": need, "optional": optional, "nullable": nullable}
    old = outcome(whole_file_load, ctx, **kw)
    event("error" if isinstance(old, str) else "frame")
    assert_same(outcome(reader.load, ctx, **kw), old)


@pytest.mark.parametrize("text", ["a,b\n1,2,3\n", "ts,fill_id\n\"x,1\n", "", "ts,fill_id\n"])
def test_unreadable_and_empty_files_give_the_same_message(tmp_path, text):
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "fills.csv").write_text(text)
    ctx = standalone_context(tmp_path)
    assert_same(outcome(reader.load, ctx, need=["fill_id"]), outcome(whole_file_load, ctx, need=["fill_id"]))


def test_a_large_file_keeps_ids_in_arrow_and_repeated_values_shared(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(reader, "LARGE_INPUT_BYTES", 100)
    monkeypatch.setattr(reader, "CHUNK_ROWS", 50)
    monkeypatch.setattr(reader, "_warned", set())
    rows = [(f"2026-11-02T14:{i // 60:02d}:{i % 60:02d}Z", f"F{i}", f"O{i // 2}", "ESZ6", "buy" if i % 2 else "sell",
             "1", "6000.25", "1.20") for i in range(200)]
    write_fills(tmp_path, FILL_COLUMNS, rows)
    ctx = standalone_context(tmp_path)
    with caplog.at_level(logging.WARNING, logger="golive.plugins.inputs"):
        frame = trading.fills(ctx)
    assert str(frame["fill_id"].dtype) == "str" and frame["fill_id"].tolist()[:2] == ["F0", "F1"]
    assert frame["price"].dtype == object and frame["price"].iloc[0] is frame["price"].iloc[199]
    assert str(frame["price"].iloc[0]) == "6000.25" and str(frame["fees"].sum()) == "240.00"
    assert_same(frame.assign(fill_id=frame["fill_id"].astype(object), order_id=frame["order_id"].astype(object)),
                whole_file_load(ctx, "fills", need=FILL_COLUMNS))
    assert reader.size_notes(ctx) == [f"records/fills.csv is {(tmp_path / 'records/fills.csv').stat().st_size / 1e6:,.0f} MB: read in chunks"]
    assert any("read in chunks" in r.getMessage() for r in caplog.records)
    spec = checkutil.make_spec("broker", "t", lambda req, c: trading.fills(c) is not None and checkutil.no_data("x"),
                               "t", ())
    from golive.model import Requirement
    req = Requirement(id="T-1", title="t", statement="s", category="c", priority="P1", plan_lines=(1, 1))
    assert spec.func(req, ctx).details["large_inputs"] == reader.size_notes(ctx)


def _results(root, monkeypatch, large: bool) -> dict:
    from tests.test_records_fixtures import CASES, run_case
    monkeypatch.setattr(reader, "LARGE_INPUT_BYTES", 0 if large else 64 << 20)
    monkeypatch.setattr(reader, "CHUNK_ROWS", 50 if large else 200_000)
    out = {}
    for req_id in CASES:
        result, evaluated, problems = run_case(root, req_id)
        details = {k: v for k, v in (result.details or {}).items() if k != "large_inputs"}
        out[req_id] = (result.status, result.message, repr(result.metrics), repr(details), repr(evaluated), problems)
    return out


@pytest.mark.parametrize("faults", [False, True])
def test_every_records_check_gives_the_same_result_when_files_are_read_as_large(tmp_path, monkeypatch, faults):
    """Large-file mode (chunks of 50 rows, ids in Arrow) changes no status, metric, message or detail."""
    from examples.records_fixtures import FAULTS, write_records
    write_records(tmp_path, FAULTS if faults else (), seed=7)
    small = _results(tmp_path, monkeypatch, large=False)
    large = _results(tmp_path, monkeypatch, large=True)
    assert [k for k in small if small[k] != large[k]] == []
    assert any(s[0] is not None for s in small.values())  # the checks observed something
