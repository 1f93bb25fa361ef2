"""CPU and memory (and disk, network) are sampled continuously: the monitoring itself works.

Plan lines 97-109 (System Reliability): "Memory/CPU monitoring" (LIVE-REL-06).

``health_monitoring`` judges the monitoring itself, not the values: which health signals
the metrics series carries (CPU, memory, disk, network; ``required_signals`` names those that
must be there), how much of the observed period is
covered by samples no further apart than ``max_gap_factor`` x the sampling interval, the
longest gap, and how old the last sample is.
"""
from __future__ import annotations

import statistics

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .opslog import PATH_PARAM, age_seconds, guarded, input_path, iso, read_jsonl, seconds

METRICS_DEFAULT = "logs/system_metrics.jsonl"
SIGNALS = {"cpu": "cpu_pct", "memory": "mem_pct", "disk": "disk_pct", "network": "net_rtt_ms"}


@guarded
def health_monitoring(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "metrics", METRICS_DEFAULT)
    samples = read_jsonl(path, required=("ts",))
    ctx.record_artifact(path)
    if len(samples) < 2:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: {path.name} has fewer than 2 samples")
    # One series per host: interleaved hosts would hide each other's gaps.
    hosts: dict[str, list[float]] = {}
    for s in samples:
        hosts.setdefault(str(s.get("host", "-")), []).append(s["_ts"])
    factor = float(ctx.params.get("max_gap_factor", 2.0))
    covered = total = 0.0
    max_gap, worst_gap, per_host = 0.0, None, {}
    for host, stamps in hosts.items():
        stamps.sort()
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        if not gaps:
            continue
        interval = float(ctx.params.get("interval_s") or statistics.median(gaps))
        ok = sum(g for g in gaps if g <= factor * interval)
        covered += ok
        total += stamps[-1] - stamps[0]
        host_gap = max(gaps)
        if host_gap > max_gap:
            i = gaps.index(host_gap)
            max_gap, worst_gap = host_gap, {"host": host, "from": iso(stamps[i]), "to": iso(stamps[i + 1])}
        per_host[host] = {"samples": len(stamps), "interval_s": interval, "last": iso(stamps[-1])}
    present = [name for name, field in SIGNALS.items() if any(s.get(field) is not None for s in samples)]
    required = list(ctx.params.get("required_signals", list(SIGNALS)))
    last = max(s["_ts"] for s in samples)
    metrics = {"signals_monitored": len(present), "signals_missing": len([r for r in required if r not in present]),
               "sampling_coverage": Quantity(round(covered / total, 6) if total else 0.0, "ratio"),
               "max_sample_gap": seconds(max_gap), "last_sample_age": seconds(max(age_seconds(ctx, last), 0.0)),
               "samples": len(samples)}
    return CheckResult(
        metrics=metrics,
        message=f"{len(present)}/{len(SIGNALS)} health signals sampled, coverage "
                f"{metrics['sampling_coverage'].value:.2%}, longest gap {max_gap:.0f} s",
        details={"signals": present, "not_monitored": [n for n in SIGNALS if n not in present],
                 "required_signals": required,
                 "coverage_rule": f"gaps up to {factor:g} x the sampling interval count as covered",
                 "longest_gap": worst_gap, "hosts": per_host},
    )



SCHEMA = {
    "type": "object",
    "properties": {"metrics": PATH_PARAM, "interval_s": {"type": "number", "exclusiveMinimum": 0},
                   "max_gap_factor": {"type": "number", "minimum": 1},
                   "required_signals": {"type": "array", "items": {"enum": list(SIGNALS)}, "minItems": 1}},
    "additionalProperties": False,
}
