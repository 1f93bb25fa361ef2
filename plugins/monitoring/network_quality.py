"""Network quality tracking: round-trip time and packet loss to each destination.

Plan lines 137-163 (Risk Management and Monitoring): "Network quality tracking" (RISK-07).

Samples of ``logs/system_metrics.jsonl`` carry ``net_rtt_ms`` and ``net_loss_pct`` and may
name the destination they measured (``net_target``: a data source or the broker). Both
signals must be recorded; the reported p95 round-trip time, mean and max loss are the worst
destination's, so one bad link is not averaged away by good ones.
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .opslog import PATH_PARAM, ArtifactError, guarded, input_path, number, percentile, read_jsonl

METRICS_DEFAULT = "logs/system_metrics.jsonl"


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


SCHEMA = {"type": "object", "properties": {"metrics": PATH_PARAM}, "additionalProperties": False}
