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
from golive.plugins.records.checkutil import TimeSpan
from golive.plugins.records.stream import scan

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


class _FillComparison:
    """``compare`` over fills streamed chunk by chunk: the records missing from the audit log and
    the mismatches are counted and the first 100 kept. Whether ``fees`` is compared depends on
    the whole file (a column of nulls is not), so both outcomes are kept until the end."""

    KEEP = 100

    def __init__(self, logged: dict[str, dict]) -> None:
        self.logged = logged
        self.absent: list[str] = []
        self.absent_count = 0
        self.bad = {False: [], True: []}  # fees compared -> first mismatches
        self.bad_count = {False: 0, True: 0}
        self.fees_seen = False

    def add(self, frame) -> None:
        base = FILL_FIELDS[:-1]  # fees is last: its diffs end each half of the list
        for rec in frame.to_dict("records"):
            fee = rec.get("fees")
            self.fees_seen = self.fees_seen or fee is not None
            entry = self.logged.get(str(rec["fill_id"]))
            if entry is None:
                self.absent_count += 1
                if len(self.absent) < self.KEEP:
                    self.absent.append(str(rec["fill_id"]))
                continue
            differ = [f for f in base if f in entry and not same(rec.get(f), entry[f])]
            unlogged = [f for f in base if f not in entry and rec.get(f) is not None]
            fee_differs = "fees" in entry and not same(fee, entry["fees"])
            fee_unlogged = "fees" not in entry and fee is not None
            for with_fees in (False, True):
                diffs = differ + ["fees"] * (with_fees and fee_differs) + unlogged + ["fees"] * (with_fees and fee_unlogged)
                if diffs:
                    self.bad_count[with_fees] += 1
                    if len(self.bad[with_fees]) < self.KEEP:
                        self.bad[with_fees].append({"fill_id": str(rec["fill_id"]), "fields": diffs,
                                                    "audit_entry": entry["_where"], "row": int(rec[reader.ROW])})

    def fields(self, rows: int) -> tuple[str, ...]:
        """The compared fields, as ``trade_reconstruction`` picks them for a whole frame."""
        return (FILL_FIELDS[:-1] if rows else ()) + (("fees",) if self.fees_seen else ())


@auditlog.records_guarded
def trade_reconstruction(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    entries = auditlog.load(ctx, ("order_new", "fill"))
    orders = reader.load(ctx, "orders", need=["order_id", "symbol", "side", "qty"], optional=["order_type", "signal_id", "ts"])
    fills = scan(ctx, "fills", need=["fill_id", "order_id", "symbol", "side", "qty", "price"], optional=["fees", "ts"])
    if orders.empty and fills.empty:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: no orders or fills to reconstruct")
    order_fields = tuple(f for f in ORDER_FIELDS if f in orders and orders[f].notna().any())
    o_absent, o_bad = compare(orders, "order_id", order_fields, auditlog.by_id(entries, "order_new"), "order_id")
    order_ids = set(orders["order_id"])
    fill_check, span, broken, broken_count = _FillComparison(auditlog.by_id(entries, "fill")), TimeSpan(), [], 0
    for chunk in fills:  # chunk by chunk: a large fills file is not held
        fill_check.add(chunk)
        span.add(chunk["ts"])
        for f, o in zip(chunk["fill_id"], chunk["order_id"]):
            if o not in order_ids:
                broken_count += 1
                if len(broken) < _FillComparison.KEEP:
                    broken.append({"fill_id": f, "order_id": o})
    fill_fields = fill_check.fields(len(fills))
    f_absent, f_bad = fill_check.absent, fill_check.bad["fees" in fill_fields]
    f_absent_count, f_bad_count = fill_check.absent_count, fill_check.bad_count["fees" in fill_fields]
    if reader.exists(ctx, "signals"):
        signal_ids = set(reader.load(ctx, "signals", need=["signal_id"])["signal_id"])
        signal_broken = [{"order_id": o, "signal_id": s} for o, s in zip(orders["order_id"], orders["signal_id"])
                         if s and s not in signal_ids]
        broken, broken_count = broken + signal_broken, broken_count + len(signal_broken)
    n_o, n_f = len(orders), len(fills)
    metrics = {"orders_reconstructed_ratio": Quantity(round((n_o - len(o_absent) - len(o_bad)) / n_o, 6) if n_o else 1.0, "ratio"),
               "fills_reconstructed_ratio": Quantity(round((n_f - f_absent_count - f_bad_count) / n_f, 6) if n_f else 1.0, "ratio"),
               "orders_not_in_audit": len(o_absent), "fills_not_in_audit": f_absent_count,
               "reconstruction_mismatches": len(o_bad) + f_bad_count, "broken_links": broken_count}
    return observe(CheckResult(
        metrics=metrics,
        message=f"orders {n_o - len(o_absent) - len(o_bad)}/{n_o}, fills {n_f - f_absent_count - f_bad_count}/{n_f} "
                f"reconstructed from the audit log; {broken_count} broken link(s)",
        details={"compared": {"orders": list(order_fields), "fills": list(fill_fields)},
                 "orders_not_in_audit": o_absent[:100], "fills_not_in_audit": f_absent[:100],
                 "mismatches": (o_bad + f_bad)[:100], "broken_links": broken[:100]},
    ), "orders and fills", [*orders["ts"], *span.ends], events=n_o + n_f)


SCHEMA = {"type": "object",
          "properties": {"audit": {"type": "string"},
                         "files": {"type": "object", "additionalProperties": {"type": "string"}}},
          "additionalProperties": False}
METRICS = ("orders_reconstructed_ratio", "fills_reconstructed_ratio", "orders_not_in_audit", "fills_not_in_audit",
           "reconstruction_mismatches", "broken_links")
