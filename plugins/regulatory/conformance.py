"""Conformance testing per venue (section REG, REG-05; not in the firm's plan: RTS 6 Art. 6).

Reads ``records/conformance_tests`` (test id, completion time, venue, result pass/fail),
``records/orders`` (``venue``, ``algorithm_id``) and ``algorithms.yaml`` (each algorithm's
``last_material_change.date``). Every venue the orders use needs a passed test completed before
its first order there, and one completed after the last material change of every inventoried
algorithm that traded there. Observes the venues traded (dated by their first order): none,
``missing``.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import no_data
from golive.plugins.regulatory import inventory as inv


def check(requirement, ctx) -> CheckResult:
    inventory = inv.load(ctx)
    orders = inv.orders(ctx, need=("venue",), optional=("algorithm_id",))
    tests = reader.load(ctx, "conformance_tests", need=["test_id", "ts", "venue", "result"], optional=["scope"])
    reader.check_values(ctx, "conformance_tests", tests, "result", ("pass", "fail"))
    venues = orders[orders["venue"].map(inv.text) != ""]
    if venues.empty:
        return no_data("records/orders names no venue: no venue to hold conformance tests against")
    passed = tests[tests["result"] == "pass"]
    rows, untested, not_retested, firsts = [], [], [], []
    for venue, group in venues.groupby(venues["venue"].map(inv.text), sort=True):
        first = group["ts"].min()
        firsts.append(first)
        at_venue = passed[passed["venue"] == venue]["ts"]
        before = at_venue[at_venue <= first]
        changes = {}
        for algo in sorted(set(group["algorithm_id"].map(inv.text)) - {""}):
            change = (inventory.algorithms.get(algo) or {}).get("last_material_change") or {}
            if change.get("date"):
                changes[algo] = inv.when(str(change["date"]), inventory.file,
                                         f"algorithms[{algo}].last_material_change.date")
        stale = [a for a, when in changes.items() if not (at_venue >= when).any()]
        if before.empty:
            untested.append(venue)
        if stale:
            not_retested.append({"venue": venue, "algorithms": stale})
        rows.append({"venue": venue, "first_order": str(first), "passed_tests": len(at_venue),
                     "last_pass_before_first_order": str(before.max()) if not before.empty else None,
                     "not_retested_after_change_of": stale})
    return observe(CheckResult(
        metrics={"venues": len(rows), "venues_not_conformance_tested": len(untested),
                 "venues_not_retested_after_change": len(not_retested)},
        message=(f"{len(rows)} venue(s) traded, {len(passed)} passed conformance test(s)"
                 + (f"; no passed test before the first order: {', '.join(untested)}" if untested else "")
                 + (f"; not retested after a material change: {', '.join(v['venue'] for v in not_retested)}"
                    if not_retested else "")),
        details={"rule": "a passed conformance test at each venue before its first order and after the last "
                         "material change of each algorithm trading there", "venues": rows}),
        "venues traded (first orders)", firsts)


SPEC = inv.spec("venue_conformance", check,
                 "each venue passed a conformance test before its first order and after material changes",
                 ("venues", "venues_not_conformance_tested", "venues_not_retested_after_change"))
