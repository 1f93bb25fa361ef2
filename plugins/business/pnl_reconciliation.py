"""Real P&L monitoring (plan lines 84-96 "real P&L", 167-171 "real-time P&L tracking").

Recomputes each day's gross P&L per instrument from ``records/fills`` -- cash flow of the day's
fills (sell +, buy -) * multiplier, plus the change in value of the position carried
(position * mark, with the day's last ``records/positions`` mark, else the last fill price) --
and fees from the fills, and compares them exactly (decimals) with ``records/pnl``
(realized + change of unrealized, and fees, summed over strategies). Lists every day and
instrument that differs and every trading day without a P&L row.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from golive.model import CheckResult, Quantity
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import TimeSpan, listed, make_spec, money, no_data
from golive.plugins.records.common import instruments, load_pnl, spec_of

ZERO = Decimal(0)


def from_fills(ctx, chunks, marks: dict, specs) -> tuple[dict, dict]:
    """((day, symbol) -> gross P&L, (day, symbol) -> fees) from fills sorted by time (frames in
    order: a whole frame or a stream's chunks; the reader refuses unsorted fills, so each day's
    fills are consecutive and a day is closed when the next one starts)."""
    gross, fees = defaultdict(Decimal), defaultdict(Decimal)
    pos: dict[str, int] = defaultdict(int)
    carried: dict[str, Decimal] = {}  # value of the position carried into the day
    last_px: dict[str, Decimal] = {}

    def close(d, touched: set) -> None:
        for sym in touched | {s for s, q in pos.items() if q}:
            _, mult = specs[sym]
            value = pos[sym] * marks.get((d, sym), last_px[sym]) * mult
            gross[(d, sym)] += value - carried.get(sym, ZERO)
            carried[sym] = value

    day, touched = None, set()
    for fills in chunks:
        for i, f in enumerate(fills.itertuples(index=False)):
            d = f.ts.date()
            if d != day:
                if day is not None:
                    close(day, touched)
                day, touched = d, set()
            _, mult = spec_of(ctx, specs, "fills", fills, i, f.symbol)
            sign = trading.side_sign(f.side)
            gross[(d, f.symbol)] -= sign * f.qty * f.price * mult
            fees[(d, f.symbol)] += f.fees
            pos[f.symbol] += sign * f.qty
            last_px[f.symbol] = f.price
            touched.add(f.symbol)
    if day is not None:
        close(day, touched)
    return gross, fees


def check(requirement, ctx) -> CheckResult:
    specs = instruments(ctx)
    fills = trading.fill_scan(ctx)  # validated now; its rows are read chunk by chunk below
    pnl = load_pnl(ctx)
    if pnl.empty and fills.empty:
        return no_data("records/pnl and records/fills are empty")
    marks = {}
    if reader.exists(ctx, "positions"):
        pos = reader.load(ctx, "positions", need=["ts", "symbol", "mark_price"])
        marks = {(ts.date(), s): m for ts, s, m in zip(pos["ts"], pos["symbol"], pos["mark_price"])}
    span = TimeSpan()
    gross, fees = from_fills(ctx, _spanned(fills, span), marks, specs)
    rec_gross, rec_fees = defaultdict(Decimal), defaultdict(Decimal)
    last_unreal: dict = {}
    for d, strat, sym, real, unreal, fee in zip(pnl["date"], pnl["strategy"], pnl["symbol"], pnl["realized"],
                                                pnl["unrealized"], pnl["fees"]):
        rec_gross[(d, sym)] += real + unreal - last_unreal.get((strat, sym), ZERO)
        last_unreal[(strat, sym)] = unreal
        rec_fees[(d, sym)] += fee
    keys = sorted(set(gross) | set(rec_gross))
    diffs = []
    for k in keys:
        dg, df = rec_gross.get(k, ZERO) - gross.get(k, ZERO), rec_fees.get(k, ZERO) - fees.get(k, ZERO)
        if dg or df:
            diffs.append({"date": str(k[0]), "symbol": k[1], "recorded_gross": str(rec_gross.get(k, ZERO)),
                          "from_fills_gross": str(gross.get(k, ZERO)), "gross_diff": dg, "fees_diff": df})
    missing_days = sorted({k[0] for k in gross} - {k[0] for k in rec_gross})
    worst_g = max((abs(d["gross_diff"]) for d in diffs), default=ZERO)
    worst_f = max((abs(d["fees_diff"]) for d in diffs), default=ZERO)
    for d in diffs:
        d["gross_diff"], d["fees_diff"] = str(d["gross_diff"]), str(d["fees_diff"])
    return observe(CheckResult(
        metrics={"pnl_max_abs_diff": Quantity(money(worst_g), "USD"), "fees_max_abs_diff": Quantity(money(worst_f),
                 "USD"), "pnl_mismatches": len(diffs), "days_missing_pnl": len(missing_days),
                 "pnl_days": len({k[0] for k in rec_gross})},
        message=f"{len(keys)} day-instrument P&L figures recomputed from fills; {len(diffs)} differ "
                f"(worst ${worst_g}); {len(missing_days)} trading days without P&L",
        details={"formula": "gross(day, symbol) = sum(-side * qty * price * multiplier) + position_end * mark_end * "
                            "multiplier - position_start * mark_start * multiplier; recorded = realized + "
                            "unrealized_t - unrealized_{t-1}; fees compared with sum(fills.fees); exact decimals",
                 "differences": listed(diffs), "days_missing_pnl": [str(d) for d in missing_days]}),
        "P&L rows and fills", [*pnl["date"], *span.ends], events=int(pnl["date"].notna().sum()) + span.events)


def _spanned(chunks, span: TimeSpan):
    """The chunks, noting their times in ``span`` on the way."""
    for chunk in chunks:
        span.add(chunk["ts"])
        yield chunk


SPEC = make_spec("business", "pnl_reconciliation", check, "recorded daily P&L equals the P&L recomputed from fills",
                 ("pnl_max_abs_diff", "fees_max_abs_diff", "pnl_mismatches", "days_missing_pnl", "pnl_days"))
