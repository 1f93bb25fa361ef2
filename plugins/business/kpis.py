"""KPI tracking (plan lines 173-177): KPIs recorded per period with targets, misses flagged.

``records/kpis`` holds one row per period, KPI and value. For every calendar month (or ISO
week, ``period``) with P&L, each KPI in ``kpis`` (name -> direction ``>=`` or ``<=``) must have a
row; its ``met`` flag must agree with value vs target in that direction; and where golive can
recompute the value from the records it must agree: ``accuracy`` (emitted signals of the traded
modes with outcomes), ``win_loss_ratio`` (their P&L) and ``cost`` (``records/costs``), within
``tolerance`` (default 0.0001; cost to the cent).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from golive.model import CheckResult
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data
from golive.plugins.records.common import daily_net_pnl, load_pnl, resolved_signals
from golive.plugins.records.stats import win_loss_ratio

DEFAULT_KPIS = {"accuracy": ">=", "win_loss_ratio": ">=", "roi": ">=", "max_drawdown": "<=", "cost": "<="}


def start_of(period: str, day):
    return day.replace(day=1) if period == "month" else day - timedelta(days=day.weekday())


def recomputed(ctx, period: str, modes: list[str]) -> dict[tuple, float]:
    """(period_start, kpi) -> value golive computes from the records, where it can."""
    out: dict[tuple, float] = {}
    if reader.exists(ctx, "signals") and reader.exists(ctx, "outcomes"):
        joined, _ = resolved_signals(ctx)
        if "mode" in joined and joined["mode"].notna().any():
            joined = joined[joined["mode"].isin(modes)]
        groups = defaultdict(list)
        for ts, ok, pnl in zip(joined["ts"], joined["correct"], joined["pnl"]):
            groups[start_of(period, ts.date())].append((bool(ok), pnl))
        for start, rows in groups.items():
            out[(start, "accuracy")] = sum(ok for ok, _ in rows) / len(rows)
            pnls = [float(p) for _, p in rows if p is not None and p == p]
            if pnls:
                out[(start, "win_loss_ratio")] = win_loss_ratio(pnls)[0]
    if reader.exists(ctx, "costs"):
        costs = reader.load(ctx, "costs", need=["date", "amount"])
        totals: dict = defaultdict(Decimal)
        for d, amount in zip(costs["date"], costs["amount"]):
            totals[start_of(period, d)] += amount
        out.update({(start, "cost"): float(v) for start, v in totals.items()})
    return out


def check(requirement, ctx) -> CheckResult:
    period = ctx.params.get("period", "month")
    wanted = dict(ctx.params.get("kpis", DEFAULT_KPIS))
    tolerance = float(ctx.params.get("tolerance", 0.0001))
    days = daily_net_pnl(load_pnl(ctx))
    if not days:
        return no_data("records/pnl holds no days")
    kpis = reader.load(ctx, "kpis", need=["period", "period_start", "kpi", "value", "target", "met"])
    rows = {(s, k): (v, t, m) for p, s, k, v, t, m in zip(kpis["period"], kpis["period_start"], kpis["kpi"],
                                                         kpis["value"], kpis["target"], kpis["met"]) if p == period}
    starts = sorted({start_of(period, d) for d in days})
    missing = [{"period_start": str(s), "kpi": k} for s in starts for k in wanted if (s, k) not in rows]
    wrong_flag, mismatched = [], []
    ours = recomputed(ctx, period, ctx.params.get("modes", ["limited", "live"]))
    for (start, kpi), (value, target, met) in sorted(rows.items()):
        if kpi in wanted and met != (value >= target if wanted[kpi] == ">=" else value <= target):
            wrong_flag.append({"period_start": str(start), "kpi": kpi, "value": value, "target": target, "met": met})
        mine = ours.get((start, kpi))
        if mine is not None and mine == mine and abs(mine - value) > (0.005 if kpi == "cost" else tolerance):
            mismatched.append({"period_start": str(start), "kpi": kpi, "recorded": value, "recomputed": round(mine, 6)})
    return observe(CheckResult(
        metrics={"kpis_missing": len(missing), "kpi_flags_wrong": len(wrong_flag),
                 "kpi_values_mismatched": len(mismatched), "kpi_rows": len(rows)},
        message=f"{len(starts)} {period}s x {len(wanted)} KPIs: {len(missing)} missing, {len(wrong_flag)} wrongly "
                f"flagged, {len(mismatched)} differ from the records",
        details={"rule": "each KPI recorded per period; met == (value >= target) or (value <= target) by direction; "
                         "accuracy = right / resolved, win_loss_ratio = mean win / mean |loss|, cost = sum of costs",
                 "kpis": wanted, "missing": listed(missing), "wrong_flag": listed(wrong_flag),
                 "mismatched": listed(mismatched)}),
        "trading days of P&L", days)


SPEC = make_spec("business", "kpis", check, "KPIs recorded per period with targets, misses flagged correctly",
                 ("kpis_missing", "kpi_flags_wrong", "kpi_values_mismatched", "kpi_rows"),
                 {"period": {"enum": ["week", "month"]}, "tolerance": {"type": "number", "minimum": 0},
                  "kpis": {"type": "object", "additionalProperties": {"enum": [">=", "<="]}, "minProperties": 1},
                  "modes": {"type": "array", "items": {"type": "string"}}})
