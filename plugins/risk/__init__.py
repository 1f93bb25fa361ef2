"""Risk checks from the trading records (plan lines 137-144 and 113-117).

Position limits and automatic reduction, portfolio exposure, kill-switch drills and
correlation risk. Each module holds one check and its ``SPEC``.
"""
from __future__ import annotations

from golive import hookimpl
from golive.plugins.risk import correlation, exposure, kill_switch, position_limits

MODULES = (position_limits, exposure, kill_switch, correlation)


@hookimpl
def golive_checks():
    return [m.SPEC for m in MODULES]
