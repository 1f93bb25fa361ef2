"""Regulatory evidence checks (section REG, `source: regulation`): what MiFID II RTS 6 and SEC
Rule 15c3-5 ask for that the firm's 217-line plan does not.

The algorithm inventory (``algorithms.yaml``), kill functionality drills per venue, order
traceability, pre-trade controls proven by their rejections, venue conformance tests and limits
set before deployment. Each module holds one check and its ``SPEC``; ``inventory`` reads the
inventory file they share.
"""
from __future__ import annotations

from golive import hookimpl
from golive.plugins.regulatory import (
    algorithm_inventory, conformance, deployment_limits, kill_drills, pretrade_controls, traceability,
)

MODULES = (algorithm_inventory, kill_drills, traceability, pretrade_controls, conformance, deployment_limits)


@hookimpl
def golive_checks():
    return [m.SPEC for m in MODULES]
