"""Processing latency percentiles from the latency log.

Plan lines 97-109 (System Reliability): "Processing latency (< 100 ms)" (LIVE-REL-07).

Each record of ``logs/latency.jsonl`` is one processed event with its end-to-end latency in
milliseconds (market data received to signal emitted). Records may name a ``stage``; only
the stage named by ``params.stage`` (default ``end_to_end``, also assumed when a record has
no stage) is measured, because summing stage latencies would count overlaps twice.
Percentiles are nearest-rank, so ``latency_p99 < 100 ms`` means 99 % of events were faster.
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .opslog import PATH_PARAM, ArtifactError, Record, guarded, input_path, iso, number, percentile, read_jsonl

LATENCY_DEFAULT = "logs/latency.jsonl"


def load_latency(ctx: CheckContext) -> list[Record]:
    """Latency records of the selected stage, each with a valid non-negative ``latency_ms``."""
    path = input_path(ctx, "latency", LATENCY_DEFAULT)
    records = read_jsonl(path, required=("ts", "latency_ms"))
    ctx.record_artifact(path)
    stage = ctx.params.get("stage", "end_to_end")
    selected = []
    for r in records:
        if r.get("stage", "end_to_end") != stage:
            continue
        if number(r, "latency_ms") < 0:
            raise ArtifactError(r.path, r.line, "latency_ms is negative")
        selected.append(r)
    return selected


def ms(value: float) -> Quantity:
    return Quantity(round(value, 3), "ms")


@guarded
def processing_latency(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    records = load_latency(ctx)
    if not records:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: no latency samples for stage "
                                   f"{ctx.params.get('stage', 'end_to_end')!r}")
    values = [float(r["latency_ms"]) for r in records]
    worst = sorted(records, key=lambda r: -float(r["latency_ms"]))[:10]
    return CheckResult(
        metrics={"latency_p99": ms(percentile(values, 99)), "latency_p95": ms(percentile(values, 95)),
                 "latency_p50": ms(percentile(values, 50)), "latency_max": ms(max(values)),
                 "samples": len(values)},
        message=f"{len(values)} samples, p99 {percentile(values, 99):.1f} ms",
        details={"method": "nearest-rank percentiles of latency_ms",
                 "stage": ctx.params.get("stage", "end_to_end"),
                 "from": iso(min(r["_ts"] for r in records)), "to": iso(max(r["_ts"] for r in records)),
                 "slowest": [{"at": r.where, "ts": iso(r["_ts"]), "latency_ms": r["latency_ms"]} for r in worst]},
    )


SCHEMA = {
    "type": "object",
    "properties": {"latency": PATH_PARAM, "stage": {"type": "string"}},
    "additionalProperties": False,
}
