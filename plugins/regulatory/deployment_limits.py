"""Limits set before deployment (section REG, REG-06; not in the firm's plan: RTS 6 Art. 8, SEC
15c3-5(b)).

Reads ``algorithms.yaml`` (each algorithm's ``limits`` and ``limits_set``; each pre-trade
control's ``set``) and ``records/orders`` (``algorithm_id``). Every inventoried algorithm that
traded needs limits, set no later than its first order; every control must be in force no later
than the first order it applies to. Algorithms the orders name that the inventory lacks are
REG-01's finding. Observes the inventoried algorithms that traded (their first orders): none,
``missing``.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import no_data
from golive.plugins.regulatory import inventory as inv


def check(requirement, ctx) -> CheckResult:
    inventory = inv.load(ctx)
    orders = inv.orders(ctx, optional=("algorithm_id",))
    ids = orders["algorithm_id"].map(inv.text)
    firsts = {a: orders[ids == a]["ts"].min() for a in sorted(set(ids)) if a in inventory.algorithms}
    if not firsts:
        return no_data("records/orders names no algorithm of algorithms.yaml: no deployment to judge")
    no_limits, late, rows = [], [], []
    for algo, first in firsts.items():
        entry = inventory.algorithms[algo]
        set_at = inv.when(str(entry["limits_set"]), inventory.file, f"algorithms[{algo}].limits_set") \
            if entry.get("limits_set") else None
        if not entry.get("limits"):
            no_limits.append(algo)
        elif set_at is None or set_at > first:
            late.append(algo)
        rows.append({"algorithm_id": algo, "first_order": str(first), "limits": entry.get("limits"),
                     "limits_set": None if set_at is None else set_at.isoformat()})
    late_controls = []
    for control in inventory.controls.values():
        scoped = [f for a, f in firsts.items() if control.covers(a)]
        first = min(scoped) if scoped else None
        if first is not None and (control.set is None or control.set > first):
            late_controls.append({"control_id": control.id, "set": None if control.set is None
                                  else control.set.isoformat(), "first_order": str(first)})
    return observe(CheckResult(
        metrics={"algorithms_traded": len(firsts), "algorithms_without_limits": len(no_limits),
                 "limits_set_after_first_order": len(late), "controls_set_after_first_order": len(late_controls)},
        message=(f"{len(firsts)} inventoried algorithm(s) traded"
                 + (f"; without limits: {', '.join(no_limits)}" if no_limits else "")
                 + (f"; limits set after (or without a date before) the first order: {', '.join(late)}"
                    if late else "")
                 + (f"; controls in force only after the first order: "
                    f"{', '.join(c['control_id'] for c in late_controls)}" if late_controls else "")
                 + ("" if no_limits or late or late_controls else "; limits and controls set before trading")),
        details={"rule": "limits_set and each control's set no later than the first order they govern",
                 "algorithms": rows, "controls_late": late_controls}),
        "first orders of inventoried algorithms", list(firsts.values()))


SPEC = inv.spec("limits_before_deployment", check,
                 "each traded algorithm's limits and each pre-trade control were set before its first order",
                 ("algorithms_traded", "algorithms_without_limits", "limits_set_after_first_order",
                  "controls_set_after_first_order"))
