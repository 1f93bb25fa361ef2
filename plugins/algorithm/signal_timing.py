"""Signal timing (plan line 78): delay from the triggering market event to signal emission.

delay = signals.ts - signals.market_event_ts for every emitted signal of the mode (default
shadow). Reports median, p95, p99 and maximum in milliseconds, and counts negative delays
(a signal stamped before its event: a clock or recording fault).

Percentiles are nearest-rank (the smallest observed delay with at least q % of the delays at
or below it; :func:`golive.plugins.monitoring.opslog.percentile`), the same definition as the
processing-latency check (monitoring.latency), so every "p99 < 100 ms" in the plan means one
thing: at least 99 % of the observations were below 100 ms.
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data, signals_of
from golive.plugins.monitoring.observation import observe
from golive.plugins.monitoring.opslog import percentile


def check(requirement, ctx) -> CheckResult:
    frame = reader.load(ctx, "signals", need=["ts", "signal_id", "market_event_ts"], optional=["mode", "emitted"],
                        nullable=["market_event_ts"])
    sig = signals_of(frame, None, ctx.params.get("mode", "shadow"))
    missing = int(sig["market_event_ts"].isna().sum())
    sig = sig[sig["market_event_ts"].notna()]
    if sig.empty:
        return no_data("no emitted signals with market_event_ts in records/signals")
    delays = ((sig["ts"] - sig["market_event_ts"]).dt.total_seconds() * 1000).tolist()
    slowest = sorted(zip(delays, sig["signal_id"]), reverse=True)[:10]
    result = CheckResult(
        metrics={"delay_p50": Quantity(percentile(delays, 50), "ms"),
                 "delay_p95": Quantity(percentile(delays, 95), "ms"),
                 "delay_p99": Quantity(percentile(delays, 99), "ms"), "delay_max": Quantity(max(delays), "ms"),
                 "negative_delays": sum(d < 0 for d in delays), "missing_event_ts": missing, "signals": len(delays)},
        message=f"{len(delays)} signals; delay p50 {percentile(delays, 50):.1f} ms, "
                f"p99 {percentile(delays, 99):.1f} ms",
        details={"formula": "delay = ts - market_event_ts; percentiles nearest-rank (an observed delay; "
                            "at least q % of delays at or below it)",
                 "slowest": [{"signal_id": s, "delay_ms": round(d, 3)} for d, s in slowest],
                 "negative": listed([s for d, s in zip(delays, sig["signal_id"]) if d < 0])})
    return observe(result, "signals with a market event time", sig["ts"])


SPEC = make_spec("algorithm", "signal_timing", check, "market event to signal delay distribution",
                 ("delay_p50", "delay_p95", "delay_p99", "delay_max", "negative_delays", "missing_event_ts",
                  "signals"), {"mode": {"type": "string"}})
