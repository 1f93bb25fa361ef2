"""Stop-loss execution (plan line 91).

Every stop order that was filled is measured against its trigger: beyond_ticks =
(fill price - stop price) * side / tick (positive = filled worse than the stop). A stop order
that neither filled nor was cancelled (rejected, expired, still working) is a failed stop.
Reports the worst and mean execution beyond the trigger and the failed stops.

The evidence is stop executions: a stop cancelled before it triggered shows nothing about how
stops execute, so with no filled and no failed stop the result is ``missing`` ("not exercised:
no filled stop order in the period"), never a pass.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import not_exercised, observe
from golive.plugins.records.checkutil import listed, make_spec, no_data
from golive.plugins.records.common import instruments, spec_of
from golive.plugins.records.stats import mean


def check(requirement, ctx) -> CheckResult:
    specs = instruments(ctx)
    orders = trading.filter_mode(trading.orders(ctx, optional=("stop_price", "mode")), ctx.params.get("mode"))
    stops = orders[orders["order_type"].isin(["stop", "stop_limit"])]
    if stops.empty:
        return no_data("no stop orders in records/orders")
    for i, p in enumerate(stops["stop_price"].tolist()):
        if p is None:
            from golive.plugins.records import reader
            raise reader.row_error(ctx, "orders", stops, i, "stop_price", "a stop order needs its stop_price")
    trigger = dict(zip(stops["order_id"], stops["stop_price"]))
    measured, measured_ts = [], []
    for fills in trading.fill_scan(ctx):  # chunk by chunk: only fills of stop orders are kept
        for pos, f in enumerate(fills.itertuples(index=False)):
            if f.order_id in trigger:
                tick, _ = spec_of(ctx, specs, "fills", fills, pos, f.symbol)
                beyond = float((f.price - trigger[f.order_id]) * trading.side_sign(f.side) / tick)
                measured.append({"order_id": f.order_id, "fill_id": f.fill_id, "beyond_ticks": beyond})
                measured_ts.append(f.ts)
    failed = [{"order_id": o, "status": s} for o, s in zip(stops["order_id"], stops["status"])
              if s not in ("filled", "cancelled")]
    beyond = [m["beyond_ticks"] for m in measured]
    if not measured and not failed:
        return not_exercised("filled stop order", f"{len(stops)} stop order(s), none triggered (all cancelled "
                             "unfilled): a cancelled stop is not evidence of stop execution",
                             metrics={"stop_orders": len(stops), "stops_filled": 0})
    stop_ts = dict(zip(stops["order_id"], stops["ts"]))
    times = measured_ts + [stop_ts[f["order_id"]] for f in failed]  # fill ids are unique: each fill's own time
    return observe(CheckResult(
        metrics={"stop_beyond_max_ticks": max(beyond, default=0.0), "stop_beyond_mean_ticks": mean(beyond) if beyond
                 else 0.0, "stops_filled": len(measured), "stops_failed": len(failed), "stop_orders": len(stops)},
        message=f"{len(measured)} stops filled, worst {max(beyond, default=0):.2f} ticks beyond; {len(failed)} failed",
        details={"formula": "beyond_ticks = (fill - stop_price) * side / tick; side = +1 buy, -1 sell",
                 "worst": sorted(measured, key=lambda m: m["beyond_ticks"], reverse=True)[:10],
                 "failed": listed(failed)}), "stop executions (fills or failures)", times)


SPEC = make_spec("broker", "stop_execution", check, "stop orders filled at or near their trigger",
                 ("stop_beyond_max_ticks", "stop_beyond_mean_ticks", "stops_filled", "stops_failed", "stop_orders"),
                 {"mode": {"type": "string"}})
