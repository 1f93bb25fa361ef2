from decimal import Decimal

import pytest

from golive.model import Quantity, Threshold
from golive.plan.thresholds import describe, evaluate, evaluate_one, is_looser, ThresholdError


@pytest.mark.parametrize("op,limit,observed,expected", [
    ("<", 100, 99.9, True), ("<", 100, 100, False), ("<=", 100, 100, True),
    (">", 1.8, 1.81, True), (">", 1.8, 1.8, False), (">=", 0.6, 0.6, True),
    ("==", 1, 1, True), ("==", 1, 2, False),
    ("between", (0, 80), 80, True), ("between", (0, 80), 80.01, False), ("between", (10, 20), 9, False),
])
def test_operators(op, limit, observed, expected):
    assert evaluate_one(Threshold("m", op, limit), {"m": observed}).passed is expected


def test_quantity_is_converted_into_the_threshold_unit():
    t = Threshold("duration_p95", "<", 2, "min")
    assert evaluate_one(t, {"duration_p95": Quantity(119, "s")}).passed
    r = evaluate_one(t, {"duration_p95": Quantity(121, "s")})
    assert not r.passed and r.observed == pytest.approx(121 / 60)
    assert evaluate_one(Threshold("acc", ">", 75, "%"), {"acc": Quantity(0.76, "ratio")}).passed


def test_incompatible_units_and_missing_metric_are_errors_not_failures():
    with pytest.raises(ThresholdError, match="USD"):
        evaluate_one(Threshold("cost", "<=", 8, "USD"), {"cost": Quantity(3, "s")})
    results, problems = evaluate([Threshold("latency_p99", "<", 100, "ms")], {"other": 1})
    assert problems == ["the check reported no metric 'latency_p99' (it reported: other)"]
    assert results[0].passed is False and results[0].observed is None


def test_decimal_metrics_compare_exactly_with_float_limits():
    assert evaluate_one(Threshold("cost", "<=", 8, "USD"), {"cost": Decimal("8.00")}).passed
    assert not evaluate_one(Threshold("cost", "<=", 8.0, "USD"), {"cost": Decimal("8.000000001")}).passed


def test_nan_never_passes_and_strings_only_compare_equal():
    assert not evaluate_one(Threshold("m", "<", 1), {"m": float("nan")}).passed
    assert evaluate_one(Threshold("state", "==", "closed"), {"state": "closed"}).passed
    with pytest.raises(ThresholdError):
        evaluate_one(Threshold("state", "<", 3), {"state": "closed"})


def test_describe_and_looseness():
    assert describe(Threshold("latency_p99", "<", 100, "ms")) == "latency_p99 < 100 ms"
    assert describe(Threshold("cpu", "between", (0, 80), "%")) == "cpu between 0 and 80 %"
    assert is_looser("<", 100, 150) and not is_looser("<", 100, 50)
    assert is_looser(">=", 0.999, 0.99) and not is_looser(">=", 0.999, 0.9995)
    assert is_looser("between", (0, 80), (0, 90)) and not is_looser("between", (0, 80), (5, 75))
