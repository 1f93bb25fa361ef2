"""Portfolio exposure monitoring (plan lines 140-144; portfolio risk, lines 113-117).

After every position snapshot, with each instrument's latest quantity and mark:
gross = sum |qty| * mark * multiplier and net = |sum qty * mark * multiplier| (USD).
Reports the peaks and when they happened and, when ``records/pnl`` exists, the worst day's
net P&L (loss per day is a portfolio limit too).
"""
from __future__ import annotations

from decimal import Decimal

from golive.model import CheckResult, Quantity
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import make_spec, money, no_data
from golive.plugins.records.common import daily_net_pnl, instruments, load_pnl, spec_of


def exposure_series(ctx, positions, specs) -> list[tuple]:
    """(ts, gross, net) after each snapshot."""
    qty: dict[str, int] = {}
    value: dict[str, Decimal] = {}
    out = []
    for pos, (ts, sym, q, mark) in enumerate(zip(positions["ts"], positions["symbol"], positions["qty"],
                                                 positions["mark_price"])):
        _, mult = spec_of(ctx, specs, "positions", positions, pos, sym)
        qty[sym] = q
        value[sym] = q * mark * mult
        out.append((ts, sum((abs(v) for v in value.values()), Decimal(0)), abs(sum(value.values(), Decimal(0)))))
    return out


def check(requirement, ctx) -> CheckResult:
    specs = instruments(ctx)
    positions = trading.filter_mode(reader.load(ctx, "positions", need=["ts", "symbol", "qty", "mark_price"],
                                                optional=["mode"]), ctx.params.get("mode"))
    if positions.empty:
        return no_data("no rows in records/positions")
    series = exposure_series(ctx, positions, specs)
    peak_gross = max(series, key=lambda s: s[1])
    peak_net = max(series, key=lambda s: s[2])
    metrics = {"max_gross_exposure": Quantity(money(peak_gross[1]), "USD"),
               "max_net_exposure": Quantity(money(peak_net[2]), "USD"), "snapshots": len(series)}
    details = {"formula": "gross = sum |qty| * mark * multiplier; net = |sum qty * mark * multiplier|",
               "peak_gross": {"ts": str(peak_gross[0]), "usd": str(peak_gross[1])},
               "peak_net": {"ts": str(peak_net[0]), "usd": str(peak_net[2])}}
    if reader.exists(ctx, "pnl"):
        pnl = load_pnl(ctx)
        days = daily_net_pnl(pnl)
        if days:
            worst = min(days, key=days.get)
            metrics["worst_daily_pnl"] = Quantity(money(days[worst]), "USD")
            details["worst_day"] = {"date": str(worst), "net_pnl": str(days[worst])}
    return observe(CheckResult(metrics=metrics, details=details,
                               message=f"peak gross exposure ${peak_gross[1]:,} at {peak_gross[0]}"),
                   "position snapshots", (s[0] for s in series))


SPEC = make_spec("risk", "exposure", check, "gross and net portfolio exposure peaks, worst daily P&L",
                 ("max_gross_exposure", "max_net_exposure", "snapshots", "worst_daily_pnl"),
                 {"mode": {"type": "string"}})
