"""Processing latency percentiles from the latency log.

Plan lines 97-109 (System Reliability): "Processing latency (< 100 ms)" (LIVE-REL-07).

Each record of ``logs/latency.jsonl`` is one processed event with its end-to-end latency in
milliseconds (market data received to signal emitted). Records may name a ``stage``; only
the stage named by ``params.stage`` (default ``end_to_end``, also assumed when a record has
no stage) is measured, because summing stage latencies would count overlaps twice.
Percentiles are nearest-rank, so ``latency_p99 < 100 ms`` means 99 % of events were faster.
"""
from __future__ import annotations

import math

import numpy as np

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .columns import Columns, read_columns
from .observation import observe
from .opslog import PATH_PARAM, ArtifactError, guarded, input_path, iso

LATENCY_DEFAULT = "logs/latency.jsonl"


def load_latency(ctx: CheckContext) -> tuple[Columns, np.ndarray]:
    """The latency log (streamed into columns) and the ``latency_ms`` of the selected stage,
    each a valid non-negative number; rows of the stage are ``columns.is_("stage", stage)``."""
    path = input_path(ctx, "latency", LATENCY_DEFAULT)
    cols = read_columns(path, required=("ts", "latency_ms"), numbers=("latency_ms", "backlog"),
                        texts={"stage": "end_to_end", "ok": True})
    ctx.record_artifact(path)
    rows = np.flatnonzero(cols.is_("stage", ctx.params.get("stage", "end_to_end")))
    values = cols.numbers("latency_ms", rows)
    negative = np.flatnonzero(values < 0)
    if len(negative):
        raise ArtifactError(cols.path, int(cols.line[rows[negative[0]]]), "latency_ms is negative")
    return cols, rows


def ms(value: float) -> Quantity:
    return Quantity(round(value, 3), "ms")


def nearest_rank(ordered: np.ndarray, q: float) -> float:
    """:func:`.opslog.percentile` on an already sorted array."""
    return float(ordered[max(1, math.ceil(q / 100.0 * len(ordered))) - 1])


@guarded
def processing_latency(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    cols, rows = load_latency(ctx)
    if not len(rows):
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: no latency samples for stage "
                                   f"{ctx.params.get('stage', 'end_to_end')!r}")
    values = cols.num["latency_ms"][rows]
    ordered = np.sort(values)
    worst = rows[np.argsort(-values, kind="stable")[:10]]
    stamps = cols.ts["ts"][rows]
    p99 = nearest_rank(ordered, 99)
    return observe(CheckResult(
        metrics={"latency_p99": ms(p99), "latency_p95": ms(nearest_rank(ordered, 95)),
                 "latency_p50": ms(nearest_rank(ordered, 50)), "latency_max": ms(float(ordered[-1])),
                 "samples": len(values)},
        message=f"{len(values)} samples, p99 {p99:.1f} ms",
        details={"method": "nearest-rank percentiles of latency_ms",
                 "stage": ctx.params.get("stage", "end_to_end"),
                 "from": iso(float(stamps.min())), "to": iso(float(stamps.max())),
                 "slowest": [{"at": cols.where(r), "ts": iso(float(cols.ts["ts"][r])),
                              "latency_ms": _plain(cols.num["latency_ms"][r])} for r in worst]},
    ), "latency samples", [float(stamps.min()), float(stamps.max())], events=len(values))


def _plain(value: float) -> int | float:
    """The logged number as JSON had it (12, not 12.0)."""
    return int(value) if float(value).is_integer() else float(value)


SCHEMA = {
    "type": "object",
    "properties": {"latency": PATH_PARAM, "stage": {"type": "string"}},
    "additionalProperties": False,
}
