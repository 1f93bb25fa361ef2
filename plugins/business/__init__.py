"""Business validation and ongoing-operations checks from the trading records.

Plan lines 110-136 (ongoing live operations) and 164-190 (business validation): P&L
reconciliation, Sharpe/drawdown, attribution, period reports, KPI tracking, release testing of
new versions, win/loss, ROI vs v1.0, A/B tests, position scaling, event-day and per-regime
performance. Each module holds one check and its ``SPEC``.
"""
from __future__ import annotations

from golive import hookimpl
from golive.plugins.business import (
    ab_test, attribution, event_days, kpis, performance, pnl_reconciliation, regimes, release_testing, reporting,
    roi, scaling, win_loss,
)

MODULES = (pnl_reconciliation, performance, attribution, win_loss, roi, ab_test, scaling, event_days, regimes,
           reporting, kpis, release_testing)


@hookimpl
def golive_checks():
    return [m.SPEC for m in MODULES]
