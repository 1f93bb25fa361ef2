"""Memory leak detection over a continuous run: the RSS trend with a confidence bound.

Plan lines 3-15: "Memory management during continuous operation" (PRE-PIPE-06).

A single "last minus first" difference mistakes garbage-collector sawtooth and warm-up for a
leak. Instead, for every continuous run of the process (consecutive samples of one ``pid``
with no restart), after dropping the first ``warmup_fraction`` (default 10 %) of the run
as warm-up, RSS in MiB is regressed on time in hours by least squares. Samples of a
memory series are autocorrelated, which makes the ordinary standard error too small, so the
error is inflated to the effective sample size ``n (1 - r1) / (1 + r1)`` (r1 = lag-1
autocorrelation of the residuals). The reported growth is the slope times 24 h with its
two-sided 95 % Student-t interval; a leak is a *lower* bound above the plan's line.
Input: ``rss_bytes`` and ``pid`` in ``logs/system_metrics.jsonl`` (docs/ops-artifacts.md).
"""
from __future__ import annotations

import math

import numpy as np

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.records.stats import t_two_sided_p

from .columns import read_columns
from .opslog import PATH_PARAM, ArtifactError, guarded, input_path, iso

METRICS_DEFAULT = "logs/system_metrics.jsonl"
MIB = 1024.0 * 1024.0
Z95 = 1.959963984540054


def t_quantile_975(dof: float) -> float:
    """Two-sided 95 % Student-t quantile: the t with P(|T| > t) = 0.05 for ``dof`` degrees of
    freedom (fractional dof allowed: the effective sample size is rarely whole).

    Exact to ~1e-10: the tail probability is the regularised incomplete beta function
    (:func:`golive.plugins.records.stats.t_two_sided_p`), inverted by bisection; it is
    monotone in t, so bisection cannot miss. (A Cornish-Fisher series, used before, gave 9.71
    at dof 1 where the exact value is 12.706.) Known values: dof 1 -> 12.7062, 2 -> 4.3027,
    5 -> 2.5706, 30 -> 2.0423; as dof -> inf it tends to 1.95996.
    """
    if dof <= 0:
        return math.inf
    low, high = Z95, 10.0
    while t_two_sided_p(high, dof) > 0.05:  # heavy tails at small dof: widen until bracketed
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_two_sided_p(mid, dof) > 0.05:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * high:
            break
    return (low + high) / 2


def trend(hours, mib) -> dict[str, float]:
    """OLS slope (MiB/h) with an autocorrelation-corrected 95 % interval (arrays or lists)."""
    x, y = np.asarray(hours, dtype=float), np.asarray(mib, dtype=float)
    n = len(x)
    mx, my = float(x.mean()), float(y.mean())
    sxx = float(((x - mx) ** 2).sum())
    slope = float(((x - mx) * (y - my)).sum()) / sxx
    intercept = my - slope * mx
    resid = y - (intercept + slope * x)
    sse = float((resid * resid).sum())
    denom = sse or 1e-12
    r1 = float((resid[1:] * resid[:-1]).sum()) / denom
    r1 = min(max(r1, 0.0), 0.99)  # negative autocorrelation would shrink the error: ignore it
    n_eff = max(3.0, n * (1 - r1) / (1 + r1))
    dof = n_eff - 2
    se = math.sqrt(sse / max(n - 2, 1) / sxx) * math.sqrt((n - 2) / max(dof, 1e-9))
    half = t_quantile_975(dof) * se
    return {"slope": slope, "low": slope - half, "high": slope + half, "n_eff": n_eff,
            "lag1_autocorrelation": r1, "mean_mib": my}


@guarded
def memory_leak(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "metrics", METRICS_DEFAULT)
    cols = read_columns(path, required=("ts",), numbers=("rss_bytes",), texts={"pid": "?", "process": None})
    ctx.record_artifact(path)
    process = ctx.params.get("process")
    min_samples = int(ctx.params.get("min_samples", 30))
    min_hours = float(ctx.params.get("min_hours", 1.0))
    keep = cols.present("rss_bytes") & (cols.is_("process", process) if process else True)
    rows = np.flatnonzero(keep)
    rss = cols.numbers("rss_bytes", rows)
    negative = np.flatnonzero(rss < 0)
    if len(negative):
        raise ArtifactError(cols.path, int(cols.line[rows[negative[0]]]), "rss_bytes is negative")
    pids, stamps, mib = cols.codes["pid"][rows], cols.ts["ts"][rows], rss / MIB
    warmup = float(ctx.params.get("warmup_fraction", 0.1))
    fitted = []
    for code in dict.fromkeys(pids.tolist()):  # first-seen order, as the runs were listed
        pid = cols.labels["pid"][code]
        mine = pids == code
        order = np.lexsort((mib[mine], stamps[mine]))
        t, m = stamps[mine][order], mib[mine][order]
        # Caches and pools fill during warm-up; growth there is not a leak.
        after = t >= t[0] + warmup * (t[-1] - t[0])
        t, m = t[after], m[after]
        span_h = float(t[-1] - t[0]) / 3600 if len(t) else 0
        if len(t) < min_samples or span_h < min_hours:
            continue
        fit = trend((t - t[0]) / 3600, m)
        fitted.append({"pid": pid, "samples": len(t), "hours": round(span_h, 3),
                       "start": iso(float(t[0])), "end": iso(float(t[-1])), **fit})
    if not fitted:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: no continuous run with >= {min_samples} RSS samples "
                                   f"over >= {min_hours} h in {path.name} (fields rss_bytes, pid)")
    # The longest run carries the most information about slow leaks; the others are shown.
    main = max(fitted, key=lambda f: f["hours"])
    per_day = 24.0
    metrics = {
        "rss_growth_per_day": Quantity(round(main["slope"] * per_day, 3), "MiB"),
        "rss_growth_per_day_lower": Quantity(round(main["low"] * per_day, 3), "MiB"),
        "rss_growth_per_day_upper": Quantity(round(main["high"] * per_day, 3), "MiB"),
        "rss_growth_ratio_per_day_lower": Quantity(round(main["low"] * per_day / main["mean_mib"], 6), "ratio"),
        "observed_hours": Quantity(main["hours"], "h"),
        "samples": main["samples"],
    }
    leak_like = [f["pid"] for f in fitted if f["low"] > 0]
    result = CheckResult(
        metrics=metrics,
        message=(f"longest continuous run (pid {main['pid']}, {main['hours']:.1f} h): RSS trend "
                 f"{main['slope'] * per_day:+.1f} MiB/day, 95 % CI [{main['low'] * per_day:+.1f}, "
                 f"{main['high'] * per_day:+.1f}]"),
        details={"method": f"OLS of RSS (MiB) on time (h) per continuous run after the first {warmup:.0%} "
                           "(warm-up), 95 % Student-t interval "
                           "with the effective sample size corrected for lag-1 autocorrelation; "
                           "growth per day = slope x 24",
                 "runs": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in f.items()} for f in fitted],
                 "runs_with_positive_lower_bound": leak_like},
    )
    result.observed = {"events": main["samples"], "first": main["start"], "newest": max(f["end"] for f in fitted),
                       "what": "RSS samples of a continuous run"}
    return result


SCHEMA = {
    "type": "object",
    "properties": {"metrics": PATH_PARAM, "process": {"type": "string"},
                   "min_samples": {"type": "integer", "minimum": 3},
                   "min_hours": {"type": "number", "exclusiveMinimum": 0},
                   "warmup_fraction": {"type": "number", "minimum": 0, "maximum": 0.9}},
    "additionalProperties": False,
}
