"""Pre-trade controls inventoried and proven by their rejections (section REG, REG-04; not in the
firm's plan: RTS 6 Art. 15, SEC 15c3-5(c)(1)(i)-(ii)).

Reads the controls of ``algorithms.yaml`` (``pretrade_controls``: price collar, maximum order
value, maximum order volume, message throttle, credit threshold, duplicate-order prevention,
each with its limit), ``records/rejections`` (orders a control refused, citing its
``control_id``), ``records/orders`` (the accepted orders) and ``records/instruments``
(multipliers). Reports the required kinds the inventory lacks, the controls that never fired (no
rejection citing them shows a value beyond their limit: unproven), the accepted orders that
break a control's limit (let through) and the rejections that do not show a breach or cite an
unknown control. Observes accepted orders and rejections: with neither, ``missing``.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, no_data
from golive.plugins.records.common import instruments
from golive.plugins.regulatory import inventory as inv
from golive.plugins.regulatory.control_rules import justified, violations

REJECTION_COLUMNS = ["symbol", "side", "qty", "order_type", "limit_price", "reference_price", "algorithm_id",
                     "trader_id", "venue", "observed_value", "reason"]


def check(requirement, ctx) -> CheckResult:
    inventory = inv.load(ctx)
    required = list(ctx.params.get("required_kinds") or inv.CONTROL_KINDS)
    orders = inv.orders(ctx, optional=("algorithm_id", "limit_price", "stop_price", "expected_price"))
    rejections = reader.load(ctx, "rejections", need=["ts", "order_id", "control_id", "qty"],
                             optional=[c for c in REJECTION_COLUMNS if c != "qty"])
    if orders.empty and rejections.empty:
        return no_data("records/orders and records/rejections hold no order: no control was exercised")
    multipliers = {s: m for s, (_, m) in instruments(ctx).items()} if reader.exists(ctx, "instruments") else {}
    fired = {c: 0 for c in inventory.controls}
    unjustified = []
    for row in rejections.itertuples(index=False):
        control = inventory.controls.get(row.control_id)
        if control is None:
            unjustified.append({"order_id": row.order_id, "control_id": row.control_id,
                                "why": "cites a control algorithms.yaml does not list"})
        elif justified(control, row, multipliers.get(getattr(row, "symbol", None))):
            fired[control.id] += 1
        else:
            unjustified.append({"order_id": row.order_id, "control_id": row.control_id,
                                "why": f"its values do not break the {control.kind} limit {control.limit}"})
    let_through = {c.id: violations(c, orders, multipliers) for c in inventory.controls.values()}
    through = [{"control_id": c, **v} for c, vs in let_through.items() for v in vs]
    kinds = {c.kind for c in inventory.controls.values()}
    lacking = [k for k in required if k not in kinds]
    never = [c for c, n in fired.items() if n == 0]
    per_control = [{"control_id": c.id, "kind": c.kind, "limit": c.limit, "rejections": fired[c.id],
                    "let_through": len(let_through[c.id])} for c in inventory.controls.values()]
    problems = ([f"never fired: {', '.join(never)}"] if never else []) + \
        ([f"{len(through)} violating order(s) let through ({', '.join(sorted({t['control_id'] for t in through}))})"]
         if through else []) + ([f"missing kinds: {', '.join(lacking)}"] if lacking else []) + \
        ([f"{len(unjustified)} rejection(s) not showing a breach"] if unjustified else [])
    return observe(CheckResult(
        metrics={"controls": len(inventory.controls), "control_kinds_missing": len(lacking),
                 "controls_never_fired": len(never), "violations_let_through": len(through),
                 "rejections_unjustified": len(unjustified)},
        message=(f"{len(inventory.controls)} pre-trade control(s), {len(rejections)} rejection(s), "
                 f"{len(orders)} accepted order(s)" + (": " + "; ".join(problems) if problems else
                                                        ": each control fired and none let a violation through")),
        details={"rule": "each control of the inventory has a rejection beyond its limit, no accepted order breaks "
                         "a limit, every required kind is inventoried", "controls": per_control,
                 "kinds_missing": lacking, "never_fired": never, "let_through": listed(through),
                 "unjustified_rejections": listed(unjustified)}),
        "accepted orders and control rejections", [*orders["ts"], *rejections["ts"]])


SPEC = inv.spec("pretrade_controls", check,
                 "pre-trade controls inventoried, each proven by a rejection, none letting a violation through",
                 ("controls", "control_kinds_missing", "controls_never_fired", "violations_let_through",
                  "rejections_unjustified"),
                 properties={"required_kinds": {"type": "array", "items": {"enum": list(inv.CONTROL_KINDS)},
                                                "description": "kinds of control the inventory must hold "
                                                               "(default: all six)"}})
