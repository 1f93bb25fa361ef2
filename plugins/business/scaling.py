"""Position scaling through approved steps (plan lines 113-117).

``steps`` are the documented scaling approvals (inline in params, or the target's
``steps_file``, default ``config/scaling_steps.json`` holding ``{"steps": [...]}``): from a date
on, positions may reach ``max_contracts`` per instrument; before the first step ``initial_max_contracts`` (default 1)
applies. Every snapshot in ``records/positions`` is held to the step in force on its date;
reports the snapshots above it and the highest utilisation of the step in force.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema

from golive.model import CheckResult, Status
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data
from golive.plugins.records.common import ratio

STEPS_SCHEMA = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["from", "max_contracts"], "additionalProperties": False,
    "properties": {"from": {"type": "string", "format": "date"}, "max_contracts": {"type": "integer", "minimum": 0},
                   "approved_by": {"type": "string"}, "reference": {"type": "string"}}}}


def limit_on(day: date, steps: list[tuple[date, int]], initial: int) -> int:
    limit = initial
    for start, cap in steps:
        if day >= start:
            limit = cap
    return limit


def load_steps(ctx) -> list[dict] | CheckResult:
    if "steps" in ctx.params:
        return list(ctx.params["steps"])
    rel = Path(ctx.params.get("steps_file", "config/scaling_steps.json"))
    path = rel if rel.is_absolute() else ctx.target.root / rel
    if not path.exists():
        return CheckResult(status=Status.MISSING, message=f"{rel} not found (the documented scaling steps)")
    ctx.record_artifact(path)
    try:
        data = json.loads(path.read_text())
        jsonschema.validate(data, {"type": "object", "required": ["steps"], "properties": {"steps": STEPS_SCHEMA}})
        for i, step in enumerate(data["steps"]):
            date.fromisoformat(step["from"])
    except (ValueError, jsonschema.ValidationError) as exc:
        raise reader.RecordsError(str(rel), f"invalid scaling steps: {getattr(exc, 'message', exc)}",
                                  column="steps") from exc
    return data["steps"]


def check(requirement, ctx) -> CheckResult:
    raw = load_steps(ctx)
    if isinstance(raw, CheckResult):
        return raw
    steps = sorted((date.fromisoformat(s["from"]), int(s["max_contracts"])) for s in raw)
    initial = int(ctx.params.get("initial_max_contracts", 1))
    positions = reader.load(ctx, "positions", need=["ts", "symbol", "qty"])
    if positions.empty:
        return no_data("no rows in records/positions")
    over, util = [], 0.0
    for ts, sym, qty in zip(positions["ts"], positions["symbol"], positions["qty"]):
        cap = limit_on(ts.date(), steps, initial)
        util = max(util, abs(qty) / cap if cap else (float("inf") if qty else 0.0))
        if abs(qty) > cap:
            over.append({"ts": str(ts), "symbol": sym, "qty": int(qty), "step_limit": cap})
    return observe(CheckResult(
        metrics={"scaling_violations": len(over), "max_step_utilization": ratio(util), "steps": len(steps)},
        message=f"{len(over)} position snapshots above the scaling step in force",
        details={"rule": "|qty| <= max_contracts of the latest step with from <= snapshot date",
                 "steps": raw, "initial_max_contracts": initial, "violations": listed(over)}),
        "position snapshots", positions["ts"])


SPEC = make_spec("business", "scaling", check, "positions within the approved scaling step",
                 ("scaling_violations", "max_step_utilization", "steps"),
                 {"steps": STEPS_SCHEMA, "steps_file": {"type": "string"},
                  "initial_max_contracts": {"type": "integer", "minimum": 0}})
