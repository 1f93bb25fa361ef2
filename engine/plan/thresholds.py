"""Evaluating the plan's typed thresholds against the metrics a check reported.

The engine, never the checker, decides whether a number is good enough: checkers report
measurements, the plan states limits. A metric may be a plain number (taken to be in the
threshold's unit), a :class:`~golive.model.Quantity` (converted into the threshold's unit), a
``Decimal``, a bool (``==`` only) or a string (``==`` only).
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Iterable

from golive.model import Quantity, Threshold, ThresholdResult
from golive.plan.units import UnitError, convert

OPS = ("<", "<=", ">", ">=", "==", "between")


class ThresholdError(ValueError):
    """A metric cannot be compared with its threshold (missing, wrong type, incompatible unit)."""


def _number(value: Any, threshold: Threshold) -> float | Decimal:
    if isinstance(value, Quantity):
        if threshold.unit is None or value.unit == threshold.unit:
            return value.value
        try:
            return convert(value.value, value.unit, threshold.unit)
        except UnitError as exc:
            raise ThresholdError(
                f"metric {threshold.metric} is in {value.unit}, threshold in {threshold.unit}: {exc}"
            ) from exc
    if isinstance(value, bool):
        raise ThresholdError(f"metric {threshold.metric} is a boolean; only '==' applies to it")
    if isinstance(value, (int, float, Decimal)):
        return value
    raise ThresholdError(f"metric {threshold.metric} is {type(value).__name__} {value!r}, not a number")


def _compare(observed: float | Decimal, op: str, limit: Any) -> bool:
    # Mixed Decimal/float comparisons raise in Python; compare as Decimal via str for exactness.
    def same(a, b):
        if isinstance(a, Decimal) and isinstance(b, float):
            return a, Decimal(str(b))
        if isinstance(a, float) and isinstance(b, Decimal):
            return Decimal(str(a)), b
        return a, b

    if isinstance(observed, float) and math.isnan(observed):
        return False
    if op == "between":
        low, high = limit
        a, lo = same(observed, low)
        a, hi = same(a, high)
        return lo <= a <= hi
    a, b = same(observed, limit)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b}[op]


def evaluate_one(threshold: Threshold, metrics: dict[str, Any]) -> ThresholdResult:
    """Compare one metric with one threshold; raises ThresholdError when they cannot be compared."""
    if threshold.op not in OPS:
        raise ThresholdError(f"unknown operator {threshold.op!r} for {threshold.metric}")
    if threshold.metric not in metrics:
        raise ThresholdError(
            f"the check reported no metric {threshold.metric!r} "
            f"(it reported: {', '.join(sorted(metrics)) or 'none'})"
        )
    raw = metrics[threshold.metric]
    if isinstance(raw, (str, bool)) or (isinstance(raw, Quantity) and isinstance(raw.value, str)):
        if threshold.op != "==":
            raise ThresholdError(f"metric {threshold.metric} is {raw!r}; only '==' applies to it")
        passed = raw == threshold.value
        observed: Any = raw
    else:
        observed = _number(raw, threshold)
        passed = _compare(observed, threshold.op, threshold.value)
    return ThresholdResult(
        metric=threshold.metric, op=threshold.op, value=threshold.value, unit=threshold.unit,
        observed=observed, passed=bool(passed),
    )


def evaluate(thresholds: Iterable[Threshold], metrics: dict[str, Any]) -> tuple[list[ThresholdResult], list[str]]:
    """Evaluate every threshold; returns the results and the problems of those that could not be
    compared (each problem makes the requirement ``error``: a checker or plan bug)."""
    results: list[ThresholdResult] = []
    problems: list[str] = []
    for t in thresholds:
        try:
            results.append(evaluate_one(t, metrics))
        except ThresholdError as exc:
            problems.append(str(exc))
            results.append(ThresholdResult(t.metric, t.op, t.value, t.unit, observed=None, passed=False))
    return results, problems


def describe(t: ThresholdResult | Threshold) -> str:
    """``latency_p99 < 100 ms`` / ``cpu between 0 and 80 %``."""
    unit = f" {t.unit}" if t.unit else ""
    if t.op == "between":
        low, high = t.value
        return f"{t.metric} between {low} and {high}{unit}"
    return f"{t.metric} {t.op} {t.value}{unit}"


def is_looser(op: str, plan_value: Any, new_value: Any) -> bool:
    """True when a tailored threshold accepts more than the plan's (shown, never silent)."""
    if op in ("<", "<="):
        return new_value > plan_value
    if op in (">", ">="):
        return new_value < plan_value
    if op == "between":
        return new_value[0] < plan_value[0] or new_value[1] > plan_value[1]
    return new_value != plan_value
