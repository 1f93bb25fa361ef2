"""A streamed records file (``stream.scan``) raises what ``reader.load`` raises and yields, chunk
by chunk, the rows of the frame ``load`` returns: same values, types, ``_row`` numbers and index."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from golive.plugins.broker import trading
from golive.plugins.records import reader, stream
from golive.plugins.records.common import standalone_context
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_records_reader_memory import FILL_COLUMNS, assert_same, draw_fills, write_fills  # noqa: E402


def streamed(make):
    try:
        scan = make()
    except reader.RecordsError as exc:
        return str(exc)
    chunks = list(scan)
    assert len(scan) == sum(len(c) for c in chunks)
    assert all(0 < len(c) <= stream.STREAM_ROWS for c in chunks)
    return pd.concat(chunks) if chunks else None


def loaded(make):
    try:
        return make()
    except reader.RecordsError as exc:
        return str(exc)


def assert_equivalent(new, old):
    if isinstance(old, pd.DataFrame) and new is None:
        assert old.empty
        return
    assert_same(new, old)
    if isinstance(old, pd.DataFrame):
        assert list(new.index) == list(old.index)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_streamed_file_gives_the_rows_and_errors_of_a_whole_read(tmp_path_factory, monkeypatch, data):
    monkeypatch.setattr(reader, "CHUNK_ROWS", 3)
    monkeypatch.setattr(stream, "STREAM_ROWS", data.draw(st.sampled_from([2, 3, 5])))
    monkeypatch.setattr(reader, "LARGE_INPUT_BYTES", data.draw(st.sampled_from([0, 64 << 20])))
    root = tmp_path_factory.mktemp("fills")
    header, rows = draw_fills(data)
    if data.draw(st.booleans()):  # a bad side or quantity, which only the fills checks refuse
        rows = [tuple("hold" if c == "side" and i == len(rows) // 2 else v for c, v in zip(header, r))
                for i, r in enumerate(rows)]
    write_fills(root, header, rows)
    ctx = standalone_context(root)
    if data.draw(st.booleans()):  # as the broker checks read fills
        old = loaded(lambda: trading.fills(ctx))
        new = streamed(lambda: trading.fill_scan(ctx))
    else:
        need = [c for c in FILL_COLUMNS if data.draw(st.booleans())]
        optional = [c for c in FILL_COLUMNS if c not in need and data.draw(st.booleans())]
        kw = {"need": need, "optional": optional, "nullable": [c for c in need if data.draw(st.booleans())]}
        old = loaded(lambda: reader.load(ctx, "fills", **kw))
        new = streamed(lambda: stream.scan(ctx, "fills", **kw))
    event("error" if isinstance(old, str) else "frame")
    assert_equivalent(new, old)


def test_a_validated_file_is_validated_once_per_content(tmp_path, monkeypatch):
    rows = [(f"2026-11-02T14:00:{i:02d}Z", f"F{i}", f"O{i}", "ESZ6", "buy", "1", "6000.25", "1.20") for i in range(5)]
    write_fills(tmp_path, FILL_COLUMNS, rows)
    calls = []
    real = stream.Scan._validate
    monkeypatch.setattr(stream.Scan, "_validate", lambda self, large: calls.append(1) or real(self, large))
    for _ in range(2):
        assert len(trading.fill_scan(standalone_context(tmp_path))) == 5
    assert calls == [1]
    write_fills(tmp_path, FILL_COLUMNS, rows + [("2026-11-02T14:01:00Z", "F9", "O9", "ESZ6", "sell", "0", "1", "0")])
    with pytest.raises(reader.RecordsError, match="row 6.*must be > 0"):  # new content: validated again
        trading.fill_scan(standalone_context(tmp_path))
    assert calls == [1, 1]


def _results(root: Path) -> dict:
    """What each check that streams records gives on the workspace at ``root``."""
    from tests.test_audit_checks import run
    from tests.test_records_fixtures import CASES, run_case
    from golive.plugins.audit import completeness, positions, reconstruction, regulatory
    out = {}
    for req_id, (key, _, _) in CASES.items():
        if key.startswith(("broker.", "business.pnl_reconciliation", "algorithm.shadow_duration")):
            result, evaluated, problems = run_case(root, req_id)
            out[req_id] = (result.status, result.message, repr(result.metrics), repr(result.details),
                           repr(result.observed), repr(evaluated), problems)
    for func in (positions.position_records, reconstruction.trade_reconstruction, regulatory.regulatory_reporting,
                 completeness.audit_completeness):
        result, _ = run(func, root)
        out[func.__name__] = (result.status, result.message, repr(result.metrics), repr(result.details),
                              repr(result.observed))
    return out


def test_every_check_reading_fills_gives_the_same_result_in_small_chunks(tmp_path, monkeypatch):
    """The checks that stream records (broker, P&L, shadow duration, audit) give the same status,
    metrics, message, details and observed period whether a file arrives in one chunk or in
    chunks of 7 rows (days, orders and positions then span chunks), on records holding every fault
    the demo can inject (mismatches, slippage, breaks to list)."""
    from examples.ops_fixtures import write_ops
    from examples.records_fixtures import FAULTS, write_records
    from tests.test_audit_checks import END
    write_records(tmp_path, FAULTS, seed=7)
    write_ops(tmp_path, end=END)
    whole = _results(tmp_path)
    monkeypatch.setattr(stream, "STREAM_ROWS", 7)
    chunked = _results(tmp_path)
    assert len(whole) == 15 and [k for k in whole if whole[k] != chunked[k]] == []
    assert sum(str(r[0]) != "missing" for r in whole.values()) >= 10  # the checks observed something
