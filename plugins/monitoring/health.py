"""System health monitoring is in place and working, and network quality is tracked.

Plan lines 137-163: "System health monitoring" (RISK-05) and "Network quality tracking"
(RISK-07).

``health_monitoring`` judges the monitoring itself, not the values: which health signals
the metrics series carries (CPU, memory, disk, network; ``required_signals`` names those that
must be there), how much of the observed period is
covered by samples no further apart than ``max_gap_factor`` x the sampling interval, the
longest gap, and how old the last sample is. ``network_quality`` reports round-trip time
and packet loss from the same series (``net_rtt_ms``, ``net_loss_pct``).
"""
from __future__ import annotations

import statistics

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .opslog import (PATH_PARAM, ArtifactError, age_seconds, guarded, input_path, iso, number,
                     percentile, read_jsonl, seconds)

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


@guarded
def network_quality(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "metrics", METRICS_DEFAULT)
    samples = read_jsonl(path, required=("ts",))
    ctx.record_artifact(path)
    # Samples may name the destination they measured (net_target: a data source or the
    # broker); the figures are the worst destination's so one bad link is not averaged away.
    rtt: dict[str, list[float]] = {}
    loss: dict[str, list[float]] = {}
    for s in samples:
        target = str(s.get("net_target", "default"))
        if s.get("net_rtt_ms") is not None:
            v = number(s, "net_rtt_ms")
            if v < 0:
                raise ArtifactError(s.path, s.line, f"net_rtt_ms must be >= 0, got {v}")
            rtt.setdefault(target, []).append(v)
        if s.get("net_loss_pct") is not None:
            v = number(s, "net_loss_pct")
            if not 0 <= v <= 100:
                raise ArtifactError(s.path, s.line, f"net_loss_pct must be 0..100, got {v}")
            loss.setdefault(target, []).append(v)
    if not rtt or not loss:
        absent = [f for f, got in (("net_rtt_ms", rtt), ("net_loss_pct", loss)) if not got]
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: {path.name} has no {' or '.join(absent)} samples")
    per = {t: {"rtt_p95_ms": percentile(rtt[t], 95) if t in rtt else None,
               "loss_mean_pct": round(sum(loss[t]) / len(loss[t]), 4) if t in loss else None,
               "samples": len(rtt.get(t, [])) or len(loss.get(t, []))} for t in sorted(set(rtt) | set(loss))}
    metrics: dict = {"net_targets": len(per)}
    if rtt:
        metrics |= {"net_rtt_p95": Quantity(max(percentile(v, 95) for v in rtt.values()), "ms"),
                    "net_rtt_max": Quantity(max(max(v) for v in rtt.values()), "ms"),
                    "net_rtt_samples": sum(len(v) for v in rtt.values())}
    if loss:
        metrics |= {"net_loss_mean": Quantity(max(round(sum(v) / len(v), 4) for v in loss.values()), "%"),
                    "net_loss_max": Quantity(max(max(v) for v in loss.values()), "%")}
    return CheckResult(metrics=metrics,
                       message=f"rtt p95 {metrics['net_rtt_p95'].value:.1f} ms, loss mean "
                               f"{metrics['net_loss_mean'].value:.3f} % (worst of {len(per)} destination(s))",
                       details={"method": "per destination (net_target): nearest-rank p95 of net_rtt_ms, mean and "
                                          "max of net_loss_pct; metrics are the worst destination's",
                                "destinations": per})


SCHEMA = {
    "type": "object",
    "properties": {"metrics": PATH_PARAM, "interval_s": {"type": "number", "exclusiveMinimum": 0},
                   "max_gap_factor": {"type": "number", "minimum": 1},
                   "required_signals": {"type": "array", "items": {"enum": list(SIGNALS)}, "minItems": 1}},
    "additionalProperties": False,
}
NETWORK_SCHEMA = {"type": "object", "properties": {"metrics": PATH_PARAM}, "additionalProperties": False}
