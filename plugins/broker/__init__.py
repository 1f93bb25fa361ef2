"""Broker and limited-live checks from the trading records (plan lines 84-96, 200-204).

Position size, order lifecycle, slippage, stop-loss execution, cost and budget, and trade
reconciliation with the broker statement. Each module holds one check and its ``SPEC``.
"""
from __future__ import annotations

from golive import hookimpl
from golive.plugins.broker import costs, order_lifecycle, position_max, reconciliation, slippage, stop_execution

MODULES = (position_max, order_lifecycle, slippage, stop_execution, costs, reconciliation)


@hookimpl
def golive_checks():
    return [m.SPEC for m in MODULES]
