"""Trade reconciliation against the broker statement (plan lines 200-204).

Internal fills (``records/fills``) are matched to the broker's executions
(``records/broker_statement``) by execution id; a matched pair must agree exactly on order id,
symbol, side, quantity, price and fees (decimals compared exactly). Lists fills missing at the
broker, broker executions missing internally, and mismatched pairs with the differing fields.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import listed, make_spec, no_data
from golive.plugins.records.common import ratio

FIELDS = ("order_id", "symbol", "side", "qty", "price", "fees")


def reconcile(internal: dict[str, dict], broker: dict[str, dict]) -> tuple[list, list, list]:
    missing = sorted(set(internal) - set(broker))
    extra = sorted(set(broker) - set(internal))
    mismatched = []
    for exec_id in sorted(set(internal) & set(broker)):
        diffs = {f: {"internal": str(internal[exec_id][f]), "broker": str(broker[exec_id][f])}
                 for f in FIELDS if internal[exec_id][f] != broker[exec_id][f]}
        if diffs:
            mismatched.append({"exec_id": exec_id, "fields": diffs})
    return missing, extra, mismatched


def check(requirement, ctx) -> CheckResult:
    fills = trading.fills(ctx)
    stmt = trading.fills(ctx, "broker_statement")
    if fills.empty and stmt.empty:
        return no_data("no fills and no broker executions to reconcile")
    internal = {r.fill_id: {f: getattr(r, f) for f in FIELDS} for r in fills.itertuples(index=False)}
    broker = {r.exec_id: {f: getattr(r, f) for f in FIELDS} for r in stmt.itertuples(index=False)}
    missing, extra, mismatched = reconcile(internal, broker)
    breaks = len(missing) + len(extra) + len(mismatched)
    matched = len(set(internal) & set(broker)) - len(mismatched)
    return observe(CheckResult(
        metrics={"missing_at_broker": len(missing), "extra_at_broker": len(extra), "mismatched": len(mismatched),
                 "breaks": breaks, "reconciled": matched,
                 "reconciled_share": ratio(matched / max(len(internal), len(broker)))},
        message=f"{matched} executions reconciled; {len(missing)} missing at broker, {len(extra)} extra, "
                f"{len(mismatched)} mismatched",
        details={"rule": "fills.fill_id = broker_statement.exec_id; order_id, symbol, side, qty, price, fees equal",
                 "missing_at_broker": listed(missing), "extra_at_broker": listed(extra),
                 "mismatched": listed(mismatched)}),
        "fills and broker executions", [*fills["ts"], *stmt["ts"]])


SPEC = make_spec("broker", "reconciliation", check, "internal fills reconciled with the broker statement",
                 ("missing_at_broker", "extra_at_broker", "mismatched", "breaks", "reconciled", "reconciled_share"))
