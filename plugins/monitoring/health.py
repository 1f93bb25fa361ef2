"""CPU and memory (and disk, network) are sampled continuously: the monitoring itself works.

Plan lines 97-109 (System Reliability): "Memory/CPU monitoring" (LIVE-REL-06).

``health_monitoring`` judges the monitoring itself, not the values: which health signals
the metrics series carries (CPU, memory, disk, network; ``required_signals`` names those that
must be there), how much of the observed period is
covered by samples no further apart than ``max_gap_factor`` x the sampling interval, the
longest gap, and how old the last sample is.
"""
from __future__ import annotations

import numpy as np

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .columns import read_columns
from .observation import observe
from .opslog import PATH_PARAM, age_seconds, guarded, input_path, iso, seconds

METRICS_DEFAULT = "logs/system_metrics.jsonl"
SIGNALS = {"cpu": "cpu_pct", "memory": "mem_pct", "disk": "disk_pct", "network": "net_rtt_ms"}


@guarded
def health_monitoring(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "metrics", METRICS_DEFAULT)
    cols = read_columns(path, required=("ts",), numbers=tuple(SIGNALS.values()), texts={"host": "-"})
    ctx.record_artifact(path)
    if len(cols) < 2:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: {path.name} has fewer than 2 samples")
    # One series per host: interleaved hosts would hide each other's gaps.
    factor = float(ctx.params.get("max_gap_factor", 2.0))
    covered = total = 0.0
    max_gap, worst_gap, per_host = 0.0, None, {}
    for code, host in enumerate(cols.labels["host"]):
        stamps = np.sort(cols.ts["ts"][cols.codes["host"] == code])
        gaps = np.diff(stamps)
        if not len(gaps):
            continue
        interval = float(ctx.params.get("interval_s") or np.median(gaps))
        covered += float(gaps[gaps <= factor * interval].sum())
        total += float(stamps[-1] - stamps[0])
        i = int(np.argmax(gaps))
        if gaps[i] > max_gap:
            max_gap, worst_gap = float(gaps[i]), {"host": host, "from": iso(float(stamps[i])), "to": iso(float(stamps[i + 1]))}
        per_host[host] = {"samples": len(stamps), "interval_s": interval, "last": iso(float(stamps[-1]))}
    present = [name for name, field in SIGNALS.items() if cols.present(field).any()]
    required = list(ctx.params.get("required_signals", list(SIGNALS)))
    last = float(cols.ts["ts"].max())
    metrics = {"signals_monitored": len(present), "signals_missing": len([r for r in required if r not in present]),
               "sampling_coverage": Quantity(round(covered / total, 6) if total else 0.0, "ratio"),
               "max_sample_gap": seconds(max_gap), "last_sample_age": seconds(max(age_seconds(ctx, last), 0.0)),
               "samples": len(cols)}
    return observe(CheckResult(
        metrics=metrics,
        message=f"{len(present)}/{len(SIGNALS)} health signals sampled, coverage "
                f"{metrics['sampling_coverage'].value:.2%}, longest gap {max_gap:.0f} s",
        details={"signals": present, "not_monitored": [n for n in SIGNALS if n not in present],
                 "required_signals": required,
                 "coverage_rule": f"gaps up to {factor:g} x the sampling interval count as covered",
                 "longest_gap": worst_gap, "hosts": per_host},
    ), "health samples", [float(cols.ts["ts"].min()), last], events=len(cols))



SCHEMA = {
    "type": "object",
    "properties": {"metrics": PATH_PARAM, "interval_s": {"type": "number", "exclusiveMinimum": 0},
                   "max_gap_factor": {"type": "number", "minimum": 1},
                   "required_signals": {"type": "array", "items": {"enum": list(SIGNALS)}, "minItems": 1}},
    "additionalProperties": False,
}
