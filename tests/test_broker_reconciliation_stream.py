"""Broker reconciliation in bounded memory: the statement spilled to SQLite on disk and joined
there gives what a whole-statement dict join gave, on CSV and Parquet statements alike; a
fault in a late chunk of the statement is still named with file, column and row."""
from __future__ import annotations

import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golive.model import Requirement, Status
from golive.plugins.broker import reconciliation, trading
from golive.plugins.records import reader, stream
from golive.plugins.records.checkutil import listed
from golive.plugins.records.common import standalone_context

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.records_fixtures import write_csv  # noqa: E402

REQ = Requirement(id="AUD-06", title="t", statement="s", category="c", priority="P1", plan_lines=(200, 204))
COLUMNS = ["ts", "fill_id", "order_id", "symbol", "side", "qty", "price", "fees"]


def whole_statement(ctx) -> tuple[dict, dict]:
    """(metrics, details) as the check computed them holding the statement in a dict."""
    fills, stmt = trading.fills(ctx), trading.fills(ctx, "broker_statement")
    fields = reconciliation.FIELDS
    broker = {r.exec_id: tuple(getattr(r, f) for f in fields) for r in stmt.itertuples(index=False)}
    missing, mismatched, seen = [], [], set()
    for r in fills.itertuples(index=False):
        theirs = broker.get(r.fill_id)
        if theirs is None:
            missing.append(r.fill_id)
            continue
        seen.add(r.fill_id)
        diffs = {f: {"internal": str(a), "broker": str(b)}
                 for f, a, b in zip(fields, (getattr(r, f) for f in fields), theirs) if a != b}
        if diffs:
            mismatched.append({"exec_id": r.fill_id, "fields": diffs})
    extra = sorted(set(broker) - seen)
    matched = len(seen) - len(mismatched)
    metrics = {"missing_at_broker": len(missing), "extra_at_broker": len(extra), "mismatched": len(mismatched),
               "breaks": len(missing) + len(extra) + len(mismatched), "reconciled": matched,
               "reconciled_share": matched / max(len(fills), len(broker))}
    details = {"missing_at_broker": listed(sorted(missing)), "extra_at_broker": listed(extra),
               "mismatched": listed(sorted(mismatched, key=lambda m: m["exec_id"]))}
    return metrics, details


def fill_rows(ids, seed_price=Decimal("6000.25")):
    return [{"ts": f"2026-11-02T14:{i // 60:02d}:{i % 60:02d}Z", "fill_id": fid, "order_id": f"O{i // 2}",
             "symbol": "ESZ6", "side": "buy" if i % 2 else "sell", "qty": 1 + i % 3, "price": str(seed_price),
             "fees": "1.20"} for i, fid in enumerate(ids)]


def write(root: Path, fills: list[dict], statement: list[dict], parquet: bool = False) -> Path:
    write_csv(root / "records" / "fills.csv", fills, COLUMNS)
    rows = [{("exec_id" if k == "fill_id" else k): v for k, v in r.items()} for r in statement]
    stmt_cols = ["ts", "exec_id", *COLUMNS[2:]]
    for suffix in (".csv", ".parquet"):
        (root / "records" / f"broker_statement{suffix}").unlink(missing_ok=True)
    if parquet:  # the same values in Parquet (times and quantities typed), in row groups of 3
        frame = pd.DataFrame(rows, columns=stmt_cols)
        table = pa.table({"ts": pa.array(pd.to_datetime(frame["ts"], utc=True)), "exec_id": frame["exec_id"],
                          "order_id": frame["order_id"], "symbol": frame["symbol"], "side": frame["side"],
                          "qty": pa.array(frame["qty"].astype("int64")),
                          "price": pa.array(frame["price"].astype(str), pa.string()),  # decimal128 would
                          "fees": pa.array(frame["fees"].astype(str), pa.string())})  # rescale the texts
        pq.write_table(table, root / "records" / "broker_statement.parquet", row_group_size=3)
    else:
        write_csv(root / "records" / "broker_statement.csv", rows, stmt_cols)
    return root


def result_of(root: Path):
    r = reconciliation.SPEC.func(REQ, standalone_context(root))
    return r.status, r.message, repr(r.metrics), repr(r.details), repr(r.observed)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_sqlite_join_gives_the_whole_statement_join(tmp_path_factory, monkeypatch, data):
    monkeypatch.setattr(stream, "STREAM_ROWS", data.draw(st.sampled_from([1, 3, 50])))
    ids = [f"E{i:03d}" for i in range(data.draw(st.integers(0, 80)))]
    ours = data.draw(st.lists(st.sampled_from(ids), unique=True)) if ids else []
    theirs = data.draw(st.lists(st.sampled_from(ids), unique=True)) if ids else []
    fills = fill_rows(ours)
    statement = []
    for row in fill_rows(theirs):  # some executions differ from the fill of the same id
        change = data.draw(st.sampled_from(["", "", "price", "fees", "qty", "side", "order_id"]))
        if change == "price":
            row["price"] = data.draw(st.sampled_from(["6000.250", "6000.5", "6.00025E+3"]))
        elif change == "fees":
            row["fees"] = "1.21"
        elif change == "qty":
            row["qty"] = 9
        elif change == "side":
            row["side"] = "sell" if row["side"] == "buy" else "buy"
        elif change == "order_id":
            row["order_id"] = "O999"
        statement.append(row)
    root = write(tmp_path_factory.mktemp("recon"), fills, statement, parquet=data.draw(st.booleans()))
    result = reconciliation.SPEC.func(REQ, standalone_context(root))
    if not fills and not statement:
        assert result.status is Status.MISSING
        return
    metrics, details = whole_statement(standalone_context(root))
    got = {k: getattr(v, "value", v) for k, v in result.metrics.items()}
    assert got == metrics
    assert {k: result.details[k] for k in details} == details


