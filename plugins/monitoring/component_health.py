"""System health monitoring: every component reports regularly and its latest state is ready.

Plan lines 137-163: "System health monitoring" (RISK-05).

The health checks' results are the heartbeats (``logs/heartbeats.jsonl``: ``ts``,
``component``, ``interval_s``, ``status`` ready|degraded|down, default ready). For each
component the check reports whether it reported at all (``expected_components``), its
latest status, how regularly it reported (share of its observed span covered by gaps no
longer than ``grace`` x its interval) and how old its latest report is.

Which components must report is the team's architecture, not golive's: ``expected_components``
comes from the plan's params, else ``expected_components`` in the target's ``golive.toml``
``[settings]``; unset, the result is ``missing`` ("configure expected_components", listing the
components seen), never a pass on whatever happened to report. No heartbeat at all is
``missing``; the heartbeats are reported as ``observed`` for the plan's ``min_period`` /
``max_age``.
"""
from __future__ import annotations

import numpy as np

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .observation import not_exercised, observe
from .columns import read_columns
from .opslog import PATH_PARAM, ArtifactError, age_seconds, guarded, input_path, iso, seconds

STATES = ("ready", "degraded", "down")


@guarded
def component_health(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "heartbeats", "logs/heartbeats.jsonl")
    beats = read_columns(path, required=("ts", "component", "interval_s"), numbers=("interval_s",),
                         texts={"component": "", "status": "ready"})
    ctx.record_artifact(path)
    grace = float(ctx.params.get("grace", 1.5))
    unknown = [c for c, s in enumerate(beats.labels["status"]) if s not in STATES]
    if unknown:
        row = int(np.argmax(np.isin(beats.codes["status"], unknown)))
        raise ArtifactError(beats.path, int(beats.line[row]), f"status must be one of {', '.join(STATES)}, "
                                                              f"got {beats.labels['status'][beats.codes['status'][row]]!r}")
    interval = beats.numbers("interval_s")
    if (interval <= 0).any():
        raise ArtifactError(beats.path, int(beats.line[np.argmax(interval <= 0)]), "interval_s must be positive")
    stamps = beats.ts["ts"]
    by_component = {name: np.flatnonzero(beats.codes["component"] == code)
                    for code, name in enumerate(beats.labels["component"])}
    seen = [stamps.min(), stamps.max()] if len(stamps) else []
    expected = ctx.params.get("expected_components") or ctx.settings.get("expected_components")
    if not by_component:
        return not_exercised("heartbeats", f"none in {path.name}")
    if not expected:
        result = CheckResult(status=Status.MISSING,
                             message=f"{requirement.id}: configure expected_components (golive.toml [settings], "
                                     f"the components that must report health); seen: {', '.join(sorted(by_component))}")
        result.configure = "expected_components in golive.toml [settings]"
        return observe(result, "heartbeats", seen, events=len(stamps))
    if not isinstance(expected, list) or not all(isinstance(c, str) for c in expected):
        raise ArtifactError("golive.toml", None, "[settings] expected_components must be a list of component names")
    missing = [c for c in expected if c not in by_component]
    rows, not_ready, coverages, ages = [], [], [], []
    for name, items in sorted(by_component.items()):
        items = items[np.argsort(stamps[items], kind="stable")]
        last = int(items[-1])
        span = float(stamps[last] - stamps[items[0]])
        # A report vouches for its own interval; a longer silence is uncovered (as in uptime).
        gaps, every = np.diff(stamps[items]), interval[items[:-1]]
        covered = float(np.where(gaps <= grace * every, gaps, every).sum())
        coverage = covered / span if span > 0 else 1.0
        state = beats.labels["status"][beats.codes["status"][last]]
        if state != "ready":
            not_ready.append(name)
        age = max(age_seconds(ctx, float(stamps[last])), 0.0)
        coverages.append(coverage)
        ages.append(age)
        rows.append({"component": name, "reports": len(items), "latest": state, "latest_at": iso(float(stamps[last])),
                     "coverage": round(coverage, 6)})
    return observe(CheckResult(
        metrics={"components": len(by_component), "components_missing": len(missing),
                 "components_not_ready": len(not_ready),
                 "health_check_coverage": Quantity(round(min(coverages), 6), "ratio"),
                 "last_check_age": seconds(max(ages))},
        message=f"{len(by_component)} components report; not ready: {', '.join(not_ready) or 'none'}"
                + (f"; never reported: {', '.join(missing)}" if missing else ""),
        details={"components": rows, "never_reported": missing,
                 "coverage_rule": f"gaps up to {grace:g} x the component's interval count as covered; "
                                  "the figure is the worst component's"},
    ), "heartbeats", seen, events=len(stamps))


SCHEMA = {
    "type": "object",
    "properties": {"heartbeats": PATH_PARAM, "grace": {"type": "number", "minimum": 1},
                   "expected_components": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}
