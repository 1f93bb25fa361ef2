"""Kill functionality drills per venue (section REG, REG-02; not in the firm's plan: RTS 6 Art. 12,
FINRA 15-09 "Trading Systems"). RISK-04 (plan lines 140-144) judges the stop as a whole; this
check times it venue by venue from the venues' cancel acknowledgements.

For each record of ``records/kill_switch_drills`` the orders resting at ``ts_triggered`` (sent
before it, not final before it) are grouped by ``venue``; each needs a cancel in
``records/cancels`` acknowledged after the trigger and by ``ts_completed``. Per venue and drill:
seconds from the trigger to the last acknowledgement (a venue with an order not acknowledged by
``ts_completed`` counts the drill's whole duration, a lower bound). Reports the venues traded, the venues no
drill had resting orders on, the slowest venue's time and the resting orders not cancelled in
time. Observes the resting orders the drills met: drills that met none exercised nothing
(``missing``).
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.monitoring.observation import not_exercised, observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data
from golive.plugins.regulatory import inventory as inv


def _first_acks(cancels) -> dict:
    acks: dict = {}
    for order_id, ts in zip(cancels["order_id"], cancels["ts"]):
        acks.setdefault(order_id, []).append(ts)
    return acks


def drill_by_venue(drill, orders, acks) -> tuple[list[dict], list[dict]]:
    """Per venue: resting orders, last acknowledgement (s after the trigger); and the orders not cancelled."""
    trig, done = drill.ts_triggered, drill.ts_completed
    final = orders["ts_final"]
    resting = orders[(orders["ts"] <= trig) & (final.isna() | (final > trig))]
    venues, missed = [], []
    for venue, group in resting.groupby(resting["venue"].map(inv.text), sort=True):
        times = []
        for order_id in group["order_id"]:
            ack = min((t for t in acks.get(order_id, ()) if t >= trig), default=None)
            if ack is None or ack > done:
                missed.append({"drill_id": drill.drill_id, "venue": venue or "(none)", "order_id": order_id,
                               "acknowledged": None if ack is None else str(ack)})
            else:
                times.append((ack - trig).total_seconds())
        # an order not acknowledged by ts_completed: the venue took at least the drill's whole duration
        slowest = max(times) if len(times) == len(group) else (done - trig).total_seconds()
        venues.append({"drill_id": drill.drill_id, "venue": venue or "(none)", "resting_orders": len(group),
                       "cancelled": len(times), "cancel_time_s": slowest,
                       "complete": len(times) == len(group)})
    return venues, missed


def check(requirement, ctx) -> CheckResult:
    drills = reader.load(ctx, "kill_switch_drills", need=["drill_id", "ts_triggered", "ts_completed"],
                         optional=["kind"])
    if drills.empty:
        return no_data("records/kill_switch_drills holds no drill")
    orders = inv.orders(ctx, need=("venue",), optional=("ts_final",))
    cancels = reader.load(ctx, "cancels", need=["ts", "order_id"], optional=["venue", "reason"])
    acks = _first_acks(cancels)
    per_venue, missed = [], []
    for drill in drills.itertuples(index=False):
        venues, not_cancelled = drill_by_venue(drill, orders, acks)
        per_venue += venues
        missed += not_cancelled
    resting = sum(v["resting_orders"] for v in per_venue)
    traded = sorted(set(orders["venue"].map(inv.text)) - {""})
    drilled = sorted({v["venue"] for v in per_venue if v["complete"]})
    undrilled = [v for v in traded if v not in drilled]
    metrics = {"drills": len(drills), "venues_traded": len(traded), "venues_not_drilled": len(undrilled),
               "resting_not_cancelled": len(missed)}
    details = {"rule": "per venue, every order resting at the trigger has a cancel acknowledged by ts_completed; "
                       "every venue traded is drilled", "venues": per_venue, "not_drilled": undrilled,
               "not_cancelled": listed(missed)}
    if not resting:
        return not_exercised("resting orders at a kill-switch trigger",
                             "a drill must trigger while orders rest on each venue", metrics=metrics, details=details)
    slowest = max(per_venue, key=lambda v: v["cancel_time_s"])
    metrics["max_venue_cancel_time"] = Quantity(slowest["cancel_time_s"], "s")
    return observe(CheckResult(
        metrics=metrics, details=details,
        message=(f"{len(drills)} drill(s), {resting} resting order(s) on {len({v['venue'] for v in per_venue})} "
                 f"venue(s); slowest venue {slowest['venue']} {slowest['cancel_time_s']:.3f} s"
                 + (f"; not drilled: {', '.join(undrilled)}" if undrilled else "")
                 + (f"; {len(missed)} resting order(s) not cancelled in time" if missed else ""))),
        "resting orders at kill-switch triggers", [d for d in drills["ts_triggered"]], events=resting)


SPEC = make_spec("regulatory", "kill_drills", check,
                 "each venue's resting orders are cancelled at a kill-switch trigger, timed per venue",
                 ("drills", "venues_traded", "venues_not_drilled", "max_venue_cancel_time", "resting_not_cancelled"))
