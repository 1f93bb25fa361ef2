"""Alert system testing: every threshold breach in the metrics produced an alert in time.

Plan lines 137-163: "Alert system testing" (RISK-08).

The target's own alert rules (``config/alerts.yaml``: ``name``, ``metric``, ``op``,
``value``, optional ``for_s``) are replayed on ``logs/system_metrics.jsonl``: a breach
episode starts at the first sample past the rule's value (after ``for_s`` seconds of
persistence) and ends at the first sample back inside. Each episode must be matched by an
alert of that rule in ``logs/alerts.jsonl`` no earlier than the episode start and no later
than ``match_window_s`` after it; the delay is alert time minus episode start. Alerts marked
``test: true`` are drills of the alert path and are counted separately; a rule that was
neither breached nor drilled is untested.
"""
from __future__ import annotations

import operator

import yaml

from golive.model import CheckContext, CheckResult, Requirement, Status

from .observation import observe
from .opslog import (PATH_PARAM, ArtifactError, ArtifactMissing, guarded, input_path, iso, number,
                     percentile, read_jsonl, seconds)

OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def load_rules(ctx: CheckContext) -> list[dict]:
    path = input_path(ctx, "rules", "config/alerts.yaml")
    if not path.is_file():
        raise ArtifactMissing(f"{path} not found (the system's alert rules)")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ArtifactError(path, mark.line + 1 if mark else None, f"invalid YAML: {exc}") from None
    ctx.record_artifact(path)
    rules = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rules, list):
        raise ArtifactError(path, None, "expected a top-level 'rules' list")
    for i, r in enumerate(rules):
        if not isinstance(r, dict) or not {"name", "metric", "op", "value"} <= set(r) or r.get("op") not in OPS:
            raise ArtifactError(path, None, f"rules[{i}] needs name, metric, op (one of {', '.join(OPS)}) and value")
    return rules


def episodes(samples, rule: dict) -> list[tuple[float, float]]:
    """(start, end) of every breach of ``rule`` lasting at least its ``for_s``."""
    test, line, hold = OPS[rule["op"]], float(rule["value"]), float(rule.get("for_s", 0))
    out, start = [], None
    series = [(s["_ts"], number(s, rule["metric"])) for s in samples if s.get(rule["metric"]) is not None]
    for i, (ts, v) in enumerate(series):
        if test(v, line) and start is None:
            start = ts
        if start is not None and (not test(v, line) or i == len(series) - 1):
            if ts - start >= hold:
                out.append((start + hold, ts))
            start = None
    return out


@guarded
def alert_coverage(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    rules = load_rules(ctx)
    mpath = input_path(ctx, "metrics", "logs/system_metrics.jsonl")
    samples = sorted(read_jsonl(mpath, required=("ts",)), key=lambda s: s["_ts"])
    ctx.record_artifact(mpath)
    apath = input_path(ctx, "alerts", "logs/alerts.jsonl")
    alerts = read_jsonl(apath, required=("ts", "rule"))
    ctx.record_artifact(apath)
    window = float(ctx.params.get("match_window_s", 900))
    known = {r["name"] for r in rules}
    for a in alerts:
        if a["rule"] not in known:
            raise ArtifactError(a.path, a.line, f"alert names rule {a['rule']!r}, which config/alerts.yaml does not define")
    test_alerts = [a for a in alerts if a.get("test") is True]
    real = [a for a in alerts if a.get("test") is not True]
    delays, missed, breaches, exercised, starts = [], [], 0, set(), []
    exercised.update(a["rule"] for a in test_alerts)
    for rule in rules:
        candidates = sorted(a["_ts"] for a in real if a["rule"] == rule["name"])
        for start, end in episodes(samples, rule):
            breaches += 1
            starts.append(start)
            exercised.add(rule["name"])
            hit = next((t for t in candidates if start <= t <= start + window), None)
            if hit is None:
                missed.append({"rule": rule["name"], "from": iso(start), "to": iso(end)})
            else:
                delays.append(hit - start)
    if breaches == 0 and not test_alerts:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: no rule was breached and no test alert was sent, "
                                   "so the alert path is not evidenced")
    untested = [r["name"] for r in rules if r["name"] not in exercised]
    metrics = {"breaches": breaches, "missed_alerts": len(missed), "test_alerts": len(test_alerts),
               "rules": len(rules), "rules_untested": len(untested)}
    if breaches:
        metrics["alert_coverage"] = round((breaches - len(missed)) / breaches, 6)
    if delays:
        metrics["alert_delay_max"] = seconds(max(delays))
        metrics["alert_delay_p95"] = seconds(percentile(delays, 95))
    return observe(CheckResult(
        metrics=metrics,
        message=f"{breaches - len(missed)}/{breaches} breaches alerted, {len(test_alerts)} test alert(s)",
        details={"rule": f"an alert of the same rule within {window:g} s of the breach start matches it",
                 "rules": [r["name"] for r in rules], "rules_untested": untested, "missed": missed[:50]},
    ), "rule breaches and test alerts", [*starts, *(a["_ts"] for a in test_alerts)])


SCHEMA = {
    "type": "object",
    "properties": {"rules": PATH_PARAM, "metrics": PATH_PARAM, "alerts": PATH_PARAM,
                   "match_window_s": {"type": "number", "exclusiveMinimum": 0}},
    "additionalProperties": False,
}
