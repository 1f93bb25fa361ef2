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

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .observation import not_exercised, observe
from .opslog import PATH_PARAM, ArtifactError, age_seconds, guarded, input_path, iso, number, read_jsonl, seconds

STATES = ("ready", "degraded", "down")


@guarded
def component_health(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "heartbeats", "logs/heartbeats.jsonl")
    beats = read_jsonl(path, required=("ts", "component", "interval_s"))
    ctx.record_artifact(path)
    grace = float(ctx.params.get("grace", 1.5))
    by_component: dict[str, list] = {}
    for b in beats:
        if b.get("status", "ready") not in STATES:
            raise ArtifactError(b.path, b.line, f"status must be one of {', '.join(STATES)}, got {b.get('status')!r}")
        if number(b, "interval_s") <= 0:
            raise ArtifactError(b.path, b.line, "interval_s must be positive")
        by_component.setdefault(str(b["component"]), []).append(b)
    expected = ctx.params.get("expected_components") or ctx.settings.get("expected_components")
    if not by_component:
        return not_exercised("heartbeats", f"none in {path.name}")
    if not expected:
        result = CheckResult(status=Status.MISSING,
                             message=f"{requirement.id}: configure expected_components (golive.toml [settings], "
                                     f"the components that must report health); seen: {', '.join(sorted(by_component))}")
        result.configure = "expected_components in golive.toml [settings]"
        return observe(result, "heartbeats", [b["_ts"] for b in beats])
    if not isinstance(expected, list) or not all(isinstance(c, str) for c in expected):
        raise ArtifactError("golive.toml", None, "[settings] expected_components must be a list of component names")
    missing = [c for c in expected if c not in by_component]
    rows, not_ready, coverages, ages = [], [], [], []
    for name, items in sorted(by_component.items()):
        items.sort(key=lambda b: b["_ts"])
        last = items[-1]
        span = last["_ts"] - items[0]["_ts"]
        # A report vouches for its own interval; a longer silence is uncovered (as in uptime).
        covered = 0.0
        for prev, cur in zip(items, items[1:]):
            gap, interval = cur["_ts"] - prev["_ts"], float(prev["interval_s"])
            covered += gap if gap <= grace * interval else interval
        coverage = covered / span if span > 0 else 1.0
        state = last.get("status", "ready")
        if state != "ready":
            not_ready.append(name)
        age = max(age_seconds(ctx, last["_ts"]), 0.0)
        coverages.append(coverage)
        ages.append(age)
        rows.append({"component": name, "reports": len(items), "latest": state, "latest_at": iso(last["_ts"]),
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
    ), "heartbeats", [b["_ts"] for b in beats])


SCHEMA = {
    "type": "object",
    "properties": {"heartbeats": PATH_PARAM, "grace": {"type": "number", "minimum": 1},
                   "expected_components": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}
