"""The unit table and conversions of golive.plan.units."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from golive.plan.units import UNITS, UnitError, convert, dimension, duration_seconds, is_known


@pytest.mark.parametrize(
    "value, src, dst, expected",
    [
        (2, "min", "s", 120.0),
        (100, "ms", "s", 0.1),
        (0.1, "s", "ms", 100.0),
        (1, "h", "min", 60.0),
        (1, "week", "d", 7.0),
        (1, "month", "d", 30.4375),
        (1500, "us", "ms", 1.5),
        (75, "%", "ratio", 0.75),
        (0.999, "ratio", "%", 99.9),
        (1, "GiB", "MiB", 1024.0),
        (512, "KiB", "B", 524288.0),
        (3, "contracts", "count", 3.0),
        (8, "USD/day", "USD/day", 8.0),
        (Decimal("12.5"), "USD", "USD", 12.5),
    ],
)
def test_convert_known_pairs(value, src, dst, expected):
    assert convert(value, src, dst) == pytest.approx(expected, rel=1e-12)


def test_convert_returns_float_for_decimal_input():
    result = convert(Decimal("250"), "ms", "s")
    assert isinstance(result, float) and result == pytest.approx(0.25)


@pytest.mark.parametrize(
    "src, dst",
    [("s", "%"), ("USD", "USD/day"), ("USD/day", "USD/month"), ("records/s", "records"), ("B", "count")],
)
def test_different_dimensions_are_refused(src, dst):
    with pytest.raises(UnitError, match="different dimensions"):
        convert(1, src, dst)


@pytest.mark.parametrize("unit", ["sec", "mib", "", "USD/week", "percent"])
def test_unknown_units_are_refused(unit):
    assert not is_known(unit)
    with pytest.raises(UnitError, match="unknown unit"):
        convert(1, unit, "s")
    with pytest.raises(UnitError, match="unknown unit"):
        convert(1, "s", unit)


def test_unit_error_is_a_value_error():
    assert issubclass(UnitError, ValueError)


def test_table_covers_the_plan_format_units():
    documented = {
        "time": {"ns", "us", "ms", "s", "min", "h", "d", "week", "month"},
        "fraction": {"ratio", "%"},
        "money": {"USD"},
        "size": {"B", "KiB", "MiB", "GiB"},
        "count": {"count", "contracts", "records"},
    }
    for dim, units in documented.items():
        assert {u for u, (d, _) in UNITS.items() if d == dim} == units
    assert {u for u, (d, _) in UNITS.items() if d.startswith("rate")} == {"USD/day", "USD/month", "records/s"}
    assert dimension("month") == "time"
    assert is_known(None) is False  # type: ignore[arg-type]


same_dimension_pairs = st.sampled_from(sorted(UNITS)).flatmap(
    lambda a: st.tuples(st.just(a), st.sampled_from(sorted(u for u in UNITS if UNITS[u][0] == UNITS[a][0])))
)


@given(same_dimension_pairs, st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_round_trip_within_a_dimension(pair, value):
    src, dst = pair
    assert convert(convert(value, src, dst), dst, src) == pytest.approx(value, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("text, seconds", [
    ("15 min", 900.0), ("1h", 3600.0), ("90s", 90.0), ("2 d", 172800.0), ("0.5 week", 302400.0), (30, 30.0), (2.5, 2.5),
])
def test_duration_seconds(text, seconds):
    assert duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text, message", [
    ("15 bananas", "not a time unit"), ("5 MiB", "not a time unit"), ("soon", "not '<number> <time unit>'"),
    (0, "positive"), (-3, "positive"), ("0 s", "positive"), (True, "boolean"), (float("inf"), "finite"),
])
def test_duration_seconds_refuses_non_durations(text, message):
    with pytest.raises(UnitError, match=message):
        duration_seconds(text)
