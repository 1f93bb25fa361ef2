"""Performance attribution (plan lines 167-171).

Splits net P&L (realized - fees + change of unrealized) from ``records/pnl`` by strategy,
instrument and signal type, per month and in total. Two cross-checks give the metrics: rows
that cannot be attributed (missing strategy or signal type) and, per day, strategy and
instrument, the difference between the attributed P&L and the sum of the traded signals'
outcome P&L (``records/outcomes`` joined with ``records/signals``); trades that belong to no
signal show up there too.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from golive.model import CheckResult, Quantity
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, money, no_data
from golive.plugins.records.common import load_pnl

ZERO = Decimal(0)


def check(requirement, ctx) -> CheckResult:
    pnl = load_pnl(ctx)
    if pnl.empty:
        return no_data("records/pnl holds no rows")
    parts = {k: defaultdict(Decimal) for k in ("strategy", "symbol", "signal_type")}
    by_cell, monthly, unattributed = defaultdict(Decimal), defaultdict(Decimal), []
    last_unreal: dict = {}
    for row in pnl.itertuples(index=False):
        net = row.realized - row.fees + row.unrealized - last_unreal.get((row.strategy, row.symbol), ZERO)
        last_unreal[(row.strategy, row.symbol)] = row.unrealized
        for k in parts:
            parts[k][getattr(row, k) or "unattributed"] += net
        if not row.signal_type:
            unattributed.append({"date": str(row.date), "strategy": row.strategy, "symbol": row.symbol})
        by_cell[(row.date, row.strategy, row.symbol)] += net
        monthly[(f"{row.date:%Y-%m}", row.strategy)] += net
    total = sum(by_cell.values(), ZERO)
    metrics = {"total_pnl": Quantity(money(total), "USD"), "unattributed_rows": len(unattributed)}
    details = {"formula": "net = realized - fees + unrealized_t - unrealized_{t-1}; parts summed per key",
               "total": str(total), **{f"by_{k}": {n: str(v) for n, v in sorted(d.items())} for k, d in parts.items()},
               "monthly_by_strategy": {f"{m} {s}": str(v) for (m, s), v in sorted(monthly.items())},
               "unattributed": listed(unattributed)}
    if reader.exists(ctx, "outcomes") and reader.exists(ctx, "signals"):
        sig = reader.load(ctx, "signals", need=["ts", "signal_id", "strategy", "symbol"])
        out = reader.load(ctx, "outcomes", need=["signal_id", "correct"], optional=["pnl"])
        joined = sig.merge(out[["signal_id", "pnl"]], on="signal_id")
        expected = defaultdict(Decimal)
        days = {d for d, _, _ in by_cell}
        for ts, strat, sym, p in zip(joined["ts"], joined["strategy"], joined["symbol"], joined["pnl"]):
            if p is not None and ts.date() in days:
                expected[(ts.date(), strat, sym)] += p
        diffs = [{"date": str(k[0]), "strategy": k[1], "symbol": k[2], "attributed": str(by_cell.get(k, ZERO)),
                  "from_outcomes": str(expected.get(k, ZERO))}
                 for k in sorted(set(by_cell) | set(expected)) if by_cell.get(k, ZERO) != expected.get(k, ZERO)]
        worst = max((abs(Decimal(d["attributed"]) - Decimal(d["from_outcomes"])) for d in diffs), default=ZERO)
        metrics["attribution_max_diff"] = Quantity(money(worst), "USD")
        metrics["attribution_mismatches"] = len(diffs)
        details["differences_from_outcomes"] = listed(diffs)
    return observe(CheckResult(metrics=metrics, details=details,
                               message=f"total ${total} attributed over {len(parts['strategy'])} strategies, "
                                       f"{len(parts['symbol'])} instruments, {len(parts['signal_type'])} signal types"),
                   "P&L rows", pnl["date"])


SPEC = make_spec("business", "attribution", check, "P&L attributed by strategy, instrument and signal type",
                 ("total_pnl", "unattributed_rows", "attribution_max_diff", "attribution_mismatches"))
