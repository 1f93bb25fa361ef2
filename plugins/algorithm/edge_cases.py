"""Edge case handling (plan line 41).

Finds the degenerate setups in ``records/signals`` -- zero or negative risk, missing entry,
stop or target price, probability outside (0, 1), non-positive reward -- and reports how many
there were and how many of them were emitted anyway (``edge_cases_emitted``, which the plan
wants at 0). Each case is listed with its kind.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.records import reader
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import listed, make_spec

PRICES = ("entry_price", "stop_price", "target_price")


def kinds_of(r) -> list[str]:
    kinds = []
    if r.risk is None or r.risk <= 0:
        kinds.append("zero_or_negative_risk")
    if any(getattr(r, c) is None for c in PRICES):
        kinds.append("missing_price")
    if r.probability != r.probability or not 0 < r.probability < 1:
        kinds.append("probability_out_of_range")
    if r.reward is not None and r.reward <= 0:
        kinds.append("non_positive_reward")
    return kinds


def check(requirement, ctx) -> CheckResult:
    cols = ["risk", "reward", "probability", *PRICES]
    sig = reader.load(ctx, "signals", need=["signal_id", *cols], optional=["emitted", "strategy"], nullable=cols)
    if ctx.params.get("strategy"):
        sig = sig[sig["strategy"] == ctx.params["strategy"]]
    cases, emitted = [], []
    for r in sig.itertuples(index=False):
        kinds = kinds_of(r)
        if kinds:
            cases.append({"signal_id": r.signal_id, "kinds": kinds, "emitted": r.emitted is not False})
            if r.emitted is not False:
                emitted.append(r.signal_id)
    by_kind: dict[str, int] = {}
    for c in cases:
        for k in c["kinds"]:
            by_kind[k] = by_kind.get(k, 0) + 1
    return observe(CheckResult(
        metrics={"edge_cases": len(cases), "edge_cases_emitted": len(emitted), "setups": len(sig)},
        message=f"{len(cases)} degenerate setups, {len(emitted)} of them emitted",
        details={"rule": "a setup with risk <= 0, a missing price, probability outside (0, 1) or reward <= 0 "
                                 "must not be emitted", "by_kind": by_kind, "cases": listed(cases),
                         "emitted": listed(emitted)}),
            "setups", (), events=len(sig))


SPEC = make_spec("algorithm", "edge_cases", check, "degenerate setups are never emitted",
                 ("edge_cases", "edge_cases_emitted", "setups"), {"strategy": {"type": "string"}})
