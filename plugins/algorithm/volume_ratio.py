"""Volume analysis thresholds (plan line 49).

Reports the smallest ``volume_ratio`` among emitted IFD signals (the plan's threshold on
``min_volume_ratio`` says no signal fires below the configured ratio) and, where the window and
average volumes are recorded, the largest difference between the recorded ratio and
window_volume / avg_volume.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data, plan_limit, signals_of


def check(requirement, ctx) -> CheckResult:
    cols = ["volume_ratio", "window_volume", "avg_volume"]
    frame = reader.load(ctx, "signals", need=["signal_id", "volume_ratio"],
                        optional=["strategy", "mode", "emitted", "window_volume", "avg_volume"],
                        nullable=cols)
    sig = signals_of(frame, ctx.params.get("strategy", "ifd"), ctx.params.get("mode"))
    sig = sig[sig["volume_ratio"].notna()]
    if sig.empty:
        return no_data("no emitted signals with a volume_ratio in records/signals")
    errors = []
    for r in sig.itertuples(index=False):
        if r.window_volume == r.window_volume and r.avg_volume == r.avg_volume and r.avg_volume > 0:
            errors.append((abs(r.window_volume / r.avg_volume - r.volume_ratio), r.signal_id))
    limit = plan_limit(requirement, "min_volume_ratio")
    below = [{"signal_id": s, "volume_ratio": v} for s, v in zip(sig["signal_id"], sig["volume_ratio"])
             if limit is not None and v < limit]
    worst = max(errors, default=(float("nan"), None))
    return CheckResult(
        metrics={"min_volume_ratio": float(sig["volume_ratio"].min()), "volume_ratio_max_error": worst[0],
                 "signals": len(sig)},
        message=f"{len(sig)} signals; smallest volume ratio {sig['volume_ratio'].min():.3f}",
        details={"formula": "volume_ratio = window_volume / avg_volume", "below_plan_minimum": listed(below),
                 "worst_recomputation": {"signal_id": worst[1], "error": worst[0]}})


SPEC = make_spec("algorithm", "volume_ratio", check, "signals fire only above the volume-ratio threshold",
                 ("min_volume_ratio", "volume_ratio_max_error", "signals"),
                 {"strategy": {"type": "string"}, "mode": {"type": "string"}})
