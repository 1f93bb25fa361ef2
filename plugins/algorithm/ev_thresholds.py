"""EV threshold enforcement (plan lines 36-41, "min_ev=15, min_probability=0.60, max_risk=150").

Reads every emitted signal from ``records/signals`` and reports the smallest EV, the smallest
probability and the largest risk among them; the plan's thresholds on those three metrics decide.
The signals beyond each plan limit are listed with their ids in ``details``.
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.records import reader
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import COMMON_FILTERS, listed, make_spec, no_data, plan_limit, signals_of


def check(requirement, ctx) -> CheckResult:
    frame = reader.load(ctx, "signals", need=["ts", "signal_id", "ev", "probability", "risk"],
                        optional=["strategy", "mode", "emitted"], nullable=["ev", "probability", "risk"])
    sig = signals_of(frame, ctx.params.get("strategy"), ctx.params.get("mode"))
    if sig.empty:
        return no_data("no emitted signals in records/signals")
    incomplete = sig[sig["ev"].isna() | sig["probability"].isna() | sig["risk"].isna()]
    complete = sig.drop(incomplete.index)
    min_ev = min(complete["ev"], default=None)
    min_p = complete["probability"].min()
    max_risk = max(complete["risk"], default=None)
    violations = {}
    for metric, column, worse in (("min_ev", "ev", lambda v, lim: v < lim),
                                  ("min_probability", "probability", lambda v, lim: v < lim),
                                  ("max_risk", "risk", lambda v, lim: v > lim)):
        limit = plan_limit(requirement, metric)
        if limit is None:
            continue
        bad = [{"signal_id": s, "ts": str(t), column: str(v)} for s, t, v in
               zip(complete["signal_id"], complete["ts"], complete[column]) if worse(float(v), float(limit))]
        violations[metric] = listed(bad)
    return observe(CheckResult(
        metrics={"min_ev": Quantity(min_ev, "USD") if min_ev is not None else float("nan"),
                         "min_probability": Quantity(float(min_p), "ratio"),
                         "max_risk": Quantity(max_risk, "USD") if max_risk is not None else float("nan"),
                         "signals": len(sig), "incomplete_signals": len(incomplete)},
        message=f"{len(sig)} emitted signals; min EV {min_ev}, min probability {min_p}, max risk {max_risk}",
        details={"formula": "min_ev = min(ev), min_probability = min(probability), max_risk = max(risk) "
                                    "over emitted signals; ev = p*reward - (1-p)*risk (USD)",
                         "violations": violations,
                         "incomplete": listed(incomplete["signal_id"].tolist())}),
            "emitted signals", sig["ts"])


SPEC = make_spec("algorithm", "ev_thresholds", check,
                 "smallest EV and probability, largest risk among emitted signals",
                 ("min_ev", "min_probability", "max_risk", "signals", "incomplete_signals"), COMMON_FILTERS)
