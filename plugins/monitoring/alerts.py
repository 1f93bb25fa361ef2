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

import bisect
import operator

import numpy as np
import yaml

from golive.model import CheckContext, CheckResult, Requirement, Status

from .observation import observe
from .columns import Columns, read_columns, runs
from .opslog import (PATH_PARAM, ArtifactError, ArtifactMissing, guarded, input_path, iso, iter_jsonl,
                     percentile, seconds)

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


def episodes(samples: Columns, order: np.ndarray, rule: dict) -> list[tuple[float, float]]:
    """(start, end) of every breach of ``rule`` lasting at least its ``for_s``; ``order`` is
    the samples' rows sorted by time."""
    test, line, hold = OPS[rule["op"]], float(rule["value"]), float(rule.get("for_s", 0))
    rows = order[samples.present(rule["metric"])[order]]
    values = samples.numbers(rule["metric"], rows)
    stamps = samples.ts["ts"][rows]
    starts, ends = runs(test(values, line))
    return [(float(stamps[a]) + hold, float(stamps[b])) for a, b in zip(starts, ends)
            if stamps[b] - stamps[a] >= hold]


@guarded
def alert_coverage(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    rules = load_rules(ctx)
    mpath = input_path(ctx, "metrics", "logs/system_metrics.jsonl")
    samples = read_columns(mpath, required=("ts",), numbers=tuple(dict.fromkeys(r["metric"] for r in rules)))
    order = np.argsort(samples.ts["ts"], kind="stable")
    ctx.record_artifact(mpath)
    apath = input_path(ctx, "alerts", "logs/alerts.jsonl")
    window = float(ctx.params.get("match_window_s", 900))
    known = {r["name"] for r in rules}
    real: dict[str, list[float]] = {}  # alert times per rule: all that matching needs
    test_times: list[float] = []
    exercised: set[str] = set()
    for a in iter_jsonl(apath, required=("ts", "rule")):
        if a["rule"] not in known:
            raise ArtifactError(a.path, a.line, f"alert names rule {a['rule']!r}, which config/alerts.yaml does not define")
        if a.get("test") is True:
            test_times.append(a["_ts"])
            exercised.add(a["rule"])
        else:
            real.setdefault(a["rule"], []).append(a["_ts"])
    ctx.record_artifact(apath)
    delays, missed, breaches, starts = [], [], 0, []
    for rule in rules:
        candidates = sorted(real.get(rule["name"], ()))
        for start, end in episodes(samples, order, rule):
            breaches += 1
            starts.append(start)
            exercised.add(rule["name"])
            k = bisect.bisect_left(candidates, start)  # the first alert at or after the start
            hit = candidates[k] if k < len(candidates) and candidates[k] <= start + window else None
            if hit is None:
                missed.append({"rule": rule["name"], "from": iso(start), "to": iso(end)})
            else:
                delays.append(hit - start)
    if breaches == 0 and not test_times:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: no rule was breached and no test alert was sent, "
                                   "so the alert path is not evidenced")
    untested = [r["name"] for r in rules if r["name"] not in exercised]
    metrics = {"breaches": breaches, "missed_alerts": len(missed), "test_alerts": len(test_times),
               "rules": len(rules), "rules_untested": len(untested)}
    if breaches:
        metrics["alert_coverage"] = round((breaches - len(missed)) / breaches, 6)
    if delays:
        metrics["alert_delay_max"] = seconds(max(delays))
        metrics["alert_delay_p95"] = seconds(percentile(delays, 95))
    return observe(CheckResult(
        metrics=metrics,
        message=f"{breaches - len(missed)}/{breaches} breaches alerted, {len(test_times)} test alert(s)",
        details={"rule": f"an alert of the same rule within {window:g} s of the breach start matches it",
                 "rules": [r["name"] for r in rules], "rules_untested": untested, "missed": missed[:50]},
    ), "rule breaches and test alerts", [*starts, *test_times])


SCHEMA = {
    "type": "object",
    "properties": {"rules": PATH_PARAM, "metrics": PATH_PARAM, "alerts": PATH_PARAM,
                   "match_window_s": {"type": "number", "exclusiveMinimum": 0}},
    "additionalProperties": False,
}
