"""Algorithm checks from the trading records: EV analysis, IFD v3.0 and shadow trading.

Plan lines 35-58 (algorithm accuracy validation) and 71-83 (shadow trading mode). Each module
holds one check and its ``SPEC``; this module registers them all with pluggy.
"""
from __future__ import annotations

from golive import hookimpl
from golive.plugins.algorithm import (
    accuracy, backtest, confidence, edge_cases, ev_thresholds, institutional_size, mbo_pressure, patterns,
    priority, quality_setups, risk_reward, shadow_agreement, shadow_duration, signal_timing, volume_ratio,
)

MODULES = (ev_thresholds, quality_setups, risk_reward, edge_cases, mbo_pressure, accuracy, patterns,
           confidence, volume_ratio, institutional_size, backtest, priority, shadow_duration,
           shadow_agreement, signal_timing)


@hookimpl
def golive_checks():
    return [m.SPEC for m in MODULES]
