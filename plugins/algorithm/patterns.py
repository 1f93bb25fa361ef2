"""Market making vs institutional flow pattern recognition (plan line 45).

Every evaluated signal (emitted or not) whose outcome carries a labelled ``pattern_truth`` is an
episode: the recorded ``pattern`` is the algorithm's classification. Reports overall accuracy
with its Wilson interval, the recall of each class and the confusion matrix.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.records import reader
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import make_spec, no_data
from golive.plugins.records.common import ratio
from golive.plugins.records.stats import WILSON_FORMULA, wilson


def check(requirement, ctx) -> CheckResult:
    sig = reader.load(ctx, "signals", need=["signal_id", "pattern"], optional=["mode"], nullable=["pattern"])
    if ctx.params.get("mode"):
        sig = sig[sig["mode"] == ctx.params["mode"]]
    out = reader.load(ctx, "outcomes", need=["signal_id", "pattern_truth"], nullable=["pattern_truth"])
    joined = sig.merge(out[["signal_id", "pattern_truth"]], on="signal_id")
    joined = joined[joined["pattern"].notna() & joined["pattern_truth"].notna()]
    if joined.empty:
        return no_data("no signals with both a pattern and a labelled pattern_truth")
    confusion: dict[str, dict[str, int]] = {}
    for pred, truth in zip(joined["pattern"], joined["pattern_truth"]):
        confusion.setdefault(truth, {}).setdefault(pred, 0)
        confusion[truth][pred] += 1
    right = sum(row.get(t, 0) for t, row in confusion.items())
    n = len(joined)
    low, high = wilson(right, n)
    recall = {t: round(row.get(t, 0) / sum(row.values()), 4) for t, row in confusion.items()}
    metrics = {"pattern_accuracy": ratio(right / n), "pattern_accuracy_ci_low": ratio(low),
               "pattern_accuracy_ci_high": ratio(high), "episodes": n}
    for cls in ("market_making", "institutional_flow"):
        if cls in recall:
            metrics[f"recall_{cls}"] = ratio(recall[cls])
    return observe(CheckResult(metrics=metrics,
                               message=f"pattern accuracy {right}/{n} = {right / n:.1%} (95 % CI {low:.1%}-{high:.1%})",
                               details={"formula": "accuracy = episodes classified as labelled / episodes; recall(c) = "
                                                   "right in class c / labelled c; " + WILSON_FORMULA,
                                        "confusion_truth_by_predicted": confusion, "recall": recall}),
            "signals with a labelled pattern", (), events=len(joined))


SPEC = make_spec("algorithm", "pattern_recognition", check, "pattern classification accuracy on labelled episodes",
                 ("pattern_accuracy", "pattern_accuracy_ci_low", "pattern_accuracy_ci_high", "episodes",
                  "recall_market_making", "recall_institutional_flow"), {"mode": {"type": "string"}})
