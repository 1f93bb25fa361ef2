"""MBO pressure analysis (plan line 43).

For every IFD signal carrying its window's aggressive buy and sell volume, recomputes
pressure = (buy - sell) / (buy + sell) and reports the largest difference from the recorded
``mbo_pressure`` and the number of signals whose direction contradicts the pressure's sign
(long needs buying pressure > 0, short selling pressure < 0).
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data, signals_of


def check(requirement, ctx) -> CheckResult:
    cols = ["buy_volume", "sell_volume", "mbo_pressure"]
    frame = reader.load(ctx, "signals", need=["signal_id", "direction", *cols],
                        optional=["strategy", "mode", "emitted"], nullable=cols)
    sig = signals_of(frame, ctx.params.get("strategy", "ifd"), ctx.params.get("mode"))
    sig = sig[sig["buy_volume"].notna() & sig["sell_volume"].notna() & sig["mbo_pressure"].notna()]
    if sig.empty:
        return no_data("no emitted signals with buy_volume, sell_volume and mbo_pressure in records/signals")
    worst, mismatched, contrary = 0.0, [], []
    for r in sig.itertuples(index=False):
        total = r.buy_volume + r.sell_volume
        pressure = (r.buy_volume - r.sell_volume) / total if total > 0 else 0.0
        err = abs(pressure - r.mbo_pressure)
        worst = max(worst, err)
        if err > 1e-3:
            mismatched.append({"signal_id": r.signal_id, "recorded": r.mbo_pressure, "recomputed": round(pressure, 6)})
        if (r.direction == "long" and pressure <= 0) or (r.direction == "short" and pressure >= 0):
            contrary.append({"signal_id": r.signal_id, "direction": r.direction, "pressure": round(pressure, 6)})
    return CheckResult(
        metrics={"pressure_max_error": worst, "direction_mismatches": len(contrary), "signals": len(sig)},
        message=f"{len(sig)} signals; worst pressure error {worst:.4g}; {len(contrary)} against the pressure",
        details={"formula": "pressure = (buy_volume - sell_volume) / (buy_volume + sell_volume)",
                 "recorded_differs_by_more_than_0.001": listed(mismatched), "direction_mismatches": listed(contrary)})


SPEC = make_spec("algorithm", "mbo_pressure", check, "recorded MBO pressure recomputed from the window volumes",
                 ("pressure_max_error", "direction_mismatches", "signals"),
                 {"strategy": {"type": "string"}, "mode": {"type": "string"}})
