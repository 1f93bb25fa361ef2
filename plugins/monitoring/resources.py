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

import numpy as np

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .live_probe import SCHEMA as PROBE_SCHEMA
from .live_probe import probe_settings, sample_host
from .columns import read_columns, runs
from .latency import nearest_rank
from .observation import observe
from .opslog import PATH_PARAM, ArtifactError, guarded, input_path, iso, threshold_value

METRICS_DEFAULT = "logs/system_metrics.jsonl"
FIELDS = {"cpu": "cpu_pct", "memory": "mem_pct", "disk": "disk_pct"}


def pct(value: float) -> Quantity:
    return Quantity(round(value, 3), "%")


def breaches(stamps: np.ndarray, values: np.ndarray, line: float) -> tuple[float, float, dict | None]:
    """Share of samples above ``line`` and the longest breach in seconds (with its span); the
    series is sorted by time. A breach runs from its first sample above the line to the first
    one back under (or the last sample)."""
    above = values > line
    starts, ends = runs(above)
    longest, worst = 0.0, None
    if len(starts):
        spans = stamps[ends] - stamps[starts]
        # the latest of equally long breaches is shown, as a scan keeping ">=" did
        k = len(spans) - 1 - int(np.argmax(spans[::-1]))
        longest, worst = float(spans[k]), {"from": iso(float(stamps[starts[k]])), "to": iso(float(stamps[ends[k]]))}
    return float(above.mean()), longest, worst


@guarded
def resource_usage(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    wanted = ctx.params.get("resources", list(FIELDS))
    path = input_path(ctx, "metrics", METRICS_DEFAULT)
    cols = read_columns(path, required=("ts",), numbers=tuple(FIELDS[r] for r in wanted))
    ctx.record_artifact(path)
    enabled, seconds, interval, disk_path = probe_settings(ctx.params)
    live = sample_host(seconds, interval, disk_path) if enabled else []
    metrics: dict = {}
    details: dict = {"method": "max, nearest-rank p95 and mean per resource; share above the plan's line "
                               "and the longest run of samples above it",
                     "live_probe": {"enabled": enabled, "samples": len(live),
                                    "seconds": seconds if enabled else 0}}
    absent, spans = [], []
    for resource in wanted:
        field = FIELDS[resource]
        rows = np.flatnonzero(cols.present(field))
        values = cols.numbers(field, rows)
        wrong = np.flatnonzero((values < 0) | (values > 100))
        if len(wrong):
            raise ArtifactError(cols.path, int(cols.line[rows[wrong[0]]]),
                                f"{field} must be a percentage 0..100, got {_plain(values[wrong[0]])!r}")
        stamps = cols.ts["ts"][rows]
        if live:
            stamps = np.concatenate([stamps, [s["ts"] for s in live]])
            values = np.concatenate([values, [float(s[field]) for s in live]])
        if not len(values):
            absent.append(field)
            continue
        order = np.lexsort((values, stamps))  # by time, then value: the order sorting pairs gave
        stamps, values = stamps[order], values[order]
        spans += [float(stamps[0]), float(stamps[-1])]
        metrics[f"{resource}_max"] = pct(float(values.max()))
        metrics[f"{resource}_p95"] = pct(nearest_rank(np.sort(values), 95))
        metrics[f"{resource}_mean"] = pct(float(values.sum()) / len(values))
        info = {"samples": len(values), "from": iso(float(stamps[0])), "to": iso(float(stamps[-1]))}
        line = threshold_value(requirement, f"{resource}_max", "%") or threshold_value(requirement, f"{resource}_p95", "%")
        if line is not None:
            share, longest, span = breaches(stamps, values, line)
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
    return observe(CheckResult(metrics=metrics, details=details, message=summary),
                   "resource samples", spans, events=len(cols) + len(live))


SCHEMA = {
    "type": "object",
    "properties": {"metrics": PATH_PARAM,
                   "resources": {"type": "array", "items": {"enum": list(FIELDS)}, "minItems": 1, "uniqueItems": True},
                   "live_probe": PROBE_SCHEMA},
    "additionalProperties": False,
}
def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


METRIC_NAMES = tuple(f"{r}_{m}" for r in FIELDS for m in ("max", "p95", "mean", "share_over_line", "longest_breach"))
