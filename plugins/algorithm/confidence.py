"""Statistical confidence calculations (plan line 46).

Confidence must lie in [0, 1] and be calibrated. Emitted signals joined with their outcomes are
put into ``bins`` equal-width confidence buckets; the expected calibration error is
ECE = sum_b (n_b / n) * |accuracy_b - mean_confidence_b| and the Brier score is
mean((confidence - correct)^2). Out-of-range confidences are counted and listed.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import listed, make_spec, no_data
from golive.plugins.records.common import ratio, resolved_signals
from golive.plugins.records.stats import wilson


def calibration(conf: list[float], correct: list[bool], bins: int) -> tuple[float, float, list[dict]]:
    """(ECE, Brier score, buckets) for confidences in [0, 1]."""
    n = len(conf)
    brier = sum((c - float(y)) ** 2 for c, y in zip(conf, correct)) / n
    buckets, ece = [], 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(conf) if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if not idx:
            continue
        acc = sum(correct[i] for i in idx) / len(idx)
        mc = sum(conf[i] for i in idx) / len(idx)
        ece += len(idx) / n * abs(acc - mc)
        ci = wilson(sum(correct[i] for i in idx), len(idx))
        buckets.append({"bucket": [round(lo, 3), round(hi, 3)], "signals": len(idx), "accuracy": round(acc, 4),
                        "mean_confidence": round(mc, 4), "accuracy_ci95": [round(ci[0], 4), round(ci[1], 4)]})
    return ece, brier, buckets


def check(requirement, ctx) -> CheckResult:
    joined, _ = resolved_signals(ctx, ctx.params.get("strategy", "ifd"), ctx.params.get("mode"),
                                 extra=("confidence",))
    joined = joined[joined["confidence"].notna()]
    if joined.empty:
        return no_data("no emitted signals with a confidence and an outcome")
    outside = joined[(joined["confidence"] < 0) | (joined["confidence"] > 1)]
    inside = joined.drop(outside.index)
    ece, brier, buckets = calibration(inside["confidence"].tolist(), [bool(v) for v in inside["correct"]],
                                      int(ctx.params.get("bins", 10)))
    return observe(CheckResult(
        metrics={"calibration_error": ratio(ece), "brier_score": brier, "confidence_out_of_range": len(outside),
                         "signals": len(joined)},
        message=f"ECE {ece:.3f}, Brier {brier:.3f} over {len(inside)} signals; {len(outside)} out of [0, 1]",
        details={"formula": "ECE = sum_b n_b/n * |accuracy_b - mean_confidence_b|; "
                                    "Brier = mean((confidence - correct)^2)", "buckets": buckets,
                         "out_of_range": listed(outside["signal_id"].tolist())}),
            "resolved signals with a confidence", joined["ts"])


SPEC = make_spec("algorithm", "confidence_calibration", check, "confidence within [0, 1] and calibrated",
                 ("calibration_error", "brier_score", "confidence_out_of_range", "signals"),
                 {"strategy": {"type": "string"}, "mode": {"type": "string"},
                  "bins": {"type": "integer", "minimum": 2, "maximum": 50}})
