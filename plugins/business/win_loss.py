"""Win/loss ratio tracking (plan lines 119-123, "> 1.8") and trade KPIs.

Closed trades are the emitted signals of the traded modes (``modes``, default limited and live)
whose outcome has a P&L. win_loss_ratio = mean(winning P&L) / mean(|losing P&L|); also the win
rate, profit factor (sum of wins / sum of |losses|) and expectancy (mean P&L per trade).
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import make_spec, no_data
from golive.plugins.records.common import ratio, resolved_signals
from golive.plugins.records.stats import mean, win_loss_ratio


def check(requirement, ctx) -> CheckResult:
    joined, _ = resolved_signals(ctx, ctx.params.get("strategy"))
    modes = ctx.params.get("modes", ["limited", "live"])
    if "mode" in joined and joined["mode"].notna().any():
        joined = joined[joined["mode"].isin(modes)]
    closed = [(ts, float(p)) for ts, p in zip(joined["ts"], joined["pnl"]) if p is not None and p == p]
    trades = [p for _, p in closed]
    if not trades:
        return no_data(f"no closed trades with a P&L (outcomes of {', '.join(modes)} signals)")
    wl, avg_w, avg_l = win_loss_ratio(trades)
    wins = sum(p for p in trades if p > 0)
    losses = -sum(p for p in trades if p < 0)
    return observe(CheckResult(
        metrics={"win_loss_ratio": wl, "avg_win": Quantity(round(avg_w, 2), "USD") if avg_w == avg_w else float("nan"),
                 "avg_loss": Quantity(round(avg_l, 2), "USD") if avg_l == avg_l else float("nan"),
                 "win_rate": ratio(sum(p > 0 for p in trades) / len(trades)),
                 "profit_factor": wins / losses if losses else float("nan"),
                 "expectancy": Quantity(round(mean(trades), 2), "USD"), "trades": len(trades)},
        message=f"{len(trades)} trades; win/loss {wl:.2f} (avg win ${avg_w:,.2f}, avg loss ${avg_l:,.2f})",
        details={"formula": "win_loss_ratio = mean(pnl | pnl > 0) / mean(|pnl| | pnl < 0); profit_factor = "
                            "sum(wins) / sum(|losses|); expectancy = mean(pnl); zero-P&L trades count in neither",
                 "modes": modes}),
        "closed trades", (ts for ts, _ in closed))


SPEC = make_spec("business", "win_loss", check, "win/loss ratio and trade KPIs from closed trades",
                 ("win_loss_ratio", "avg_win", "avg_loss", "win_rate", "profit_factor", "expectancy", "trades"),
                 {"strategy": {"type": "string"}, "modes": {"type": "array", "items": {"type": "string"}}})
