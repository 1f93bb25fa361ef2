"""Performance during earnings and expiration days (plan lines 126-130).

The event calendar comes from the data: each instrument's ``expiration`` (records/instruments),
the monthly option expirations (third Friday of every month the records span) and, when present,
``records/calendar`` (earnings and other event days). Trades (resolved signals of the traded
modes with a P&L) are split into event days and other days; reports the win rate and mean P&L of
each, the largest position held on an event day and the instruments still held at the end of
their own expiration day.
"""
from __future__ import annotations

import calendar
from datetime import date

from golive.model import CheckResult, Quantity
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import make_spec, no_data
from golive.plugins.records.common import ratio, resolved_signals
from golive.plugins.records.stats import mean


def third_friday(year: int, month: int) -> date:
    fridays = [d for d in range(1, calendar.monthrange(year, month)[1] + 1) if date(year, month, d).weekday() == 4]
    return date(year, month, fridays[2])


def event_calendar(ctx, first: date, last: date) -> tuple[dict[date, list[str]], dict[str, date]]:
    events: dict[date, list[str]] = {}
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        events.setdefault(third_friday(y, m), []).append("monthly option expiration")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    inst = reader.load(ctx, "instruments", need=["symbol"], optional=["expiration"])
    expiries = {s: e for s, e in zip(inst["symbol"], inst["expiration"]) if e is not None}
    for sym, e in expiries.items():
        events.setdefault(e, []).append(f"{sym} expiration")
    if reader.exists(ctx, "calendar"):
        cal = reader.load(ctx, "calendar", need=["date", "kind"], optional=["symbol"])
        for d, kind, sym in zip(cal["date"], cal["kind"], cal["symbol"]):
            events.setdefault(d, []).append(f"{kind}{' ' + sym if sym else ''}")
    return events, expiries


def check(requirement, ctx) -> CheckResult:
    joined, _ = resolved_signals(ctx)
    modes = ctx.params.get("modes", ["limited", "live"])
    if "mode" in joined and joined["mode"].notna().any():
        joined = joined[joined["mode"].isin(modes)]
    joined = joined[joined["pnl"].notna()]
    if joined.empty:
        return no_data("no closed trades with a P&L")
    days = joined["ts"].dt.date
    events, expiries = event_calendar(ctx, min(days), max(days))
    on_event = days.isin(set(events))
    split = {"event": joined[on_event], "other": joined[~on_event]}
    stats = {k: {"trades": len(g), "win_rate": float((g["pnl"].map(float) > 0).mean()) if len(g) else float("nan"),
                 "mean_pnl": mean([float(p) for p in g["pnl"]])} for k, g in split.items()}
    max_event_pos, held_into_expiry = 0, []
    if reader.exists(ctx, "positions"):
        pos = reader.load(ctx, "positions", need=["ts", "symbol", "qty"])
        pos_day = pos["ts"].dt.date
        ev = pos[pos_day.isin(set(events))]
        max_event_pos = int(ev["qty"].abs().max()) if not ev.empty else 0
        last_day = max(pos_day) if not pos.empty else None
        for sym, exp in expiries.items():
            if last_day is None or not min(days) <= exp <= last_day:
                continue  # the expiration is outside the records: nothing to judge yet
            upto = pos[(pos["symbol"] == sym) & (pos_day <= exp)]
            if not upto.empty and upto["qty"].iloc[-1] != 0:
                held_into_expiry.append(sym)
    traded_events = sorted(d for d in set(days) if d in events)
    return observe(CheckResult(
        metrics={"event_days": len(traded_events), "event_day_trades": stats["event"]["trades"],
                 "event_day_win_rate": ratio(stats["event"]["win_rate"]),
                 "other_day_win_rate": ratio(stats["other"]["win_rate"]),
                 "event_day_mean_pnl": Quantity(round(stats["event"]["mean_pnl"], 2), "USD")
                 if stats["event"]["trades"] else float("nan"),
                 "event_day_max_position": max_event_pos, "held_into_expiry": len(held_into_expiry)},
        message=f"{len(traded_events)} event days traded; event-day win rate {stats['event']['win_rate']:.1%} vs "
                f"{stats['other']['win_rate']:.1%} on other days",
        details={"calendar": {str(d): v for d, v in sorted(events.items())}, "stats": stats,
                 "traded_event_days": [str(d) for d in traded_events], "held_into_expiry": held_into_expiry,
                 "rule": "event days: instrument expirations, third Fridays, records/calendar"}),
        "closed trades", joined["ts"])


SPEC = make_spec("business", "event_days", check, "results on expiration and earnings days reported separately",
                 ("event_days", "event_day_trades", "event_day_win_rate", "other_day_win_rate", "event_day_mean_pnl",
                  "event_day_max_position", "held_into_expiry"),
                 {"modes": {"type": "array", "items": {"type": "string"}}})
