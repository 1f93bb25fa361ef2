"""The units a plan threshold or a metric may be stated in (docs/plan-format.md, "Units").

Each unit belongs to one dimension and has a factor into that dimension's base unit (time: s,
fraction: ratio, money: USD, size: B, count: count). Rates are not decomposed into
money/time or count/time: ``USD/day`` compares only with ``USD/day``, because a plan that says
"$8/day" means a per-day budget, and silently turning it into USD/s would hide unit mistakes.
"""
from __future__ import annotations

import re
from decimal import Decimal

DAY_S = 86_400.0
# The plan format fixes a month at 30.4375 days (365.25 / 12), so monthly budgets convert
# the same way everywhere.
MONTH_S = 30.4375 * DAY_S

UNITS: dict[str, tuple[str, float]] = {
    # time, base: second
    "ns": ("time", 1e-9),
    "us": ("time", 1e-6),
    "ms": ("time", 1e-3),
    "s": ("time", 1.0),
    "min": ("time", 60.0),
    "h": ("time", 3_600.0),
    "d": ("time", DAY_S),
    "week": ("time", 7 * DAY_S),
    "month": ("time", MONTH_S),
    # fraction, base: ratio
    "ratio": ("fraction", 1.0),
    "%": ("fraction", 0.01),
    # money, base: US dollar
    "USD": ("money", 1.0),
    # size, base: byte
    "B": ("size", 1.0),
    "KiB": ("size", 1024.0),
    "MiB": ("size", 1024.0**2),
    "GiB": ("size", 1024.0**3),
    # count, base: count
    "count": ("count", 1.0),
    "contracts": ("count", 1.0),
    "records": ("count", 1.0),
    # rates: each is its own dimension, so they convert only to themselves
    "USD/day": ("rate:USD/day", 1.0),
    "USD/month": ("rate:USD/month", 1.0),
    "records/s": ("rate:records/s", 1.0),
}


class UnitError(ValueError):
    """A unit is unknown, or two units cannot be converted into each other."""


def is_known(unit: str) -> bool:
    """True when ``unit`` is in the plan format's unit table (case-sensitive: ``MiB``, not ``mib``)."""
    return isinstance(unit, str) and unit in UNITS


def dimension(unit: str) -> str:
    """The dimension of ``unit`` (``time``, ``fraction``, ``money``, ``size``, ``count``, ``rate:...``)."""
    if not is_known(unit):
        raise UnitError(f"unknown unit {unit!r}; known units: {', '.join(UNITS)}")
    return UNITS[unit][0]


def convert(value: float | int | Decimal, from_unit: str, to_unit: str) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit``, e.g. ``convert(2, "min", "s") == 120.0``.

    Raises :class:`UnitError` for an unknown unit or units of different dimensions.
    """
    from_dim, to_dim = dimension(from_unit), dimension(to_unit)
    if from_dim != to_dim:
        raise UnitError(
            f"cannot convert {from_unit} ({from_dim}) to {to_unit} ({to_dim}): different dimensions"
        )
    number = float(value)
    if from_unit == to_unit:
        return number
    return number * UNITS[from_unit][1] / UNITS[to_unit][1]


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*([A-Za-z]+)\s*$")


def duration_seconds(text: str | int | float) -> float:
    """Seconds in a duration such as ``"15 min"``, ``"1h"`` or ``90`` (a bare number is seconds).

    Used for schedule intervals; raises :class:`UnitError` for anything else.
    """
    if isinstance(text, bool):
        raise UnitError(f"duration {text!r} is a boolean, not a duration")
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise UnitError(f"duration {text!r} is not '<number> <time unit>', e.g. '15 min'")
        number, unit = match.groups()
        if UNITS.get(unit, ("",))[0] != "time":
            time_units = ", ".join(u for u, (dim, _) in UNITS.items() if dim == "time")
            raise UnitError(f"duration {text!r}: {unit!r} is not a time unit ({time_units})")
        seconds = convert(float(number), unit, "s")
    if not seconds > 0 or seconds == float("inf"):
        raise UnitError(f"duration {text!r} must be a positive, finite time")
    return seconds
