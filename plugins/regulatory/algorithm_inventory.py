"""Algorithm inventory complete and matching the trading records (section REG, REG-01; not in the
firm's plan: RTS 6 Art. 1 and Annex I(2), FINRA 15-09 "General Risk Assessment and Response").

Reads ``algorithms.yaml`` and ``records/orders`` (``algorithm_id``, ``venue``). Reports the
algorithms listed, the entries lacking a required field (owner, venues, strategies, limits,
approved operators, last material change), the algorithm ids the orders name that the inventory
lacks, and the orders sent to a venue their algorithm does not list. Observes the orders that
name an algorithm: with none, there is nothing to hold the inventory against (``missing``).
Orders naming no algorithm are REG-03's (traceability), not counted here.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import listed, no_data
from golive.plugins.regulatory import inventory as inv

def check(requirement, ctx) -> CheckResult:
    inventory = inv.load(ctx)
    orders = inv.orders(ctx, optional=("algorithm_id", "venue"))
    ids = orders["algorithm_id"].map(inv.text)
    named = orders[ids != ""]
    if named.empty:
        return no_data("records/orders names no algorithm (column algorithm_id): nothing to check the "
                       "inventory against")
    incomplete = {a: inventory.missing_fields(a) for a in inventory.algorithms}
    incomplete = {a: f for a, f in incomplete.items() if f}
    traded = sorted(set(named["algorithm_id"].map(inv.text)))
    unknown = [a for a in traded if a not in inventory.algorithms]
    off_venue = []
    for row in named.itertuples(index=False):
        entry = inventory.algorithms.get(inv.text(row.algorithm_id))
        venue = inv.text(row.venue)
        if entry is not None and venue and venue not in (entry.get("venues") or []):
            off_venue.append({"order_id": row.order_id, "algorithm_id": row.algorithm_id, "venue": venue})
    first_orders = {a: str(named[named["algorithm_id"].map(inv.text) == a]["ts"].min()) for a in unknown}
    return observe(CheckResult(
        metrics={"algorithms": len(inventory.algorithms), "entries_incomplete": len(incomplete),
                 "traded_not_in_inventory": len(unknown), "orders_on_unlisted_venue": len(off_venue)},
        message=(f"{len(inventory.algorithms)} algorithm(s) in {inventory.file}; {len(traded)} traded"
                 + (f"; not in the inventory: {', '.join(unknown)}" if unknown else "")
                 + ("; incomplete: " + "; ".join(f"{a} lacks {', '.join(f)}" for a, f in incomplete.items())
                    if incomplete else "")),
        details={"rule": "every traded algorithm is in the inventory with owner, venues, strategies, limits, "
                         "approved operators and last material change, and trades only on its venues",
                 "inventory": inventory.file, "traded": traded, "incomplete": incomplete,
                 "not_in_inventory": [{"algorithm_id": a, "first_order": first_orders[a]} for a in unknown],
                 "orders_on_unlisted_venue": listed(off_venue)}),
        "orders naming an algorithm", named["ts"])


SPEC = inv.spec("algorithm_inventory", check,
                 "algorithms.yaml lists every traded algorithm, complete, with the venues it trades on",
                 ("algorithms", "entries_incomplete", "traded_not_in_inventory", "orders_on_unlisted_venue"))
