"""CPU, memory and disk utilisation against the plan's line, from the metrics time series.

Plan lines 137-163 (Risk Management and Monitoring): "CPU/memory/disk thresholds (< 80 %)"
(RISK-06) and lines 97-109 "Memory/CPU monitoring" (LIVE-REL-06).

For each resource the check reports max, p95 and mean utilisation (``%``) of
``logs/system_metrics.jsonl`` (``cpu_pct``, ``mem_pct``, ``disk_pct``). When the requirement
has a threshold on ``<resource>_max`` or ``<resource>_p95``, that line is also used to
*describe* the series: the share of samples above it and the longest breach (consecutive
samples above it, from the first such sample to the first one back under). The verdict is
the engine's. An optional live psutil probe (see live_probe.py) adds samples of this host.
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .live_probe import SCHEMA as PROBE_SCHEMA
from .live_probe import probe_settings, sample_host
from .opslog import (PATH_PARAM, ArtifactError, guarded, input_path, iso, number, percentile,
                     read_jsonl, threshold_value)

METRICS_DEFAULT = "logs/system_metrics.jsonl"
FIELDS = {"cpu": "cpu_pct", "memory": "mem_pct", "disk": "disk_pct"}


def pct(value: float) -> Quantity:
    return Quantity(round(value, 3), "%")


def breaches(series: list[tuple[float, float]], line: float) -> tuple[float, float, dict | None]:
    """Share of samples above ``line`` and the longest breach in seconds (with its span)."""
    above = sum(1 for _, v in series if v > line)
    longest, start, worst = 0.0, None, None
    for i, (ts, v) in enumerate(series):
        if v > line and start is None:
            start = ts
        ended = start is not None and (v <= line or i == len(series) - 1)
        if ended:
            end = ts
            if end - start >= longest:
                longest, worst = end - start, {"from": iso(start), "to": iso(end)}
            start = None
    return above / len(series), longest, worst


@guarded
def resource_usage(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    wanted = ctx.params.get("resources", list(FIELDS))
    path = input_path(ctx, "metrics", METRICS_DEFAULT)
    samples = read_jsonl(path, required=("ts",))
    ctx.record_artifact(path)
    enabled, seconds, interval, disk_path = probe_settings(ctx.params)
    live = sample_host(seconds, interval, disk_path) if enabled else []
    metrics: dict = {}
    details: dict = {"method": "max, nearest-rank p95 and mean per resource; share above the plan's line "
                               "and the longest run of samples above it",
                     "live_probe": {"enabled": enabled, "samples": len(live),
                                    "seconds": seconds if enabled else 0}}
    absent = []
    for resource in wanted:
        field = FIELDS[resource]
        series = []
        for s in samples:
            if s.get(field) is None:
                continue
            v = number(s, field)
            if not 0 <= v <= 100:
                raise ArtifactError(s.path, s.line, f"{field} must be a percentage 0..100, got {v!r}")
            series.append((s["_ts"], v))
        series += [(s["ts"], float(s[field])) for s in live]
        if not series:
            absent.append(field)
            continue
        series.sort()
        values = [v for _, v in series]
        metrics[f"{resource}_max"] = pct(max(values))
        metrics[f"{resource}_p95"] = pct(percentile(values, 95))
        metrics[f"{resource}_mean"] = pct(sum(values) / len(values))
        info = {"samples": len(values), "from": iso(series[0][0]), "to": iso(series[-1][0])}
        line = threshold_value(requirement, f"{resource}_max", "%") or threshold_value(requirement, f"{resource}_p95", "%")
        if line is not None:
            share, longest, span = breaches(series, line)
            metrics[f"{resource}_share_over_line"] = Quantity(round(share, 6), "ratio")
            metrics[f"{resource}_longest_breach"] = Quantity(round(longest, 3), "s")
            info |= {"line_pct": line, "longest_breach": span}
        if live:
            live_values = [float(s[field]) for s in live]
            info["live_max"] = max(live_values)
        details[resource] = info
    if absent:  # a resource nobody samples is not monitored: the evidence does not exist
        return CheckResult(status=Status.MISSING, metrics=metrics, details=details | {"not_monitored": absent},
                           message=f"{requirement.id}: {path.name} has no {', '.join(absent)} samples")
    summary = ", ".join(f"{r} max {metrics[f'{r}_max'].value:.1f} %" for r in wanted)
    return CheckResult(metrics=metrics, details=details, message=summary)


SCHEMA = {
    "type": "object",
    "properties": {"metrics": PATH_PARAM,
                   "resources": {"type": "array", "items": {"enum": list(FIELDS)}, "minItems": 1, "uniqueItems": True},
                   "live_probe": PROBE_SCHEMA},
    "additionalProperties": False,
}
METRIC_NAMES = tuple(f"{r}_{m}" for r in FIELDS for m in ("max", "p95", "mean", "share_over_line", "longest_breach"))
