"""Trade reconciliation against the broker statement (plan lines 200-204).

Internal fills (``records/fills``) are matched to the broker's executions
(``records/broker_statement``) by execution id; a matched pair must agree exactly on order id,
symbol, side, quantity, price and fees (decimals compared exactly). Lists fills missing at the
broker, broker executions missing internally, and mismatched pairs with the differing fields.
Fills are streamed (a large file is not held); the statement's executions are held, a tuple each.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import MAX_LISTED, TimeSpan, listed, make_spec, no_data
from golive.plugins.records.common import ratio

FIELDS = ("order_id", "symbol", "side", "qty", "price", "fees")


class Smallest:
    """The ``keep`` smallest items (by ``key``) of a stream, and how many there were: a sorted list
    cut to its head, without holding the whole stream."""

    def __init__(self, key=lambda item: item, keep: int = MAX_LISTED + 1) -> None:
        self.key, self.keep, self.count, self.items = key, keep, 0, []

    def add(self, item) -> None:
        self.count += 1
        self.items.append(item)
        if len(self.items) >= 8 * self.keep:
            self.items = sorted(self.items, key=self.key)[:self.keep]

    def listed(self) -> dict:
        return listed(sorted(self.items, key=self.key)[:self.keep], self.count)


def check(requirement, ctx) -> CheckResult:
    fills = trading.fill_scan(ctx)  # validated now; its rows are read chunk by chunk below
    stmt = trading.fills(ctx, "broker_statement")
    if fills.empty and stmt.empty:
        return no_data("no fills and no broker executions to reconcile")
    broker = {r.exec_id: tuple(getattr(r, f) for f in FIELDS) for r in stmt.itertuples(index=False)}
    missing, mismatched, seen_at_broker = Smallest(), Smallest(key=lambda m: m["exec_id"]), set()
    span = TimeSpan()
    for chunk in fills:
        span.add(chunk["ts"])
        for r in chunk.itertuples(index=False):
            theirs = broker.get(r.fill_id)
            if theirs is None:
                missing.add(r.fill_id)
                continue
            seen_at_broker.add(r.fill_id)
            ours = tuple(getattr(r, f) for f in FIELDS)
            diffs = {f: {"internal": str(a), "broker": str(b)} for f, a, b in zip(FIELDS, ours, theirs) if a != b}
            if diffs:
                mismatched.add({"exec_id": r.fill_id, "fields": diffs})
    extra = sorted(set(broker) - seen_at_broker)
    span.add(stmt["ts"])
    breaks = missing.count + len(extra) + mismatched.count
    matched = len(seen_at_broker) - mismatched.count
    return observe(CheckResult(
        metrics={"missing_at_broker": missing.count, "extra_at_broker": len(extra), "mismatched": mismatched.count,
                 "breaks": breaks, "reconciled": matched,
                 "reconciled_share": ratio(matched / max(len(fills), len(broker)))},
        message=f"{matched} executions reconciled; {missing.count} missing at broker, {len(extra)} extra, "
                f"{mismatched.count} mismatched",
        details={"rule": "fills.fill_id = broker_statement.exec_id; order_id, symbol, side, qty, price, fees equal",
                 "missing_at_broker": missing.listed(), "extra_at_broker": listed(extra),
                 "mismatched": mismatched.listed()}),
        "fills and broker executions", span.ends, events=span.events)


SPEC = make_spec("broker", "reconciliation", check, "internal fills reconciled with the broker statement",
                 ("missing_at_broker", "extra_at_broker", "mismatched", "breaks", "reconciled", "reconciled_share"))
