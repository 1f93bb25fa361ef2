"""Cost monitoring and budget enforcement (plan lines 92-94; cost per trade for lines 186-190).

Daily cost = sum of ``records/costs`` amounts of the day (data, API, platform), plus fill fees
when ``include_fees`` is true. Reports the highest and mean daily cost, the highest calendar
month, a month-to-date projection for the latest month (cost so far / weekdays elapsed *
weekdays in the month) and, when fills exist, cost per filled order. Amounts are summed as
exact decimals.
"""
from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from golive.model import CheckResult, Quantity
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import make_spec, money, no_data


def weekdays(year: int, month: int, upto: int | None = None) -> int:
    last = upto or calendar.monthrange(year, month)[1]
    return sum(date(year, month, d).weekday() < 5 for d in range(1, last + 1))


def id_hashes(ids) -> np.ndarray:
    """Two independent 64-bit hashes of each id: equal ids give equal pairs, and distinct ids
    share a pair with odds of ~2^-100 at millions of ids. Counting distinct pairs takes 16 bytes
    an id (a set of the ids themselves, or Arrow's hash table, takes ~70)."""
    pairs = np.empty(len(ids), dtype=[("a", "<u8"), ("b", "<u8")])
    values = np.asarray(ids, dtype=object)
    pairs["a"] = pd.util.hash_array(values, hash_key="golive-ids-one-1", categorize=False)
    pairs["b"] = pd.util.hash_array(values, hash_key="golive-ids-two-2", categorize=False)
    return pairs


def distinct(pieces: list[np.ndarray]) -> int:
    """How many different hash pairs the pieces hold (sorted in place: one copy of them)."""
    if not pieces:
        return 0
    pairs = np.concatenate(pieces)
    pieces.clear()
    pairs.sort()
    return int(len(pairs) > 0) + int(np.count_nonzero(pairs[1:] != pairs[:-1]))


def check(requirement, ctx) -> CheckResult:
    costs = reader.load(ctx, "costs", need=["date", "amount"], optional=["category"])
    daily: dict[date, Decimal] = defaultdict(Decimal)
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    for d, amount, cat in zip(costs["date"], costs["amount"], costs["category"]):
        daily[d] += amount
        by_category[cat or "uncategorised"] += amount
    orders_filled = 0
    if ctx.params.get("include_fees") or reader.exists(ctx, "fills"):
        order_ids = []  # each chunk's distinct order ids as 128-bit hashes: counted at the end
        for fills in trading.fill_scan(ctx):  # chunk by chunk: a large fills file is not held
            order_ids.append(id_hashes(fills["order_id"].unique()))
            if ctx.params.get("include_fees"):
                for ts, fee in zip(fills["ts"], fills["fees"]):
                    daily[ts.date()] += fee
                    by_category["fill_fees"] += fee
        orders_filled = distinct(order_ids)
    if not daily:
        return no_data("records/costs holds no rows")
    monthly: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for d, v in daily.items():
        monthly[(d.year, d.month)] += v
    last_day = max(daily)
    mtd = monthly[(last_day.year, last_day.month)]
    projected = mtd / weekdays(last_day.year, last_day.month, last_day.day) * weekdays(last_day.year, last_day.month)
    total = sum(daily.values(), Decimal(0))
    worst_day = max(daily, key=daily.get)
    metrics = {"daily_cost_max": Quantity(money(daily[worst_day]), "USD"),
               "daily_cost_mean": Quantity(money(total / len(daily)), "USD"),
               "monthly_cost": Quantity(money(max(monthly.values())), "USD"),
               "month_projection": Quantity(money(projected), "USD"), "days": len(daily)}
    if orders_filled:
        metrics["cost_per_filled_order"] = Quantity(money(total / orders_filled), "USD")
    return observe(CheckResult(
        metrics=metrics,
        message=f"highest day ${daily[worst_day]} on {worst_day}; highest month ${max(monthly.values())}",
        details={"formula": "daily = sum(costs.amount of the day)" + (" + sum(fills.fees)" if ctx.params.get(
            "include_fees") else "") + "; monthly = sum of daily over the calendar month; projection = "
                 "month to date / weekdays elapsed * weekdays in month",
                 "daily": {str(d): str(v) for d, v in sorted(daily.items())},
                 "monthly": {f"{y}-{m:02d}": str(v) for (y, m), v in sorted(monthly.items())},
                 "by_category": {k: str(v) for k, v in sorted(by_category.items())}}),
        "days with costs", daily)


SPEC = make_spec("broker", "costs", check, "daily and monthly trading cost against budget",
                 ("daily_cost_max", "daily_cost_mean", "monthly_cost", "month_projection", "days",
                  "cost_per_filled_order"), {"include_fees": {"type": "boolean"}})
