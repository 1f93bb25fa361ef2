"""Trade reconstruction: orders and fills rebuilt from the audit log match the records.

Plan lines 137-163 (Risk Management and Monitoring): "Trade reconstruction" (RISK-13).

Every order in ``records/orders`` is rebuilt from its ``order_new`` audit entry (``id`` =
order id; symbol, side, qty, order_type) and every fill in ``records/fills`` from its
``fill`` entry (``id`` = fill id; order_id, symbol, side, qty, price, fees). A record is
reconstructed when its entry exists and every compared field is equal (prices and fees as
exact decimals). The chain behind a trade must also hold: each fill's order exists, and
each order's ``signal_id`` (when set) names a recorded signal.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader

from . import auditlog

ORDER_FIELDS = ("symbol", "side", "qty", "order_type")
FILL_FIELDS = ("order_id", "symbol", "side", "qty", "price", "fees")


def same(recorded, logged) -> bool:
    if recorded is None:
        return logged is None or logged == ""
    if isinstance(recorded, Decimal):
        try:
            return Decimal(str(logged)) == recorded
        except (InvalidOperation, ValueError):
            return False
    if isinstance(recorded, int) and not isinstance(recorded, bool):
        try:
            return int(logged) == recorded and float(logged) == float(recorded)
        except (TypeError, ValueError):
            return False
    return str(recorded) == str(logged)


def compare(frame, key: str, compared: tuple[str, ...], logged: dict[str, dict], label: str):
    absent, mismatched = [], []
    for rec in frame.to_dict("records"):
        entry = logged.get(str(rec[key]))
        if entry is None:
            absent.append(str(rec[key]))
            continue
        diffs = [f for f in compared if f in entry and not same(rec.get(f), entry[f])]
        diffs += [f for f in compared if f not in entry and rec.get(f) is not None]
        if diffs:
            mismatched.append({label: str(rec[key]), "fields": diffs, "audit_entry": entry["_where"],
                               "row": int(rec[reader.ROW])})
    return absent, mismatched


@auditlog.records_guarded
def trade_reconstruction(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    entries = auditlog.load(ctx, ("order_new", "fill"))
    orders = reader.load(ctx, "orders", need=["order_id", "symbol", "side", "qty"], optional=["order_type", "signal_id", "ts"])
    fills = reader.load(ctx, "fills", need=["fill_id", "order_id", "symbol", "side", "qty", "price"], optional=["fees", "ts"])
    if orders.empty and fills.empty:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: no orders or fills to reconstruct")
    order_fields = tuple(f for f in ORDER_FIELDS if f in orders and orders[f].notna().any())
    o_absent, o_bad = compare(orders, "order_id", order_fields, auditlog.by_id(entries, "order_new"), "order_id")
    fill_fields = tuple(f for f in FILL_FIELDS if f in fills and fills[f].notna().any())
    f_absent, f_bad = compare(fills, "fill_id", fill_fields, auditlog.by_id(entries, "fill"), "fill_id")
    order_ids = set(orders["order_id"])
    broken = [{"fill_id": f, "order_id": o} for f, o in zip(fills["fill_id"], fills["order_id"]) if o not in order_ids]
    if reader.exists(ctx, "signals"):
        signal_ids = set(reader.load(ctx, "signals", need=["signal_id"])["signal_id"])
        broken += [{"order_id": o, "signal_id": s} for o, s in zip(orders["order_id"], orders["signal_id"])
                   if s and s not in signal_ids]
    n_o, n_f = len(orders), len(fills)
    metrics = {"orders_reconstructed_ratio": Quantity(round((n_o - len(o_absent) - len(o_bad)) / n_o, 6) if n_o else 1.0, "ratio"),
               "fills_reconstructed_ratio": Quantity(round((n_f - len(f_absent) - len(f_bad)) / n_f, 6) if n_f else 1.0, "ratio"),
               "orders_not_in_audit": len(o_absent), "fills_not_in_audit": len(f_absent),
               "reconstruction_mismatches": len(o_bad) + len(f_bad), "broken_links": len(broken)}
    return observe(CheckResult(
        metrics=metrics,
        message=f"orders {n_o - len(o_absent) - len(o_bad)}/{n_o}, fills {n_f - len(f_absent) - len(f_bad)}/{n_f} "
                f"reconstructed from the audit log; {len(broken)} broken link(s)",
        details={"compared": {"orders": list(order_fields), "fills": list(fill_fields)},
                 "orders_not_in_audit": o_absent[:100], "fills_not_in_audit": f_absent[:100],
                 "mismatches": (o_bad + f_bad)[:100], "broken_links": broken[:100]},
    ), "orders and fills", [*orders["ts"], *fills["ts"]], events=n_o + n_f)


SCHEMA = {"type": "object",
          "properties": {"audit": {"type": "string"},
                         "files": {"type": "object", "additionalProperties": {"type": "string"}}},
          "additionalProperties": False}
METRICS = ("orders_reconstructed_ratio", "fills_reconstructed_ratio", "orders_not_in_audit", "fills_not_in_audit",
           "reconstruction_mismatches", "broken_links")
