"""Slippage tracking (plan line 90).

For every fill whose order carries an ``expected_price``:
slippage_ticks = (fill price - expected price) * side / tick_size (side +1 buy, -1 sell; positive
= worse than expected) and slippage_usd = slippage_ticks * tick_size * multiplier * qty.
Reports mean and worst per fill, the total in dollars, and lists the worst fills. Optional
``order_types`` restricts the fills measured (e.g. market orders only).
"""
from __future__ import annotations

from decimal import Decimal

from golive.model import CheckResult, Quantity
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import make_spec, money, no_data
from golive.plugins.records.common import instruments, spec_of
from golive.plugins.records.stats import mean, percentile


def check(requirement, ctx) -> CheckResult:
    specs = instruments(ctx)
    orders = trading.filter_mode(trading.orders(ctx, optional=("expected_price", "mode")), ctx.params.get("mode"))
    types = set(ctx.params.get("order_types", trading.ORDER_TYPES))
    expected = {o: (p, t) for o, p, t in zip(orders["order_id"], orders["expected_price"], orders["order_type"])
                if p is not None and t in types}
    rows, times, total = [], [], Decimal(0)
    for fills in trading.fill_scan(ctx):  # chunk by chunk: only fills of measured orders are kept
        for pos, f in enumerate(fills.itertuples(index=False)):
            if f.order_id not in expected:
                continue
            tick, mult = spec_of(ctx, specs, "fills", fills, pos, f.symbol)
            diff = (f.price - expected[f.order_id][0]) * trading.side_sign(f.side)
            usd = diff * mult * f.qty
            total += usd
            times.append(f.ts)
            rows.append({"fill_id": f.fill_id, "order_type": expected[f.order_id][1], "ticks": float(diff / tick),
                         "usd": usd})
    if not rows:
        return no_data("no fills of orders with an expected_price")
    ticks = [r["ticks"] for r in rows]
    worst = sorted(rows, key=lambda r: r["ticks"], reverse=True)[:10]
    return observe(CheckResult(
        metrics={"slippage_mean_ticks": mean(ticks), "slippage_p95_ticks": percentile(ticks, 95),
                 "slippage_max_ticks": max(ticks), "slippage_total_usd": Quantity(money(total), "USD"),
                 "slippage_mean_usd": Quantity(money(total / len(rows)), "USD"), "fills": len(rows)},
        message=f"{len(rows)} fills; mean {mean(ticks):.2f} ticks, worst {max(ticks):.2f} ticks, total ${total}",
        details={"formula": "slippage_ticks = (fill - expected) * side / tick; slippage_usd = ticks * tick * "
                            "multiplier * qty; side = +1 buy, -1 sell; positive = adverse",
                 "total_usd_exact": str(total),
                 "worst": [{**w, "usd": str(w["usd"])} for w in worst]}),
        "fills with an expected price", times)


SPEC = make_spec("broker", "slippage", check, "fill price against the expected price, in ticks and dollars",
                 ("slippage_mean_ticks", "slippage_p95_ticks", "slippage_max_ticks", "slippage_total_usd",
                  "slippage_mean_usd", "fills"),
                 {"mode": {"type": "string"},
                  "order_types": {"type": "array", "items": {"enum": list(trading.ORDER_TYPES)}}})
