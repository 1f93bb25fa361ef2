"""Loading orders and fills with the value checks the contract adds beyond types.

``fills`` returns the whole frame; ``fill_scan`` validates the same way and streams the rows in
chunks (golive.plugins.records.stream), for checks that must stay in bounded memory on a large
fills file."""
from __future__ import annotations

import pandas as pd

from golive.plugins.records import reader
from golive.plugins.records.stream import Scan, ValueCheck, scan

SIDES = ("buy", "sell")
TERMINAL = ("filled", "cancelled", "rejected", "expired")
STATUSES = ("new", "working", "partially_filled", *TERMINAL)
ORDER_TYPES = ("market", "limit", "stop", "stop_limit")


def side_sign(side: str) -> int:
    """+1 for buy, -1 for sell: the sign of the position change and of adverse slippage."""
    return 1 if side == "buy" else -1


def _positive_qty(ctx, name: str, frame: pd.DataFrame) -> None:
    for i, q in enumerate(frame["qty"].tolist()):
        if q <= 0:
            raise reader.row_error(ctx, name, frame, i, "qty", f"{q} must be > 0 (side gives the direction)")


def orders(ctx, optional: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = reader.load(ctx, "orders", need=["ts", "order_id", "symbol", "side", "qty", "order_type", "status"],
                        optional=list(optional))
    reader.check_values(ctx, "orders", frame, "side", SIDES)
    reader.check_values(ctx, "orders", frame, "status", STATUSES)
    reader.check_values(ctx, "orders", frame, "order_type", ORDER_TYPES)
    _positive_qty(ctx, "orders", frame)
    return frame


def _bad_side(value) -> bool:
    return value not in SIDES


def _side_message(value) -> str:
    return f"{value!r} is not one of {', '.join(sorted(SIDES))}"


def _bad_qty(value) -> bool:
    return value <= 0


def _qty_message(value) -> str:
    return f"{value} must be > 0 (side gives the direction)"


FILL_VALUE_CHECKS = (ValueCheck("side", _bad_side, _side_message), ValueCheck("qty", _bad_qty, _qty_message))


def fill_columns(name: str = "fills") -> list[str]:
    key = "exec_id" if name == "broker_statement" else "fill_id"
    return ["ts", key, "order_id", "symbol", "side", "qty", "price", "fees"]


def fill_scan(ctx, name: str = "fills") -> Scan:
    """``fills(ctx, name)`` validated now (the same errors, in the same order) and read chunk by
    chunk when iterated."""
    return scan(ctx, name, need=fill_columns(name), value_checks=FILL_VALUE_CHECKS)


def fills(ctx, name: str = "fills") -> pd.DataFrame:
    frame = reader.load(ctx, name, need=fill_columns(name))
    reader.check_values(ctx, name, frame, "side", SIDES)
    _positive_qty(ctx, name, frame)
    return frame


def filter_mode(frame: pd.DataFrame, mode: str | None) -> pd.DataFrame:
    if mode and "mode" in frame:
        return frame[frame["mode"] == mode]
    return frame
