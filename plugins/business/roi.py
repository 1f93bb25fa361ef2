"""ROI improvement over v1.0 (plan lines 119-123, "> 25 %").

Both versions are measured the same way from daily net P&L files with the pnl contract:
``records/pnl`` (current) and ``records/baseline_v1_pnl`` (v1.0). Annualised ROI =
mean(daily net P&L) * 252 / capital; improvement = (ROI_current - ROI_v1) / |ROI_v1|. Using the
daily mean makes periods of different length comparable; the capital cancels out of the
improvement (it only scales ``roi_current``/``roi_v1``, reported as fractions of ``capital``).
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import make_spec, no_data
from golive.plugins.records.common import daily_net_pnl, load_pnl, ratio
from golive.plugins.records.stats import TRADING_DAYS, mean


def check(requirement, ctx) -> CheckResult:
    capital = float(ctx.params.get("capital", 1.0))  # cancels out of the improvement
    current = daily_net_pnl(load_pnl(ctx))
    baseline = daily_net_pnl(load_pnl(ctx, "baseline_v1_pnl"))
    if not current or not baseline:
        return no_data("records/pnl or records/baseline_v1_pnl holds no days")
    roi = mean([float(v) for v in current.values()]) * TRADING_DAYS / capital
    roi_v1 = mean([float(v) for v in baseline.values()]) * TRADING_DAYS / capital
    improvement = (roi - roi_v1) / abs(roi_v1) if roi_v1 else float("nan")
    metrics = {"roi_improvement": ratio(improvement), "days_current": len(current), "days_v1": len(baseline)}
    if "capital" in ctx.params:
        metrics.update(roi_current=ratio(roi), roi_v1=ratio(roi_v1))
    return observe(CheckResult(
        metrics=metrics,
        message=f"annualised P&L {roi * capital:,.0f} vs v1.0 {roi_v1 * capital:,.0f} USD/year: "
                f"improvement {improvement:.1%}",
        details={"formula": "roi = mean(daily net pnl) * 252 / capital; improvement = (roi - roi_v1) / |roi_v1|",
                 "capital": capital, "current_period": [str(min(current)), str(max(current))],
                 "v1_period": [str(min(baseline)), str(max(baseline))]}),
        "trading days of P&L", current)


SPEC = make_spec("business", "roi_improvement", check, "annualised ROI against the v1.0 baseline",
                 ("roi_improvement", "roi_current", "roi_v1", "days_current", "days_v1"),
                 {"capital": {"type": "number", "exclusiveMinimum": 0}})
