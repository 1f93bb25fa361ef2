"""How the reports print numbers and identifiers (issue 14, presentation).

Numbers: a measured value is printed with the precision a reader can use, never in the raw
``repr`` of a float (``1.45157 min``, ``4.81481e-05 ratio``). Whole values print as integers,
values up to 10,000 with four significant digits, larger ones rounded to a whole number with
thousands separators, and small ones in fixed notation with three significant digits. A
``ratio`` prints as a percentage. Expected and observed values go through the same function,
so a threshold and the value judged against it always read alike.

Identifiers (metric names, file names, check keys) break only at ``_``, ``.``, ``/`` and ``-``
boundaries: :func:`wrap_points` inserts ``<wbr>`` there for HTML and PDF, and the stylesheet no
longer breaks words anywhere (``overflow-wrap: break-word`` only as a last resort).
"""
from __future__ import annotations

import math
import re

from markupsafe import Markup, escape

#: Units shown as a percentage of their value (a ratio of 0.0482 reads "4.82 %").
PERCENT_UNITS = ("ratio",)
_BREAK_AFTER = re.compile(r"([_./\-])(?=[^\s_./\-])")


def fmt_number(value: float | int) -> str:
    """``1.45157`` -> ``1.452``; ``4.81481e-05`` -> ``0.0000481``; ``16685.93`` -> ``16,686``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return fmt_number(int(value))
    magnitude = abs(value)
    if magnitude >= 10_000:
        return f"{round(value):,}"
    if magnitude >= 1e-3:
        text = f"{value:.4g}"
        return text if "e" not in text else f"{value:.4f}".rstrip("0").rstrip(".")
    if magnitude >= 1e-9:
        decimals = -math.floor(math.log10(magnitude)) + 2  # three significant digits
        return f"{value:.{decimals}f}".rstrip("0")
    return f"{value:.3g}"


def fmt_quantity(value: float | int, unit: str | None) -> str:
    """A number with its unit; ratios as percentages."""
    if unit in PERCENT_UNITS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{fmt_number(value * 100)} %"
    text = fmt_number(value) if isinstance(value, (int, float)) else str(value)
    return f"{text} {unit}" if unit else text


def wrap_points(text: object) -> Markup:
    """Escaped ``text`` with ``<wbr>`` after each ``_ . / -`` that a word character follows, so
    a narrow table cell wraps ``rss_growth_per_day_lower`` at ``_`` and never mid-word."""
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", str(escape(str(text)))))
