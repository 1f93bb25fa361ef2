"""Shadow mode ran for at least a week (plan lines 72-74).

Takes the trading days on which ``mode == shadow`` signals were recorded and finds the longest
run of consecutive trading days (weekdays, minus ``holidays`` given in params). Reports it in
trading weeks (5 trading days = 1 week) as ``shadow_duration``, the number of shadow days, and
the orders or fills recorded during shadow days (``shadow_orders``: shadow mode places none).
"""
from __future__ import annotations

from datetime import date, timedelta

from golive.model import CheckResult, Quantity
from golive.plugins.records import reader
from golive.plugins.records.stream import scan
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import make_spec, no_data


def longest_run(days: list[date], holidays: set[date]) -> list[date]:
    """Longest run of consecutive trading days (a missing weekday that is no holiday breaks it)."""
    best: list[date] = []
    run: list[date] = []
    for d in sorted(set(days)):
        if run:
            gap = run[-1] + timedelta(days=1)
            while gap < d and (gap.weekday() >= 5 or gap in holidays):
                gap += timedelta(days=1)
            if gap != d:
                run = []
        run.append(d)
        if len(run) > len(best):
            best = list(run)
    return best


def check(requirement, ctx) -> CheckResult:
    mode = ctx.params.get("mode", "shadow")
    sig = reader.load(ctx, "signals", need=["ts", "signal_id", "mode"])
    shadow = sig[sig["mode"] == mode]
    if shadow.empty:
        return no_data(f"no signals with mode '{mode}' in records/signals")
    holidays = {date.fromisoformat(h) for h in ctx.params.get("holidays", [])}
    days = sorted(set(shadow["ts"].dt.date))
    run = longest_run(days, holidays)
    orders_in_shadow = 0
    for name in ("orders", "fills"):
        if reader.exists(ctx, name):
            for frame in scan(ctx, name, need=["ts"]):  # chunk by chunk: a large file is not held
                orders_in_shadow += int(frame["ts"].dt.date.isin(set(days)).sum())
    return observe(CheckResult(
        metrics={"shadow_duration": Quantity(len(run) / 5, "week"), "shadow_trading_days": len(days),
                         "shadow_orders": orders_in_shadow},
        message=f"longest continuous shadow run {len(run)} trading days ({run[0]} .. {run[-1]})",
        details={"formula": "shadow_duration = longest run of consecutive trading days with shadow signals / 5",
                         "run": [str(run[0]), str(run[-1])], "shadow_days": [str(d) for d in days]}),
            f"{mode} signals", shadow["ts"])


SPEC = make_spec("algorithm", "shadow_duration", check, "continuous shadow-mode run in trading weeks",
                 ("shadow_duration", "shadow_trading_days", "shadow_orders"),
                 {"mode": {"type": "string"}, "holidays": {"type": "array", "items": {"type": "string",
                                                                                        "format": "date"}}})
