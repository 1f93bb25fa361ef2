"""1-contract position testing (plan lines 85-86).

Reports the largest absolute position per instrument during the phase (``mode``, default
``limited``) from ``records/positions``, and the same figure recomputed from ``records/fills``
(running signed sum of fill quantities per instrument, over the orders of that mode), so a
positions file that under-reports is caught. Snapshots above the plan's limit are listed.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import Tally, listed, make_spec, no_data, plan_limit


def running_positions(chunks, order_ids: set[str] | None = None,
                      limit: float | None = None) -> tuple[dict[str, int], Tally]:
    """Largest |position| per symbol from time-ordered fills (frames, in order: a whole frame or
    a stream's chunks), and the fills that took the position beyond ``limit`` (counted, the
    first few kept)."""
    pos: dict[str, int] = {}
    peak: dict[str, int] = {}
    over = Tally()
    for fills in chunks:
        for fid, oid, sym, side, qty in zip(fills["fill_id"], fills["order_id"], fills["symbol"], fills["side"],
                                            fills["qty"]):
            pos[sym] = pos.get(sym, 0) + trading.side_sign(side) * qty
            if order_ids is None or oid in order_ids:
                peak[sym] = max(peak.get(sym, 0), abs(pos[sym]))
                if limit is not None and abs(pos[sym]) > limit:
                    over.add({"fill_id": fid, "order_id": oid, "symbol": sym, "position": pos[sym]})
    return peak, over


def check(requirement, ctx) -> CheckResult:
    mode = ctx.params.get("mode", "limited")
    positions = reader.load(ctx, "positions", need=["ts", "symbol", "qty"], optional=["mode"])
    phase = trading.filter_mode(positions, mode)
    if phase.empty:
        return no_data(f"no '{mode}' rows in records/positions")
    by_symbol = {s: int(g["qty"].abs().max()) for s, g in phase.groupby("symbol")}
    metrics = {"max_position": max(by_symbol.values()), "snapshots": len(phase)}
    details = {"formula": "max_position = max |qty| over position snapshots of the phase; "
                          "max_position_from_fills = max |running sum of signed fill qty|",
               "by_symbol": by_symbol}
    limit = plan_limit(requirement, "max_position")
    if reader.exists(ctx, "fills") and reader.exists(ctx, "orders"):
        orders = trading.filter_mode(trading.orders(ctx, optional=("mode",)), mode)
        peaks, over_fills = running_positions(trading.fill_scan(ctx), set(orders["order_id"]), limit)
        metrics["max_position_from_fills"] = max(peaks.values(), default=0)
        details["from_fills_by_symbol"] = peaks
        details["fills_beyond_plan_limit"] = over_fills.listed()
    if limit is not None:
        over = phase[phase["qty"].abs() > limit]
        details["above_plan_limit"] = listed([{"ts": str(t), "symbol": s, "qty": int(q)}
                                              for t, s, q in zip(over["ts"], over["symbol"], over["qty"])])
    return observe(CheckResult(metrics=metrics, details=details,
                               message=f"largest '{mode}' position {metrics['max_position']} contracts"),
                   f"'{mode}' position snapshots", phase["ts"])


SPEC = make_spec("broker", "position_max", check, "largest absolute position during a trading phase",
                 ("max_position", "max_position_from_fills", "snapshots"), {"mode": {"type": "string"}})
