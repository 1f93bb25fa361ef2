"""Institutional size filtering, $100k minimum (plan line 51).

Among emitted signals classified as institutional flow, reports the smallest ``notional`` (the
plan's threshold on ``min_notional`` decides) and lists every signal below the plan's minimum.
A signal classified as institutional flow without a notional is counted as ``missing_notional``.
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.records import reader
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import listed, make_spec, no_data, plan_limit, signals_of


def check(requirement, ctx) -> CheckResult:
    frame = reader.load(ctx, "signals", need=["signal_id", "pattern", "notional"],
                        optional=["strategy", "mode", "emitted"], nullable=["pattern", "notional"])
    sig = signals_of(frame, ctx.params.get("strategy"), ctx.params.get("mode"))
    sig = sig[sig["pattern"] == ctx.params.get("pattern", "institutional_flow")]
    if sig.empty:
        return no_data("no emitted institutional-flow signals in records/signals")
    missing = sig[sig["notional"].isna()]["signal_id"].tolist()
    sized = sig[sig["notional"].notna()]
    smallest = min(sized["notional"], default=None)
    limit = plan_limit(requirement, "min_notional")
    below = [{"signal_id": s, "notional": str(v)} for s, v in zip(sized["signal_id"], sized["notional"])
             if limit is not None and float(v) < float(limit)]
    return observe(CheckResult(
        metrics={"min_notional": Quantity(smallest, "USD") if smallest is not None else float("nan"),
                         "missing_notional": len(missing), "signals": len(sig)},
        message=f"{len(sig)} institutional signals; smallest notional {smallest}",
        details={"formula": "min_notional = min(notional) over emitted institutional-flow signals",
                         "below_plan_minimum": listed(below), "missing_notional": listed(missing)}),
            "institutional-flow signals", (), events=len(sig))


SPEC = make_spec("algorithm", "institutional_size", check, "smallest notional of institutional-flow signals",
                 ("min_notional", "missing_notional", "signals"),
                 {"strategy": {"type": "string"}, "mode": {"type": "string"}, "pattern": {"type": "string"}})
