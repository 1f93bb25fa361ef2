"""Order placement and execution (plan lines 87-88).

Every order must reach a terminal state (filled, cancelled, rejected, expired) with a
``ts_final``; every fill must belong to a known order on the same symbol and side; filled
quantity may not exceed the order quantity and a ``filled`` order must be filled in full;
fills of limit orders must be at or better than the limit. Counts each kind of break.
"""
from __future__ import annotations

from collections import defaultdict

from golive.model import CheckResult
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import Tally, listed, make_spec, no_data
from golive.plugins.records.common import ratio


def check(requirement, ctx) -> CheckResult:
    orders = trading.filter_mode(trading.orders(ctx, optional=("ts_final", "limit_price", "mode")),
                                 ctx.params.get("mode"))
    if orders.empty:
        return no_data("no orders in records/orders")
    by_id = {r.order_id: r for r in orders.itertuples(index=False)}
    filled = defaultdict(int)
    orphans, wrong_side, through_limit = Tally(), Tally(), Tally()  # counted; the first few kept
    for fills in trading.fill_scan(ctx):  # chunk by chunk: a large fills file is not held
        for f in fills.itertuples(index=False):
            o = by_id.get(f.order_id)
            if o is None:
                if ctx.params.get("mode") is None:
                    orphans.add(f.fill_id)
                continue
            filled[f.order_id] += f.qty
            if o.symbol != f.symbol or o.side != f.side:
                wrong_side.add(f.fill_id)
            if o.order_type == "limit" and o.limit_price is not None and \
                    (f.price - o.limit_price) * trading.side_sign(f.side) > 0:
                through_limit.add({"fill_id": f.fill_id, "price": str(f.price), "limit": str(o.limit_price)})
    open_orders, overfilled, short_filled = [], [], []
    for o in orders.itertuples(index=False):
        if o.status not in trading.TERMINAL or o.ts_final is None or o.ts_final != o.ts_final:
            open_orders.append({"order_id": o.order_id, "status": o.status, "ts": str(o.ts)})
        if filled[o.order_id] > o.qty:
            overfilled.append(o.order_id)
        if o.status == "filled" and filled[o.order_id] < o.qty:
            short_filled.append(o.order_id)
    terminal = len(orders) - len(open_orders)
    return observe(CheckResult(
        metrics={"orders": len(orders), "orders_not_terminal": len(open_orders), "orphan_fills": orphans.count,
                 "overfilled_orders": len(overfilled), "filled_orders_missing_fills": len(short_filled),
                 "fill_order_mismatches": wrong_side.count, "fills_through_limit": through_limit.count,
                 "terminal_share": ratio(terminal / len(orders))},
        message=f"{len(orders)} orders, {len(open_orders)} without a terminal state, {orphans.count} orphan fills",
        details={"rule": "status in filled/cancelled/rejected/expired with ts_final; sum(fill qty) <= order qty "
                         "(== for filled); fill symbol/side = order's; limit fills at or better than the limit",
                 "not_terminal": listed(open_orders), "orphan_fills": orphans.listed(),
                 "overfilled": listed(overfilled), "filled_missing_fills": listed(short_filled),
                 "fill_order_mismatches": wrong_side.listed(), "through_limit": through_limit.listed()}),
        "orders", orders["ts"])


SPEC = make_spec("broker", "order_lifecycle", check, "every order terminal, every fill consistent with its order",
                 ("orders", "orders_not_terminal", "orphan_fills", "overfilled_orders",
                  "filled_orders_missing_fills", "fill_order_mismatches", "fills_through_limit", "terminal_share"),
                 {"mode": {"type": "string"}})
