"""Every order traceable to its algorithm and trader (section REG, REG-03; not in the firm's plan:
RTS 6 Art. 12(2) -- targeted cancellation per algorithm and trader -- and SEC 15c3-5(d)).

Reads ``records/orders`` (``algorithm_id``, ``trader_id``) and ``algorithms.yaml``. Reports the
orders naming no algorithm, no trader, or a trader who is not an approved operator of the
algorithm the order names. An algorithm missing from the inventory is REG-01's finding, not
counted here. Observes every order (``missing`` when there are none).
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import listed, no_data
from golive.plugins.regulatory import inventory as inv


def check(requirement, ctx) -> CheckResult:
    inventory = inv.load(ctx)
    orders = inv.orders(ctx, optional=("algorithm_id", "trader_id"))
    if orders.empty:
        return no_data("records/orders holds no order")
    no_algo, no_trader, unapproved = [], [], []
    for row in orders.itertuples(index=False):
        algo, trader = inv.text(row.algorithm_id), inv.text(row.trader_id)
        if not algo:
            no_algo.append(row.order_id)
        if not trader:
            no_trader.append(row.order_id)
        entry = inventory.algorithms.get(algo)
        if trader and entry is not None and trader not in (entry.get("approved_operators") or []):
            unapproved.append({"order_id": row.order_id, "algorithm_id": algo, "trader_id": trader})
    untraceable = sorted(set(no_algo) | set(no_trader))
    return observe(CheckResult(
        metrics={"orders": len(orders), "orders_without_algorithm": len(no_algo),
                 "orders_without_trader": len(no_trader), "orders_by_unapproved_trader": len(unapproved)},
        message=(f"{len(orders)} order(s): {len(untraceable)} not traceable to an algorithm and a trader"
                 + (f" ({', '.join(untraceable[:5])})" if untraceable else "")
                 + f", {len(unapproved)} by a trader not approved for the algorithm"),
        details={"rule": "every order names its algorithm and a trader who is an approved operator of it",
                 "without_algorithm": listed(no_algo), "without_trader": listed(no_trader),
                 "unapproved_trader": listed(unapproved)}),
        "orders", orders["ts"])


SPEC = inv.spec("order_traceability", check,
                 "every order names its algorithm and an approved trader",
                 ("orders", "orders_without_algorithm", "orders_without_trader", "orders_by_unapproved_trader"))
