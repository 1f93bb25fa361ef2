"""Emergency stop / kill switch drills (plan lines 140-144, "emergency stop-loss procedures").

For each record in ``records/kill_switch_drills`` (``kind`` drill or live), the orders open at
``ts_triggered`` (submitted before it, terminal after it or never) must all reach a terminal
state by ``ts_completed``; no order may be submitted between trigger and completion; positions
must be flat at completion. Reports the slowest complete cancellation (seconds from trigger to
the last open order's final time, or to ts_completed), orders left open, orders submitted during
the stop, the open position left, and the number of drills.
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import make_spec, no_data


def drill_result(drill, orders, positions) -> dict:
    trig, done = drill.ts_triggered, drill.ts_completed
    final = orders["ts_final"]
    was_open = orders[(orders["ts"] <= trig) & (final.isna() | (final > trig))]
    left = was_open[was_open["ts_final"].isna() | (was_open["ts_final"] > done)
                    | ~was_open["status"].isin(trading.TERMINAL)]
    last_final = was_open["ts_final"].max() if not was_open.empty else None
    end = max(done, last_final) if last_final is not None and last_final == last_final else done
    during = orders[(orders["ts"] > trig) & (orders["ts"] <= done)]
    flat = 0
    if positions is not None:
        before = positions[positions["ts"] <= done]
        flat = int(before.groupby("symbol")["qty"].last().abs().sum()) if not before.empty else 0
    delays = sorted(((f - trig).total_seconds(), o) for o, f in zip(was_open["order_id"], was_open["ts_final"])
                    if f is not None and f == f)
    return {"drill_id": drill.drill_id, "kind": drill.kind, "triggered": str(trig),
            "slowest_cancels": [{"order_id": o, "cancel_s": d} for d, o in reversed(delays[-10:])],
            "cancel_time_s": (end - trig).total_seconds(), "orders_open_at_trigger": len(was_open),
            "orders_left_open": left["order_id"].tolist(), "orders_during_stop": during["order_id"].tolist(),
            "position_left": flat}


def check(requirement, ctx) -> CheckResult:
    drills = reader.load(ctx, "kill_switch_drills", need=["drill_id", "ts_triggered", "ts_completed"],
                         optional=["kind"])
    if drills.empty:
        return no_data("records/kill_switch_drills holds no drill")
    for i, (a, b) in enumerate(zip(drills["ts_triggered"], drills["ts_completed"])):
        if b < a:
            raise reader.row_error(ctx, "kill_switch_drills", drills, i, "ts_completed", "is before ts_triggered")
    orders = trading.orders(ctx, optional=("ts_final",))
    positions = reader.load(ctx, "positions", need=["ts", "symbol", "qty"]) if reader.exists(ctx, "positions") \
        else None
    results = [drill_result(d, orders, positions) for d in drills.itertuples(index=False)]
    slowest = max(r["cancel_time_s"] for r in results)
    return observe(CheckResult(
        metrics={"drills": len(results), "max_cancel_time": Quantity(slowest, "s"),
                 "orders_left_open": sum(len(r["orders_left_open"]) for r in results),
                 "orders_during_stop": sum(len(r["orders_during_stop"]) for r in results),
                 "position_left": max(r["position_left"] for r in results)},
        message=f"{len(results)} kill-switch drill(s); slowest full cancellation {slowest:.3f} s",
        details={"rule": "orders open at ts_triggered reach a terminal state by ts_completed; none submitted "
                         "between; positions flat at ts_completed", "drills": results}),
        "kill-switch drills", drills["ts_triggered"])


SPEC = make_spec("risk", "kill_switch", check, "kill switch cancels every open order at once and blocks new ones",
                 ("drills", "max_cancel_time", "orders_left_open", "orders_during_stop", "position_left"))
