"""Joins and look-ups several checkers need: signals with outcomes, instrument specs, ratios."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pandas as pd

from golive.model import Quantity
from golive.plugins.records import reader
from golive.plugins.records.checkutil import signals_of


def ratio(value: float) -> Quantity:
    """A fraction reported so the engine converts it to the threshold's unit (``%`` or ``ratio``)."""
    return Quantity(float(value), "ratio")


def instruments(ctx) -> dict[str, tuple[Decimal, Decimal]]:
    """symbol -> (tick_size, multiplier) from records/instruments."""
    frame = reader.load(ctx, "instruments", need=["symbol", "tick_size", "multiplier"])
    for i, (tick, mult) in enumerate(zip(frame["tick_size"], frame["multiplier"])):
        if tick <= 0:
            raise reader.row_error(ctx, "instruments", frame, i, "tick_size", f"{tick} must be > 0")
        if mult <= 0:
            raise reader.row_error(ctx, "instruments", frame, i, "multiplier", f"{mult} must be > 0")
    return {s: (t, m) for s, t, m in zip(frame["symbol"], frame["tick_size"], frame["multiplier"])}


def spec_of(ctx, specs: dict, name: str, frame: pd.DataFrame, position: int, symbol: str):
    if symbol not in specs:
        raise reader.row_error(ctx, name, frame, position, "symbol",
                               f"{symbol!r} is not in records/instruments (add its tick_size and multiplier)")
    return specs[symbol]


def resolved_signals(ctx, strategy: str | None = None, mode: str | None = None,
                     extra: tuple[str, ...] = ()) -> tuple[pd.DataFrame, int]:
    """Emitted signals (filtered) joined with their outcomes; returns (joined, unresolved count)."""
    sig = reader.load(ctx, "signals", need=["ts", "signal_id", "symbol"],
                      optional=["strategy", "mode", "emitted", *extra])
    sig = signals_of(sig, strategy, mode)
    out = reader.load(ctx, "outcomes", need=["signal_id", "correct"], optional=["pnl", "pattern_truth"])
    joined = sig.merge(out.drop(columns=[reader.ROW]), on="signal_id", how="left")
    unresolved = int(joined["correct"].isna().sum())
    return joined[joined["correct"].notna()].copy(), unresolved


def trading_day(ts: pd.Series) -> pd.Series:
    """UTC calendar date of each timestamp (the records are in UTC; sessions do not span 00:00 UTC)."""
    return ts.dt.date


def daily_net_pnl(pnl) -> dict:
    """date -> realized - fees + change of unrealized, summed over strategies and instruments."""
    days: dict = defaultdict(Decimal)
    last_unreal: dict = {}
    for d, strat, sym, real, unreal, fees in zip(pnl["date"], pnl["strategy"], pnl["symbol"], pnl["realized"],
                                                 pnl["unrealized"], pnl["fees"]):
        key = (strat, sym)
        days[d] += real - fees + unreal - last_unreal.get(key, Decimal(0))
        last_unreal[key] = unreal
    return dict(sorted(days.items()))


def load_pnl(ctx, name: str = "pnl"):
    return reader.load(ctx, name, need=["date", "strategy", "symbol", "realized", "unrealized", "fees"],
                       optional=["signal_type"])


def standalone_context(root, params: dict | None = None):
    """A CheckContext for running a check outside the engine (tests, notebooks)."""
    import logging
    from pathlib import Path

    from golive.model import CheckContext, Target

    return CheckContext(target=Target(root=Path(root)), params=params or {}, settings={},
                        log=logging.getLogger("golive.records"))
