"""Risk-adjusted returns, Sharpe ratio and maximum drawdown (plan lines 167-171).

Daily net P&L = realized - fees + change of unrealized, summed over ``records/pnl``. Equity
starts at ``capital`` (USD, from params) and adds each day's P&L; the daily return is
pnl_t / equity_{t-1}. Sharpe = mean(r) / std(r, ddof=1) * sqrt(252) (risk-free rate 0 unless
``risk_free_annual`` is given); Sortino uses the downside deviation; maximum drawdown is the
largest peak-to-trough fall of the equity curve (the capital is its first point), in dollars
and as a fraction of the peak, with its dates; Calmar = annualised return / drawdown fraction.
"""
from __future__ import annotations

import math

from golive.model import CheckResult, Quantity
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import make_spec, money, no_data
from golive.plugins.records.common import daily_net_pnl, load_pnl, ratio
from golive.plugins.records.stats import TRADING_DAYS, max_drawdown, mean, sharpe, sortino, stdev


def check(requirement, ctx) -> CheckResult:
    capital = float(ctx.params["capital"])
    days = daily_net_pnl(load_pnl(ctx, ctx.params.get("records", "pnl")))
    if len(days) < 2:
        return no_data("records/pnl needs at least 2 trading days for returns")
    dates, pnls = list(days), [float(v) for v in days.values()]
    equity, returns = [capital], []
    for p in pnls:
        returns.append(p / equity[-1])
        equity.append(equity[-1] + p)
    rf = float(ctx.params.get("risk_free_annual", 0.0)) / TRADING_DAYS
    dd, dd_frac, peak_i, trough_i = max_drawdown(equity)
    annual_ret = mean(returns) * TRADING_DAYS
    annual_vol = stdev(returns) * math.sqrt(TRADING_DAYS)
    label = lambda i: "start" if i == 0 else str(dates[i - 1])  # noqa: E731 - equity[0] is the capital
    return observe(CheckResult(
        metrics={"sharpe": sharpe(returns, TRADING_DAYS, rf), "sortino": sortino(returns),
                 "annualized_return": ratio(annual_ret), "annualized_volatility": ratio(annual_vol),
                 "max_drawdown": Quantity(round(dd, 2), "USD"), "max_drawdown_pct": ratio(dd_frac if dd else 0.0),
                 "calmar": annual_ret / dd_frac if dd and dd_frac else float("nan"),
                 "total_pnl": Quantity(money(sum(days.values())), "USD"), "trading_days": len(days),
                 "winning_days_share": ratio(sum(p > 0 for p in pnls) / len(pnls))},
        message=f"Sharpe {sharpe(returns, TRADING_DAYS, rf):.2f} over {len(days)} days; max drawdown ${dd:,.2f}",
        details={"formula": "r_t = pnl_t / equity_{t-1}, equity_0 = capital; sharpe = mean(r - rf)/std(r, ddof=1)"
                            " * sqrt(252); sortino = mean(r)/sqrt(mean(min(r,0)^2)) * sqrt(252); max_drawdown = "
                            "max(peak equity - equity); calmar = mean(r)*252 / drawdown fraction",
                 "capital": capital, "annualisation": "sqrt(252) trading days",
                 "drawdown": {"peak": label(peak_i), "trough": label(trough_i)} if dd else None,
                 "daily": [{"date": str(d), "pnl": str(days[d]), "return": round(r, 6), "equity": round(e, 2)}
                           for d, r, e in zip(dates, returns, equity[1:])]}),
        "trading days of P&L", dates)


SPEC = make_spec("business", "performance", check, "Sharpe, Sortino, drawdown and returns from the daily P&L",
                 ("sharpe", "sortino", "annualized_return", "annualized_volatility", "max_drawdown",
                  "max_drawdown_pct", "calmar", "total_pnl", "trading_days", "winning_days_share"),
                 {"capital": {"type": "number", "exclusiveMinimum": 0}, "risk_free_annual": {"type": "number"},
                  "records": {"enum": ["pnl", "baseline_v1_pnl"]}}, required=("capital",))
