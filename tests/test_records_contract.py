"""The records contract is enforced: bad files give an error naming file, column and row."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pluggy
import pytest

import golive.hookspecs
from golive.model import Requirement, Status
from golive.plugins.records import reader
from golive.plugins.records.common import standalone_context
from golive.plugins.records.contract import KINDS, TABLES

REQ = Requirement(id="T-1", title="t", statement="", category="", priority="P1", plan_lines=(1, 1))
FILL_HEADER = "ts,fill_id,order_id,symbol,side,qty,price,fees\n"


def write(root, name, text):
    (root / "records").mkdir(exist_ok=True)
    path = root / "records" / f"{name}.csv"
    path.write_text(text)
    return path


def load_fills(root):
    return reader.load(standalone_context(root), "fills", need=["ts", "fill_id", "order_id", "symbol", "side", "qty",
                                                              "price", "fees"])


def test_contract_tables_use_known_kinds():
    for table in TABLES.values():
        assert all(c.kind in KINDS for c in table.columns), table.name
        if table.key:
            table.column(table.key)
        if table.sorted_by:
            table.column(table.sorted_by)


def test_good_file_loads_with_exact_decimals(tmp_path):
    write(tmp_path, "fills", FILL_HEADER + "2025-06-02T14:00:00.000Z,F1,O1,ESM5,buy,1,5300.25,2.25\n"
                                           "2025-06-02T14:00:01Z,F2,O1,ESM5,buy,1,5300.50,2.25\n")
    frame = load_fills(tmp_path)
    assert frame["price"].tolist() == [Decimal("5300.25"), Decimal("5300.50")]
    assert sum(frame["fees"], Decimal(0)) == Decimal("4.50")
    assert str(frame["ts"].dt.tz) == "UTC"
    assert frame[reader.ROW].tolist() == [1, 2]


@pytest.mark.parametrize("body, column, row, words", [
    ("2025-06-02T14:00:00Z,F1,O1,ESM5,buy,1,abc,2.25\n", "price", 1, "not a decimal"),
    ("2025-06-02T14:00:00Z,F1,O1,ESM5,buy,1.5,5300,2.25\n", "qty", 1, "not an integer"),
    ("2025-06-02T14:00:00Z,F1,O1,ESM5,buy,1,5300,\n", "fees", 1, "value is required"),
    ("2025-06-02T14:00:00Z,F1,O1,ESM5,buy,1,NaN,1\n", "price", 1, "finite"),
    ("yesterday,F1,O1,ESM5,buy,1,5300,1\n", "ts", 1, "ISO 8601"),
    ("2025-06-02T14:00:05Z,F1,O1,ESM5,buy,1,5300,1\n2025-06-02T14:00:01Z,F2,O1,ESM5,buy,1,5300,1\n", "ts", 2,
     "not sorted"),
    ("2025-06-02T14:00:00Z,F1,O1,ESM5,buy,1,5300,1\n2025-06-02T14:00:01Z,F1,O1,ESM5,buy,1,5300,1\n", "fill_id", 2,
     "duplicate"),
])
def test_bad_values_name_file_column_row(tmp_path, body, column, row, words):
    write(tmp_path, "fills", FILL_HEADER + body)
    with pytest.raises(reader.RecordsError) as err:
        load_fills(tmp_path)
    assert (err.value.column, err.value.row) == (column, row)
    message = str(err.value)
    assert "records/fills.csv" in message and f"column '{column}'" in message and f"row {row} (line {row + 1})" in message
    assert words in message


def test_missing_column_is_named(tmp_path):
    write(tmp_path, "fills", "ts,fill_id,order_id,symbol,side,qty,price\n2025-06-02T14:00:00Z,F1,O1,ESM5,buy,1,1\n")
    with pytest.raises(reader.RecordsError, match=r"column 'fees'.*required column missing"):
        load_fills(tmp_path)


def test_value_outside_its_vocabulary(tmp_path):
    write(tmp_path, "fills", FILL_HEADER + "2025-06-02T14:00:00Z,F1,O1,ESM5,BUY,1,5300,1\n")
    from golive.plugins.broker import trading

    with pytest.raises(reader.RecordsError, match=r"column 'side', row 1.*'BUY' is not one of buy, sell"):
        trading.fills(standalone_context(tmp_path))


def test_parquet_decimals_accepted_floats_refused(tmp_path):
    (tmp_path / "records").mkdir()
    frame = pd.DataFrame({"ts": pd.to_datetime(["2025-06-02T14:00:00Z"]), "fill_id": ["F1"], "order_id": ["O1"],
                          "symbol": ["ESM5"], "side": ["buy"], "qty": [1], "price": ["5300.25"], "fees": ["2.25"]})
    frame.to_parquet(tmp_path / "records" / "fills.parquet")
    assert load_fills(tmp_path)["price"].iloc[0] == Decimal("5300.25")
    frame["price"] = [5300.25]
    frame.to_parquet(tmp_path / "records" / "fills.parquet")
    with pytest.raises(reader.RecordsError, match=r"fills.parquet: column 'price', row 1: .*binary float"):
        load_fills(tmp_path)


def test_params_can_point_at_another_file(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "my_fills.csv").write_text(FILL_HEADER + "2025-06-02T14:00:00Z,F1,O1,ESM5,buy,1,5,1\n")
    ctx = standalone_context(tmp_path, {"files": {"fills": "exports/my_fills.csv"}})
    frame = reader.load(ctx, "fills", need=["fill_id"])
    assert frame["fill_id"].tolist() == ["F1"]
    assert ctx.artifacts[0].path == "exports/my_fills.csv" and len(ctx.artifacts[0].sha256) == 64


def test_checks_turn_bad_input_into_error_and_missing_into_missing(tmp_path):
    from golive.plugins.broker import reconciliation

    assert reconciliation.SPEC.func(REQ, standalone_context(tmp_path)).status is Status.MISSING
    write(tmp_path, "fills", FILL_HEADER + "2025-06-02T14:00:00Z,F1,O1,ESM5,buy,one,5300,1\n")
    write(tmp_path, "broker_statement", "ts,exec_id,order_id,symbol,side,qty,price,fees\n")
    result = reconciliation.SPEC.func(REQ, standalone_context(tmp_path))
    assert result.status is Status.ERROR
    assert "T-1: records/fills.csv: column 'qty', row 1 (line 2)" in result.message
    assert result.details["bad_input"] == {"file": "records/fills.csv", "column": "qty", "row": 1,
                                           "problem": "'one' is not an integer"}


def test_families_register_with_pluggy():
    pm = pluggy.PluginManager("golive")
    pm.add_hookspecs(golive.hookspecs)
    import golive.plugins.algorithm as algorithm
    import golive.plugins.broker as broker
    import golive.plugins.business as business
    import golive.plugins.risk as risk

    for module in (algorithm, broker, risk, business):
        pm.register(module)
    specs = [s for batch in pm.hook.golive_checks() for s in batch]
    keys = [s.key for s in specs]
    assert len(keys) == len(set(keys)) >= 30
    for spec in specs:
        assert spec.params_schema["type"] == "object" and spec.metrics, spec.key
        module = __import__(spec.func.__wrapped__.__module__, fromlist=["_"])
        assert module.__doc__ and "plan line" in module.__doc__, f"{spec.key}: docstring must name its plan lines"


def test_documentation_lists_every_column():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "records-contract.md").read_text()
    for table in TABLES.values():
        assert f"### `{table.name}`" in doc
        if table.name != "baseline_v1_pnl":
            for column in table.columns:
                assert f"| `{column.name}` | {column.kind} |" in doc, (table.name, column.name)


def test_a_file_read_twice_is_recorded_once(tmp_path):
    write(tmp_path, "fills", FILL_HEADER + "2025-06-02T14:00:00Z,F1,O1,ESM5,buy,1,5300,1\n")
    ctx = standalone_context(tmp_path)
    reader.load(ctx, "fills", need=["fill_id"])
    reader.load(ctx, "fills", need=["price"])
    assert [a.path for a in ctx.artifacts] == ["records/fills.csv"]
