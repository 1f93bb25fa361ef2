"""Signal priority assignment and ordering (plan lines 47-48, 82; IFD priority rules).

Recomputes each emitted signal's priority from the configured rules (``check.params.rules``:
first rule whose ``min_confidence`` and ``min_notional`` the signal meets gives its priority)
and counts disagreements; within every batch of simultaneous signals checks that the emission
order (``seq``) follows priority (1 first) and counts inversions. It also reports accuracy per
priority level, and how many levels do worse than the level below them.
"""
from __future__ import annotations

from decimal import Decimal

from golive.model import CheckResult
from golive.plugins.records import reader
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import listed, make_spec, no_data, signals_of

RULES_SCHEMA = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["priority"], "additionalProperties": False,
    "properties": {"priority": {"type": "integer", "minimum": 1}, "min_confidence": {"type": "number"},
                   "min_notional": {"type": "number"}}}}


def expected_priority(confidence: float, notional, rules: list[dict]) -> int | None:
    amount = notional if notional is not None else Decimal(0)
    for rule in rules:
        if confidence >= rule.get("min_confidence", 0) and amount >= Decimal(str(rule.get("min_notional", 0))):
            return rule["priority"]
    return None


def inversions(batch: list[tuple[int, int, str]]) -> list[str]:
    """Signals emitted before a signal of strictly higher priority in the same batch."""
    ordered = sorted(batch)  # by seq
    return [sid for i, (_, prio, sid) in enumerate(ordered) if any(p < prio for _, p, _ in ordered[i + 1:])]


def check(requirement, ctx) -> CheckResult:
    frame = reader.load(ctx, "signals", need=["signal_id", "priority", "confidence"],
                        optional=["strategy", "mode", "emitted", "notional", "batch_id", "seq"],
                        nullable=["notional", "priority", "confidence"])
    sig = signals_of(frame, ctx.params.get("strategy", "ifd"), ctx.params.get("mode"))
    unprioritised = sig[sig["priority"].isna() | sig["confidence"].isna()]["signal_id"].tolist()
    sig = sig[sig["priority"].notna() & sig["confidence"].notna()]
    if sig.empty:
        return no_data("no emitted signals with a priority in records/signals")
    rules = ctx.params.get("rules")
    wrong = []
    if rules:
        for r in sig.itertuples(index=False):
            exp = expected_priority(r.confidence, r.notional, rules)
            if exp != r.priority:
                wrong.append({"signal_id": r.signal_id, "recorded": r.priority, "expected": exp})
    batched = sig[sig["batch_id"].notna() & sig["seq"].notna()]
    inverted, batches = [], 0
    for batch_id, g in batched.groupby("batch_id"):
        batches += 1
        bad = inversions(list(zip(g["seq"], g["priority"], g["signal_id"])))
        if bad:
            inverted.append({"batch_id": batch_id, "signals_out_of_order": bad})
    metrics = {"priority_order_inversions": len(inverted), "batches": batches, "signals": len(sig),
               "unprioritised_signals": len(unprioritised)}
    if rules:
        metrics["priority_mismatches"] = len(wrong)
    details = {"rule": "priority = first configured rule met (confidence >= min_confidence and notional >= "
                       "min_notional); in a batch, seq ascending must have priority non-decreasing",
               "mismatches": listed(wrong), "inverted_batches": listed(inverted),
               "emitted_without_priority_or_confidence": listed(unprioritised)}
    per_level = _accuracy_by_priority(ctx, sig)
    if per_level:
        levels = sorted(per_level)
        metrics["priority_accuracy_inversions"] = sum(
            per_level[a]["accuracy"] < per_level[b]["accuracy"] for a, b in zip(levels, levels[1:]))
        details["accuracy_by_priority"] = {str(k): v for k, v in per_level.items()}
    message = f"{len(wrong)} priority mismatches, {len(inverted)} of {batches} batches out of order"
    return observe(CheckResult(metrics=metrics, details=details, message=message),
                   "signals with a priority", (), events=len(sig))


def _accuracy_by_priority(ctx, sig) -> dict:
    if not reader.exists(ctx, "outcomes"):
        return {}
    out = reader.load(ctx, "outcomes", need=["signal_id", "correct"])
    joined = sig.merge(out[["signal_id", "correct"]], on="signal_id")
    return {int(p): {"signals": int(len(g)), "accuracy": round(float(g["correct"].map(bool).mean()), 4)}
            for p, g in joined.groupby("priority")}


SPEC = make_spec("algorithm", "priority", check, "priorities follow the rules; simultaneous signals in order",
                 ("priority_mismatches", "priority_order_inversions", "batches", "signals",
                  "priority_accuracy_inversions", "unprioritised_signals"),
                 {"rules": RULES_SCHEMA, "strategy": {"type": "string"}, "mode": {"type": "string"}})
