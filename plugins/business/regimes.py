"""Market condition adaptation: performance per market regime (plan lines 126-130).

Each trading day gets a regime from the market the records saw: the day's path of signal entry
prices for the reference instrument (``symbol``, default the most frequent) gives its range and
drift. Volatility is high when (high - low) / open is above the median of all days, else low;
the day is trending when |close - open| / (high - low) >= ``trend_ratio`` (default 0.5), else
ranging. Per regime: trading days, signals per day (activity), trades, win rate and mean P&L of
the closed trades (traded modes). Reports how many regimes were traded and the worst regime's
win rate and mean P&L, so the plan can require the strategy to hold up in every regime.
"""
from __future__ import annotations

from collections import defaultdict

from golive.model import CheckResult, Quantity
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import make_spec, no_data
from golive.plugins.records.common import ratio, resolved_signals
from golive.plugins.records.stats import mean, percentile


def classify(paths: dict, trend_ratio: float) -> dict:
    """day -> 'high_vol/trending' etc. from {day: [prices in time order]}."""
    ranges = {d: (max(p) - min(p)) / p[0] for d, p in paths.items() if p[0]}
    median = percentile(list(ranges.values()), 50)
    out = {}
    for d, p in paths.items():
        span = max(p) - min(p)
        trending = span > 0 and abs(p[-1] - p[0]) / span >= trend_ratio
        out[d] = f"{'high' if ranges.get(d, 0) > median else 'low'}_vol/{'trending' if trending else 'ranging'}"
    return out


def check(requirement, ctx) -> CheckResult:
    sig = reader.load(ctx, "signals", need=["ts", "signal_id", "symbol", "entry_price"], nullable=["entry_price"])
    sig = sig[sig["entry_price"].notna()]
    if sig.empty:
        return no_data("no signals with an entry_price in records/signals")
    symbol = ctx.params.get("symbol") or sig["symbol"].value_counts().index[0]
    ref = sig[sig["symbol"] == symbol]
    paths: dict = defaultdict(list)
    for ts, px in zip(ref["ts"], ref["entry_price"]):
        paths[ts.date()].append(float(px))
    regime_of = classify(paths, float(ctx.params.get("trend_ratio", 0.5)))
    joined, _ = resolved_signals(ctx)
    modes = ctx.params.get("modes", ["limited", "live"])
    if "mode" in joined and joined["mode"].notna().any():
        joined = joined[joined["mode"].isin(modes)]
    joined = joined[joined["pnl"].notna()]
    per = defaultdict(lambda: {"days": 0, "signals": 0, "pnl": []})
    for d, regime in regime_of.items():
        per[regime]["days"] += 1
    for ts in sig["ts"]:
        if ts.date() in regime_of:
            per[regime_of[ts.date()]]["signals"] += 1
    for ts, pnl in zip(joined["ts"], joined["pnl"]):
        if ts.date() in regime_of:
            per[regime_of[ts.date()]]["pnl"].append(float(pnl))
    table = {r: {"days": v["days"], "signals_per_day": round(v["signals"] / v["days"], 2), "trades": len(v["pnl"]),
                 "win_rate": round(sum(p > 0 for p in v["pnl"]) / len(v["pnl"]), 4) if v["pnl"] else None,
                 "mean_pnl": round(mean(v["pnl"]), 2) if v["pnl"] else None} for r, v in sorted(per.items())}
    traded = {r: v for r, v in table.items() if v["trades"]}
    if not traded:
        return no_data("no closed trades on days with a known regime")
    worst_wr = min(traded.values(), key=lambda v: v["win_rate"])
    worst_pnl = min(traded.values(), key=lambda v: v["mean_pnl"])
    return observe(CheckResult(
        metrics={"regimes_observed": len(traded), "worst_regime_win_rate": ratio(worst_wr["win_rate"]),
                 "worst_regime_mean_pnl": Quantity(worst_pnl["mean_pnl"], "USD")},
        message=f"{len(traded)} regimes traded; worst mean P&L per trade ${worst_pnl['mean_pnl']:,.2f}",
        details={"rule": "volatility high when (high - low)/open > median of days; trending when |close - open| / "
                         "(high - low) >= trend_ratio; prices: signal entry prices of the reference instrument",
                 "reference_symbol": symbol, "regimes": table,
                 "days": {str(d): r for d, r in sorted(regime_of.items())}}),
        "closed trades on days with a known regime", (ts for ts in joined["ts"] if ts.date() in regime_of))


SPEC = make_spec("business", "regimes", check, "performance per volatility and trend regime",
                 ("regimes_observed", "worst_regime_win_rate", "worst_regime_mean_pnl"),
                 {"symbol": {"type": "string"}, "trend_ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                  "modes": {"type": "array", "items": {"type": "string"}}})
