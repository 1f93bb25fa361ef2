"""Signal accuracy with its Wilson interval (plan lines 44, 81 and 124-125; shadow false positives).

Joins emitted signals with ``records/outcomes`` and, over the last ``window_days`` trading days
present (all days when absent), reports accuracy = right / resolved, its Wilson 95 % interval
(``accuracy_ci_low``/``accuracy_ci_high``: a ratio from a dozen signals is no evidence, so the
plan can put its threshold on the lower bound), the false-positive rate (1 - accuracy), the
number of trading days and resolved signals, and the per-day figures.
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import make_spec, no_data
from golive.plugins.records.common import ratio, resolved_signals, trading_day
from golive.plugins.records.stats import WILSON_FORMULA, wilson


def check(requirement, ctx) -> CheckResult:
    joined, unresolved = resolved_signals(ctx, ctx.params.get("strategy"), ctx.params.get("mode"))
    if joined.empty:
        return no_data("no emitted signals with outcomes (records/signals joined with records/outcomes)")
    joined["day"] = trading_day(joined["ts"])
    days = sorted(joined["day"].unique())
    window = ctx.params.get("window_days")
    if window:
        days = days[-int(window):]
        joined = joined[joined["day"].isin(days)]
    right = int(joined["correct"].map(bool).sum())
    n = len(joined)
    low, high = wilson(right, n)
    per_day = [{"day": str(d), "signals": int(len(g)), "accuracy": round(float(g["correct"].map(bool).mean()), 4)}
               for d, g in joined.groupby("day")]
    return observe(CheckResult(
        metrics={"accuracy": ratio(right / n), "accuracy_ci_low": ratio(low), "accuracy_ci_high": ratio(high),
                         "false_positive_rate": ratio(1 - right / n), "signals_evaluated": n,
                         "window_days": Quantity(len(days), "d"), "unresolved_signals": unresolved},
        message=f"accuracy {right}/{n} = {right / n:.1%} (95 % CI {low:.1%}-{high:.1%}) over {len(days)} trading days",
        details={"formula": "accuracy = correct / resolved signals; false_positive_rate = 1 - accuracy; "
                                    + WILSON_FORMULA, "window": [str(days[0]), str(days[-1])], "per_day": per_day,
                         "filters": {k: ctx.params.get(k) for k in ("strategy", "mode", "window_days")}}),
            "resolved signals", joined["ts"])


SPEC = make_spec("algorithm", "accuracy", check, "share of emitted signals with the right outcome, Wilson 95 % CI",
                 ("accuracy", "accuracy_ci_low", "accuracy_ci_high", "false_positive_rate", "signals_evaluated",
                  "window_days", "unresolved_signals"),
                 {"strategy": {"type": "string"}, "mode": {"type": "string"},
                  "window_days": {"type": "integer", "minimum": 1}})