def test_csv_and_parquet_statements_reconcile_alike(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "STREAM_ROWS", 4)
    ids = [f"E{i:03d}" for i in range(130)]
    fills = fill_rows(ids[:120])  # 10 extra at the broker, 60 missing there, 60 mismatched (over 50: listed capped)
    statement = fill_rows(ids)[60:]
    for i, row in enumerate(statement[:60]):
        row["fees" if i % 2 else "price"] = "1.25" if i % 2 else "6000.2500"
    csv = result_of(write(tmp_path / "csv", fills, statement))
    parquet = result_of(write(tmp_path / "pq", fills, statement, parquet=True))
    assert csv == parquet
    r = reconciliation.SPEC.func(REQ, standalone_context(tmp_path / "pq"))
    assert (r.metrics["missing_at_broker"], r.metrics["extra_at_broker"], r.metrics["mismatched"],
            r.metrics["reconciled"]) == (60, 10, 30, 30)  # "6000.2500" equals 6000.25
    assert r.details["missing_at_broker"]["truncated"] and len(r.details["missing_at_broker"]["items"]) == 50
    assert r.details["extra_at_broker"]["items"] == ids[120:]
    assert r.details["mismatched"]["items"][0] == {"exec_id": "E061",
                                                   "fields": {"fees": {"internal": "1.20", "broker": "1.25"}}}


@pytest.mark.parametrize("parquet", [False, True])
@pytest.mark.parametrize("fault, error", [
    ("duplicate", "column 'exec_id', row 11: duplicate exec_id 'E003'"),
    ("side", "column 'side', row 10: 'hold' is not one of buy, sell"),
    ("qty", "column 'qty', row 9: 0 must be > 0 (side gives the direction)"),
])
def test_a_fault_late_in_the_statement_names_file_and_row(tmp_path, monkeypatch, parquet, fault, error):
    monkeypatch.setattr(stream, "STREAM_ROWS", 2)
    monkeypatch.setattr(reader, "CHUNK_ROWS", 2)
    ids = [f"E{i:03d}" for i in range(11)]
    statement = fill_rows(ids)
    if fault == "duplicate":
        statement[10]["fill_id"] = "E003"
    elif fault == "side":
        statement[9]["side"] = "hold"
    else:
        statement[8]["qty"] = 0
    root = write(tmp_path, fill_rows(ids), statement, parquet=parquet)
    result = reconciliation.SPEC.func(REQ, standalone_context(root))
    suffix = ".parquet" if parquet else ".csv"
    row = int(error.split("row ")[1].split(":")[0])
    where = error.replace(f"row {row}:", f"row {row}{'' if parquet else f' (line {row + 1})'}:")
    assert result.status is Status.ERROR
    assert result.message == f"AUD-06: records/broker_statement{suffix}: {where}"
    assert result.details["bad_input"]["file"] == f"records/broker_statement{suffix}"
    assert result.details["bad_input"]["row"] == row


def test_missing_columns_and_statement_keep_their_messages(tmp_path):
    root = write(tmp_path, fill_rows(["E1"]), fill_rows(["E1"]))
    path = root / "records" / "broker_statement.csv"
    path.write_text(path.read_text().replace("fees", "fee"))
    result = reconciliation.SPEC.func(REQ, standalone_context(root))
    assert result.status is Status.ERROR and "records/broker_statement.csv: column 'fees': required column missing" \
        in result.message
    path.unlink()
    result = reconciliation.SPEC.func(REQ, standalone_context(root))
    assert result.status is Status.MISSING and "records/broker_statement.csv not found" in result.message


def test_the_spill_folder_is_removed(tmp_path, monkeypatch):
    spill = tmp_path / "tmp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    made = []
    real = reconciliation.Executions.__enter__
    monkeypatch.setattr(reconciliation.Executions, "__enter__",
                        lambda self: made.append(real(self)) or made[-1])
    root = write(tmp_path / "ws", fill_rows(["E1", "E2"]), fill_rows(["E2", "E3"]))
    assert result_of(root)[0] is not Status.ERROR
    assert len(made) == 1 and made[0]._folder.name.startswith(str(spill)) and list(spill.iterdir()) == []


def test_no_room_for_the_spill_is_an_error_saying_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    root = write(tmp_path / "ws", fill_rows(["E1"]), fill_rows(["E1"]))
    result = reconciliation.SPEC.func(REQ, standalone_context(root))
    assert result.status is Status.ERROR
    assert result.message.startswith(f"AUD-06: the broker statement could not be set aside on disk in "
                                     f"{tmp_path / 'no-such-folder'} (FileNotFoundError: ")
    assert "point TMPDIR at a folder with room" in result.message
