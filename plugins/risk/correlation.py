"""Correlation risk monitoring (plan lines 113-117).

Daily closes per instrument are the last position mark of each day (``records/positions``);
daily returns are close-to-close changes on the days both instruments have a close. Pairwise
Pearson correlation of those returns is reported (``max_abs_correlation``). Pairs with
|correlation| >= ``min_correlation`` (default 0.7) are flagged, and whenever both are held in
the direction that adds their risk (same sign for positive correlation), the combined exposure
counts as one position: ``correlated_exposure_max`` is the largest such combined exposure (USD).
"""
from __future__ import annotations

from itertools import combinations

from golive.model import CheckResult, Quantity
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import make_spec, money, no_data
from golive.plugins.records.common import instruments, ratio, spec_of
from golive.plugins.records.stats import pearson


def daily_returns(positions) -> dict[str, dict]:
    closes: dict[str, dict] = {}
    for ts, sym, mark in zip(positions["ts"], positions["symbol"], positions["mark_price"]):
        closes.setdefault(sym, {})[ts.date()] = float(mark)
    out = {}
    for sym, by_day in closes.items():
        days = sorted(by_day)
        out[sym] = {d: by_day[d] / by_day[p] - 1 for p, d in zip(days, days[1:])}
    return out


def check(requirement, ctx) -> CheckResult:
    specs = instruments(ctx)
    positions = reader.load(ctx, "positions", need=["ts", "symbol", "qty", "mark_price"])
    if positions.empty:
        return no_data("no rows in records/positions")
    rets = daily_returns(positions)
    threshold = float(ctx.params.get("min_correlation", 0.7))
    pairs = {}
    for a, b in combinations(sorted(rets), 2):
        days = sorted(set(rets[a]) & set(rets[b]))
        pairs[(a, b)] = (pearson([rets[a][d] for d in days], [rets[b][d] for d in days]), len(days))
    flagged = {k: v for k, v in pairs.items() if v[0] == v[0] and abs(v[0]) >= threshold}
    qty, value, worst = {}, {}, (0, None, None)
    for pos, (ts, sym, q, mark) in enumerate(zip(positions["ts"], positions["symbol"], positions["qty"],
                                                 positions["mark_price"])):
        _, mult = spec_of(ctx, specs, "positions", positions, pos, sym)
        qty[sym], value[sym] = q, abs(q * mark * mult)
        for (a, b), (corr, _) in flagged.items():
            if qty.get(a) and qty.get(b) and qty[a] * qty[b] * corr > 0 and value[a] + value[b] > worst[0]:
                worst = (value[a] + value[b], ts, (a, b))
    corrs = [abs(c) for c, _ in pairs.values() if c == c]
    return observe(CheckResult(
        metrics={"max_abs_correlation": ratio(max(corrs, default=0.0)), "correlated_pairs": len(flagged),
                 "correlated_exposure_max": Quantity(money(worst[0]) if worst[1] else 0.0, "USD")},
        message=f"{len(flagged)} pair(s) with |correlation| >= {threshold}; largest combined correlated exposure "
                f"${worst[0]:,}",
        details={"formula": "returns = close_t / close_{t-1} - 1 from daily last marks; Pearson correlation; "
                            "combined exposure = |qty_a*mark_a*mult_a| + |qty_b*mark_b*mult_b| when both held and "
                            "qty_a*qty_b*corr > 0",
                 "pairs": [{"pair": list(k), "correlation": round(c, 4) if c == c else None, "days": n}
                           for k, (c, n) in pairs.items()],
                 "worst": {"ts": str(worst[1]), "pair": worst[2]} if worst[1] else None}),
        "position snapshots", positions["ts"])


SPEC = make_spec("risk", "correlation", check, "correlated instruments flagged and their combined exposure",
                 ("max_abs_correlation", "correlated_pairs", "correlated_exposure_max"),
                 {"min_correlation": {"type": "number", "minimum": 0, "maximum": 1}})
