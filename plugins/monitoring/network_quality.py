"""Network quality tracking: round-trip time and packet loss to each destination.

Plan lines 137-163 (Risk Management and Monitoring): "Network quality tracking" (RISK-07).

Samples of ``logs/system_metrics.jsonl`` carry ``net_rtt_ms`` and ``net_loss_pct`` and may
name the destination they measured (``net_target``: a data source or the broker). Both
signals must be recorded; the reported p95 round-trip time, mean and max loss are the worst
destination's, so one bad link is not averaged away by good ones.
"""
from __future__ import annotations

import numpy as np

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .columns import read_columns
from .latency import nearest_rank
from .observation import observe
from .opslog import PATH_PARAM, ArtifactError, guarded, input_path

METRICS_DEFAULT = "logs/system_metrics.jsonl"


@guarded
def network_quality(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "metrics", METRICS_DEFAULT)
    cols = read_columns(path, required=("ts",), numbers=("net_rtt_ms", "net_loss_pct"),
                        texts={"net_target": "default"})
    ctx.record_artifact(path)
    # Samples may name the destination they measured (net_target: a data source or the
    # broker); the figures are the worst destination's so one bad link is not averaged away.
    rtt = _per_target(cols, "net_rtt_ms", lambda v: v < 0, "must be >= 0")
    loss = _per_target(cols, "net_loss_pct", lambda v: (v < 0) | (v > 100), "must be 0..100")
    if not rtt or not loss:
        absent = [f for f, got in (("net_rtt_ms", rtt), ("net_loss_pct", loss)) if not got]
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: {path.name} has no {' or '.join(absent)} samples")
    per = {t: {"rtt_p95_ms": nearest_rank(rtt[t], 95) if t in rtt else None,
               "loss_mean_pct": round(float(loss[t].sum()) / len(loss[t]), 4) if t in loss else None,
               "samples": len(rtt.get(t, [])) or len(loss.get(t, []))} for t in sorted(set(rtt) | set(loss))}
    metrics: dict = {"net_targets": len(per)}
    if rtt:
        metrics |= {"net_rtt_p95": Quantity(max(nearest_rank(v, 95) for v in rtt.values()), "ms"),
                    "net_rtt_max": Quantity(max(float(v[-1]) for v in rtt.values()), "ms"),
                    "net_rtt_samples": sum(len(v) for v in rtt.values())}
    if loss:
        metrics |= {"net_loss_mean": Quantity(max(round(float(v.sum()) / len(v), 4) for v in loss.values()), "%"),
                    "net_loss_max": Quantity(max(float(v[-1]) for v in loss.values()), "%")}
    sampled = cols.ts["ts"][cols.present("net_rtt_ms") | cols.present("net_loss_pct")]
    return observe(CheckResult(metrics=metrics,
                               message=f"rtt p95 {metrics['net_rtt_p95'].value:.1f} ms, loss mean "
                                       f"{metrics['net_loss_mean'].value:.3f} % (worst of {len(per)} destination(s))",
                               details={"method": "per destination (net_target): nearest-rank p95 of net_rtt_ms, "
                                                  "mean and max of net_loss_pct; metrics are the worst destination's",
                                        "destinations": per}),
                   "network samples", [float(sampled.min()), float(sampled.max())], events=len(sampled))


def _per_target(cols, field: str, wrong, rule: str) -> dict[str, np.ndarray]:
    """The sorted values of ``field`` per destination, after checking each against ``rule``
    (the first violation in the file is the error, naming its line)."""
    rows = np.flatnonzero(cols.present(field))
    values = cols.numbers(field, rows)
    bad = np.flatnonzero(wrong(values))
    if len(bad):
        raise ArtifactError(cols.path, int(cols.line[rows[bad[0]]]), f"{field} {rule}, got {float(values[bad[0]])}")
    codes = cols.codes["net_target"][rows]
    return {str(cols.labels["net_target"][c]): np.sort(values[codes == c]) for c in np.unique(codes)}


SCHEMA = {"type": "object", "properties": {"metrics": PATH_PARAM}, "additionalProperties": False}
