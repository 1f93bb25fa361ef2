"""Daily, weekly and monthly reporting (plan lines 173-177).

The system's performance reports are listed in ``records/reports`` (period, period_start,
net_pnl). Every trading day in ``records/pnl``, every ISO week (keyed by its Monday) and every
calendar month (keyed by its 1st) needs a report, and the report's net P&L must equal the sum of
the daily net P&L of its period exactly. Lists missing reports and reports whose figures differ.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from golive.model import CheckResult
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data
from golive.plugins.records.common import daily_net_pnl, load_pnl

PERIODS = ("day", "week", "month")


def period_start(period: str, day):
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def check(requirement, ctx) -> CheckResult:
    periods = ctx.params.get("periods", list(PERIODS))
    days = daily_net_pnl(load_pnl(ctx))
    if not days:
        return no_data("records/pnl holds no days")
    reports = reader.load(ctx, "reports", need=["period", "period_start", "net_pnl"])
    reader.check_values(ctx, "reports", reports, "period", PERIODS)
    expected: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, net in days.items():
        for period in periods:
            expected[(period, period_start(period, day))] += net
    stated = {(p, s): v for p, s, v in zip(reports["period"], reports["period_start"], reports["net_pnl"])}
    missing = [{"period": p, "start": str(s)} for p, s in sorted(expected) if (p, s) not in stated]
    differ = [{"period": p, "start": str(s), "report": str(stated[(p, s)]), "from_pnl": str(v)}
              for (p, s), v in sorted(expected.items()) if (p, s) in stated and stated[(p, s)] != v]
    return observe(CheckResult(
        metrics={"reports_missing": len(missing), "report_mismatches": len(differ), "reports": len(reports),
                 "periods_expected": len(expected)},
        message=f"{len(expected)} report periods expected: {len(missing)} missing, {len(differ)} with other figures",
        details={"rule": "one report per trading day, ISO week (Monday) and calendar month (1st); net_pnl = sum of "
                         "daily net P&L (realized - fees + change of unrealized) of the period, exact",
                 "missing": listed(missing), "mismatched": listed(differ)}),
        "trading days of P&L", days)


SPEC = make_spec("business", "reporting", check, "a report for every day, week and month, matching the P&L",
                 ("reports_missing", "report_mismatches", "reports", "periods_expected"),
                 {"periods": {"type": "array", "items": {"enum": list(PERIODS)}, "minItems": 1}})
