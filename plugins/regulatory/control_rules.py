"""What each kind of pre-trade control forbids, applied to accepted orders and to rejections.

Used by ``pretrade_controls`` (REG-04, RTS 6 Art. 15, SEC 15c3-5(c)). ``violations(control,
orders, multipliers)`` lists the accepted orders (``records/orders``) that break the control's
limit -- orders it let through; ``justified(control, rejection, multiplier)`` says whether a
rejection citing the control shows a value beyond its limit. Order-intrinsic kinds (collar,
value, volume) are recomputed from the order's own fields; the stateful ones (throttle, credit,
duplicate) from the order stream for accepted orders and from the control's recorded
``observed_value`` for a rejection.
"""
from __future__ import annotations

from collections import deque
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from golive.plugins.regulatory.inventory import Control, text


def _num(value: Any) -> Decimal | None:
    if value is None or value != value:
        return None
    return Decimal(str(value))


def price_of(row) -> Decimal | None:
    """The order's price for its value: limit, else stop, else the expected (reference) price."""
    for col in ("limit_price", "stop_price", "expected_price", "reference_price"):
        value = _num(getattr(row, col, None))
        if value is not None:
            return value
    return None


def collar_deviation_pct(limit_price: Any, reference: Any) -> Decimal | None:
    limit, ref = _num(limit_price), _num(reference)
    if limit is None or ref is None or ref == 0:
        return None
    return abs(limit - ref) / ref * 100


def order_value(row, multiplier: Decimal | None) -> Decimal | None:
    price = price_of(row)
    return None if price is None or multiplier is None else price * multiplier * int(row.qty)


def _limit(control: Control, key: str) -> Decimal:
    return Decimal(str(control.limit[key]))


def violations(control: Control, orders: pd.DataFrame, multipliers: dict) -> list[dict]:
    """Accepted orders in the control's scope that break its limit: {order_id, value, limit}."""
    scoped = orders[orders["algorithm_id"].map(lambda a: control.covers(text(a)))] \
        if control.applies_to is not None else orders
    kind, out = control.kind, []
    if kind in ("price_collar", "max_order_qty", "max_order_value"):
        for row in scoped.itertuples(index=False):
            if kind == "price_collar":
                value, key = collar_deviation_pct(row.limit_price, row.expected_price), "max_deviation_pct"
            elif kind == "max_order_qty":
                value, key = Decimal(int(row.qty)), "max_qty"
            else:
                value, key = order_value(row, multipliers.get(row.symbol)), "max_value_usd"
            if value is not None and value > _limit(control, key):
                out.append({"order_id": row.order_id, "value": float(value), "limit": control.limit[key]})
    elif kind == "message_throttle":
        window, most = timedelta(seconds=control.limit["window_s"]), _limit(control, "max_messages")
        recent: deque = deque()
        for ts, oid in zip(scoped["ts"], scoped["order_id"]):
            recent.append(ts)
            while recent[0] <= ts - window:
                recent.popleft()
            if len(recent) > most:
                out.append({"order_id": oid, "value": len(recent), "limit": control.limit["max_messages"]})
    elif kind == "credit_threshold":
        most, used, day = _limit(control, "max_daily_notional_usd"), Decimal(0), None
        for row in scoped.itertuples(index=False):
            if row.ts.date() != day:
                day, used = row.ts.date(), Decimal(0)
            used += order_value(row, multipliers.get(row.symbol)) or Decimal(0)
            if used > most:
                out.append({"order_id": row.order_id, "value": float(used), "limit": control.limit[
                    "max_daily_notional_usd"]})
    elif kind == "duplicate_order":
        window, seen = timedelta(seconds=control.limit["window_s"]), {}
        for row in scoped.itertuples(index=False):
            key = (text(row.algorithm_id), row.symbol, row.side, int(row.qty), row.order_type,
                   _num(row.limit_price), _num(row.stop_price))
            earlier = seen.get(key)
            if earlier is not None and row.ts - earlier[0] <= window:
                out.append({"order_id": row.order_id, "value": (row.ts - earlier[0]).total_seconds(),
                            "duplicate_of": earlier[1], "limit": control.limit["window_s"]})
            seen[key] = (row.ts, row.order_id)
    return out


def justified(control: Control, row, multiplier: Decimal | None) -> bool:
    """The rejection shows a value beyond the control's limit (recomputed where the order allows)."""
    observed = _num(getattr(row, "observed_value", None))
    kind = control.kind
    if kind == "price_collar":
        value = collar_deviation_pct(row.limit_price, row.reference_price)
        value = observed if value is None else value
        return value is not None and value > _limit(control, "max_deviation_pct")
    if kind == "max_order_qty":
        return int(row.qty) > _limit(control, "max_qty")
    if kind == "max_order_value":
        value = order_value(row, multiplier)
        value = observed if value is None else value
        return value is not None and value > _limit(control, "max_value_usd")
    if kind == "message_throttle":
        return observed is not None and observed > _limit(control, "max_messages")
    if kind == "credit_threshold":
        return observed is not None and observed > _limit(control, "max_daily_notional_usd")
    # duplicate_order: the recorded value is the seconds since the identical order
    return observed is not None and observed <= _limit(control, "window_s")
