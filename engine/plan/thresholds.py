"""Evaluating the plan's typed thresholds against the metrics a check reported.

The engine, never the checker, decides whether a number is good enough: checkers report
measurements, the plan states limits. A metric may be a plain number (taken to be in the
threshold's unit), a :class:`~golive.model.Quantity` (converted into the threshold's unit), a
``Decimal``, a bool (``==`` only) or a string (``==`` only).
"""
from __future__ import annotations

import math
import operator
from decimal import Decimal
from typing import Any, Iterable

from golive.model import Quantity, Threshold, ThresholdResult
from golive.plan.units import UnitError, convert

OPS = ("<", "<=", ">", ">=", "==", "between")


class ThresholdError(ValueError):
    """A metric cannot be compared with its threshold (missing, wrong type, incompatible unit)."""


def _number(value: Any, threshold: Threshold) -> float | Decimal:
    if isinstance(value, Quantity):
        if not _is_number(value.value):
            raise ThresholdError(f"metric {threshold.metric} is {value.value!r} {value.unit}, not a number")
        if threshold.unit is None or value.unit == threshold.unit:
            return value.value
        try:
            return convert(value.value, value.unit, threshold.unit)
        except (TypeError, ValueError, ArithmeticError) as exc:  # UnitError, or a value float() refuses
            raise ThresholdError(
                f"metric {threshold.metric} is in {value.unit}, threshold in {threshold.unit}: {exc}"
            ) from exc
    if isinstance(value, bool):
        raise ThresholdError(f"metric {threshold.metric} is a boolean; only '==' applies to it")
    if isinstance(value, (int, float, Decimal)):
        return value
    raise ThresholdError(f"metric {threshold.metric} is {type(value).__name__} {value!r}, not a number")


_OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _looks_numeric(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def value_problem(op: Any, value: Any, unit: Any = None) -> str | None:
    """Why a threshold's ``value`` cannot be compared by ``op`` (None when it can).

    The validator, the tailoring loader and the evaluator share this rule, so whatever
    ``golive validate`` accepts the engine can evaluate: ``between`` takes ``[low, high]``,
    two numbers with low <= high; the other comparisons take a number; ``==`` also takes a
    string or boolean, but not with a unit (a unit belongs to a number)."""
    if op not in OPS:
        return f"unknown operator {op!r}; use one of {', '.join(OPS)}"
    if op == "between":
        if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(map(_is_number, value)):
            return f"op 'between' needs value: [low, high], two numbers, not {value!r}"
        if any(isinstance(v, float) and math.isnan(v) for v in value):
            return "a threshold value must be a number, not NaN"
        low, high = value
        if low > high:
            return f"between [{low}, {high}]: low is greater than high; write [low, high]"
        return None
    if isinstance(value, float) and math.isnan(value):
        return "a threshold value must be a number, not NaN"
    if _is_number(value):
        return None
    if op != "==":
        return f"op {op!r} compares numbers; {value!r} is not a number"
    if not isinstance(value, (str, bool)):
        return f"op '==' compares with a number, a string or a boolean, not {type(value).__name__} {value!r}"
    if isinstance(value, str) and _looks_numeric(value):
        return f"{value!r} is quoted text; write {value.strip()} without quotes to compare numbers"
    if unit is not None:
        return (f"{value!r} is not a number, but the threshold has unit {unit!r}; write a number "
                f"(e.g. value: 0) or drop the unit to compare text")
    return None


def _compare(observed: float | Decimal, op: str, limit: Any) -> bool:
    # Mixed Decimal/float comparisons raise in Python; compare as Decimal via str for exactness.
    def same(a, b):
        if isinstance(a, Decimal) and isinstance(b, float):
            return a, Decimal(str(b))
        if isinstance(a, float) and isinstance(b, Decimal):
            return Decimal(str(a)), b
        return a, b

    if (isinstance(observed, float) and math.isnan(observed)) or (isinstance(observed, Decimal) and observed.is_nan()):
        return False
    if op == "between":
        low, high = limit
        a, lo = same(observed, low)
        a, hi = same(a, high)
        return lo <= a <= hi
    a, b = same(observed, limit)
    return _OPERATORS[op](a, b)  # only the operator asked for: a dict of all five compared every pair


def evaluate_one(threshold: Threshold, metrics: dict[str, Any]) -> ThresholdResult:
    """Compare one metric with one threshold; raises ThresholdError when they cannot be compared."""
    problem = value_problem(threshold.op, threshold.value, threshold.unit)
    if problem is not None:
        raise ThresholdError(f"threshold on {threshold.metric}: {problem} (fix the plan or tailoring)")
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
        # a text threshold can never equal a number (a plan mistake, not a fail); ``== true``
        # on a 0/1 metric compares as Python does (True == 1)
        if isinstance(threshold.value, str):
            raise ThresholdError(f"metric {threshold.metric} is the number {observed!r}; the threshold "
                                 f"compares it with {threshold.value!r}, which is not a number")
        try:
            passed = _compare(observed, threshold.op, threshold.value)
        except (TypeError, ArithmeticError) as exc:  # e.g. a signalling-NaN Decimal from a check
            raise ThresholdError(f"metric {threshold.metric} = {observed!r} cannot be compared with "
                                 f"{describe(threshold)}: {type(exc).__name__}") from exc
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
        except Exception as exc:  # noqa: BLE001 -- an engine bug must cost one requirement, not the run
            problems.append(f"threshold on {t.metric} could not be evaluated ({type(exc).__name__}: {exc})")
            results.append(ThresholdResult(t.metric, t.op, t.value, t.unit, observed=None, passed=False))
    return results, problems


def describe(t: ThresholdResult | Threshold) -> str:
    """``latency_p99 < 100 ms`` / ``cpu between 0 and 80 %``."""
    unit = f" {t.unit}" if t.unit else ""
    if t.op == "between" and isinstance(t.value, (list, tuple)) and len(t.value) == 2:
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
