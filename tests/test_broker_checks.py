"""Broker checks on small hand-made records, each metric against a hand-computed value."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from golive.model import Requirement, Status, Threshold
from golive.plugins.broker import costs, order_lifecycle, position_max, reconciliation, slippage, stop_execution
from golive.plugins.records.common import standalone_context

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.records_fixtures import write_csv  # noqa: E402

ORDER_COLS = ["ts", "order_id", "symbol", "side", "qty", "order_type", "limit_price", "stop_price", "expected_price",
              "status", "ts_final", "mode"]
FILL_COLS = ["ts", "fill_id", "order_id", "symbol", "side", "qty", "price", "fees"]


def req(*thresholds):
    return Requirement(id="LIVE-LIMITED-X", title="t", statement="", category="", priority="P1", plan_lines=(1, 1),
                       thresholds=tuple(thresholds))


def run(module, root, params=None, requirement=None):
    result = module.SPEC.func(requirement or req(), standalone_context(root, params or {}))
    json.dumps(result.details, default=str)
    return result


def value(metric):
    return getattr(metric, "value", metric)


def order(oid, side, otype, status="filled", qty=1, sec=0, **kw):
    return {"ts": f"2025-06-02T14:00:{sec:02d}Z", "order_id": oid, "symbol": "ESM5", "side": side, "qty": qty,
            "order_type": otype, "status": status, "ts_final": f"2025-06-02T14:00:{sec + 1:02d}Z", "mode": "limited",
            **kw}


def fill(fid, oid, side, price, qty=1, sec=0, fees="2.25"):
    return {"ts": f"2025-06-02T14:00:{sec:02d}.500Z", "fill_id": fid, "order_id": oid, "symbol": "ESM5", "side": side,
            "qty": qty, "price": price, "fees": fees}


@pytest.fixture
def ws(tmp_path):
    write_csv(tmp_path / "records" / "instruments.csv", [{"symbol": "ESM5", "tick_size": "0.25", "multiplier": "50"}],
              ["symbol", "tick_size", "multiplier"])

    def write(orders=None, fills=None, **others):
        if orders is not None:
            write_csv(tmp_path / "records" / "orders.csv", orders, ORDER_COLS)
        if fills is not None:
            write_csv(tmp_path / "records" / "fills.csv", fills, FILL_COLS)
        for name, rows in others.items():
            write_csv(tmp_path / "records" / f"{name}.csv", rows, list(dict.fromkeys(k for r in rows for k in r)))
        return tmp_path
    return write


def test_slippage_ticks_and_dollars(ws):
    root = ws([order("O1", "buy", "market", expected_price="5300"), order("O2", "sell", "market", sec=2,
                                                                          expected_price="5300")],
              [fill("F1", "O1", "buy", "5300.50"), fill("F2", "O2", "sell", "5300.25", sec=2)])
    r = run(slippage, root)
    # buy 0.50 above expected: +2 ticks = 0.5 * 50 = $25 adverse; sell 0.25 above: -1 tick = -$12.50 (better)
    assert r.metrics["slippage_max_ticks"] == 2.0 and r.metrics["slippage_mean_ticks"] == 0.5
    assert value(r.metrics["slippage_total_usd"]) == 12.5 and r.details["total_usd_exact"] == "12.50"
    assert r.details["worst"][0]["fill_id"] == "F1"


def test_stop_execution_beyond_trigger(ws):
    root = ws([order("O1", "sell", "stop", stop_price="5290"), order("O2", "sell", "stop", status="rejected", sec=2,
                                                                     stop_price="5280")],
              [fill("F1", "O1", "sell", "5289.50")])
    r = run(stop_execution, root)
    # sell stop at 5290 filled 5289.50: (5289.50 - 5290) * -1 / 0.25 = 2 ticks beyond
    assert r.metrics["stop_beyond_max_ticks"] == 2.0 and r.metrics["stops_failed"] == 1
    assert r.details["failed"]["items"] == [{"order_id": "O2", "status": "rejected"}]


def test_stop_without_price_is_bad_input(ws):
    root = ws([order("O1", "sell", "stop")], [])
    r = run(stop_execution, root)
    assert r.status is Status.ERROR and "column 'stop_price', row 1" in r.message


def test_order_lifecycle_breaks(ws):
    root = ws([order("O1", "buy", "limit", limit_price="5300"), order("O2", "buy", "limit", status="working", sec=2),
               order("O3", "sell", "market", qty=2, sec=4)],
              [fill("F1", "O1", "buy", "5300.25"), fill("F2", "O3", "sell", "5301", sec=4), fill("F3", "O9", "buy", "1",
                                                                                              sec=5)])
    r = run(order_lifecycle, root)
    m = r.metrics
    assert (m["orders_not_terminal"], m["orphan_fills"], m["fills_through_limit"], m["filled_orders_missing_fills"]) \
        == (1, 1, 1, 1)
    assert value(m["terminal_share"]) == pytest.approx(2 / 3)


def test_position_max_from_snapshots_and_fills(ws):
    root = ws([order("O1", "buy", "market", qty=2)], [fill("F1", "O1", "buy", "5300", qty=2)],
              positions=[{"ts": "2025-06-02T14:00:00.500Z", "symbol": "ESM5", "qty": 1, "mark_price": "5300",
                          "mode": "limited"}])
    r = run(position_max, root, {"mode": "limited"}, req(Threshold("max_position", "<=", 1)))
    # the snapshot under-reports (1) what the fills show (2)
    assert r.metrics["max_position"] == 1 and r.metrics["max_position_from_fills"] == 2
    assert r.details["fills_beyond_plan_limit"]["items"][0]["order_id"] == "O1"


def test_costs_daily_monthly_projection(ws):
    rows = [{"date": "2025-05-30", "category": "market_data", "amount": "190.01"},
            {"date": "2025-06-02", "category": "market_data", "amount": "5.00"},
            {"date": "2025-06-02", "category": "platform", "amount": "1.50"},
            {"date": "2025-06-03", "category": "market_data", "amount": "9.00"}]
    unsorted = run(costs, ws(costs=rows[1:] + rows[:1]))
    assert unsorted.status is Status.ERROR and "column 'date', row 4" in unsorted.message
    root = ws(costs=rows)
    r = run(costs, root)
    assert value(r.metrics["daily_cost_max"]) == 190.01 and value(r.metrics["monthly_cost"]) == 190.01
    # June so far 15.50 over 2 weekdays (Mon 2, Tue 3); June 2025 has 21 weekdays -> 15.50 / 2 * 21 = 162.75
    assert value(r.metrics["month_projection"]) == 162.75
    assert r.details["monthly"] == {"2025-05": "190.01", "2025-06": "15.50"}


def test_costs_can_include_fees(ws):
    root = ws([order("O1", "buy", "market")], [fill("F1", "O1", "buy", "5300", fees="2.25")],
              costs=[{"date": "2025-06-02", "category": "market_data", "amount": "5.00"}])
    r = run(costs, root, {"include_fees": True})
    assert value(r.metrics["daily_cost_max"]) == 7.25 and value(r.metrics["cost_per_filled_order"]) == 7.25


def test_reconciliation_missing_extra_mismatched(ws):
    root = ws([order("O1", "buy", "market")], [fill("F1", "O1", "buy", "5300.25"), fill("F2", "O1", "buy", "5300",
                                                                                         sec=1),
                                               fill("F3", "O1", "buy", "5300", sec=2)],
              broker_statement=[{**fill("F1", "O1", "buy", "5300.25"), "exec_id": "F1"},
                                {**fill("F2", "O1", "buy", "5300.00", sec=1, fees="2.26"), "exec_id": "F2"},
                                {**fill("X9", "O1", "buy", "5300", sec=3), "exec_id": "X9"}])
    r = run(reconciliation, root)
    m = r.metrics
    assert (m["missing_at_broker"], m["extra_at_broker"], m["mismatched"], m["breaks"], m["reconciled"]) == (1, 1, 1, 3, 1)
    # 5300 and 5300.00 are the same price; fees 2.25 vs 2.26 is a break
    assert r.details["mismatched"]["items"] == [{"exec_id": "F2", "fields": {"fees": {"internal": "2.25",
                                                                                      "broker": "2.26"}}}]
