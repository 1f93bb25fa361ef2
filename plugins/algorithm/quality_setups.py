"""Quality setup identification (plan line 39).

A quality setup passes all three rules (EV >= min_ev, probability >= min_probability,
risk <= max_risk). The rules are the trading system's configured values, given in
``check.params.rules``; the check recomputes the classification of every evaluated setup in
``records/signals`` and counts setups whose recorded ``quality`` flag, or whose emission,
disagrees with it. Thresholds on ``quality_mismatches`` and ``emitted_non_quality`` decide.
"""
from __future__ import annotations

from decimal import Decimal

from golive.model import CheckResult
from golive.plugins.records import reader
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import listed, make_spec, no_data
from golive.plugins.records.common import ratio

RULES_SCHEMA = {"type": "object", "required": ["min_ev", "min_probability", "max_risk"],
                "additionalProperties": False,
                "properties": {"min_ev": {"type": "number"}, "min_probability": {"type": "number"},
                               "max_risk": {"type": "number"}}}


def is_quality(ev, probability, risk, rules: dict) -> bool:
    if ev is None or risk is None or probability != probability or risk <= 0:
        return False
    return (ev >= Decimal(str(rules["min_ev"])) and probability >= rules["min_probability"]
            and risk <= Decimal(str(rules["max_risk"])))


def check(requirement, ctx) -> CheckResult:
    rules = ctx.params["rules"]
    sig = reader.load(ctx, "signals", need=["signal_id", "ev", "probability", "risk", "quality"],
                      optional=["emitted", "strategy"], nullable=["ev", "probability", "risk"])
    if ctx.params.get("strategy"):
        sig = sig[sig["strategy"] == ctx.params["strategy"]]
    if sig.empty:
        return no_data("no setups in records/signals")
    mismatched, emitted_bad, n_quality = [], [], 0
    for sid, ev, p, risk, flag, emitted in zip(sig["signal_id"], sig["ev"], sig["probability"], sig["risk"],
                                               sig["quality"], sig["emitted"]):
        expected = is_quality(ev, p, risk, rules)
        n_quality += expected
        if bool(flag) != expected:
            mismatched.append({"signal_id": sid, "recorded": bool(flag), "expected": expected,
                               "ev": str(ev), "probability": p, "risk": str(risk)})
        if emitted is not False and emitted is not None and not expected:
            emitted_bad.append(sid)
    return observe(CheckResult(
        metrics={"quality_mismatches": len(mismatched), "emitted_non_quality": len(emitted_bad),
                         "setups": len(sig), "quality_share": ratio(n_quality / len(sig))},
        message=f"{len(sig)} setups, {len(mismatched)} misclassified, {len(emitted_bad)} emitted without quality",
        details={"formula": "quality = ev >= min_ev and probability >= min_probability and 0 < risk <= max_risk",
                         "rules": rules, "mismatched": listed(mismatched), "emitted_non_quality": listed(emitted_bad)}),
            "setups", (), events=len(sig))


SPEC = make_spec("algorithm", "quality_setups", check,
                 "recorded quality-setup flags and emissions agree with the configured rules",
                 ("quality_mismatches", "emitted_non_quality", "setups", "quality_share"),
                 {"rules": RULES_SCHEMA, "strategy": {"type": "string"}}, required=("rules",))
