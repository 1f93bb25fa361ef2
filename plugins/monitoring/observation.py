"""What a check observed: the evidence count and period behind its verdict (issue 14.3).

Every check of the risk, broker, audit, business and monitoring families fills
``CheckResult.observed`` with ``{"events", "first", "newest", "what"}`` so the engine can refuse a
pass on nothing (zero events -> ``missing``: "not exercised: no <what> in the period") and judge
a requirement's ``min_period`` / ``max_age`` against ``first`` / ``newest``. ``observed()`` builds
that dict from event times of any kind the families use (epoch seconds, datetimes, pandas
timestamps); ``not_exercised()`` is the ``missing`` result for an event that never occurred.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timezone
from typing import Any, Iterable

from golive.model import CheckResult, Status


def _epoch(value: Any) -> float | None:
    """Epoch seconds (UTC) of a time, or None for a missing one (None, NaT, NaN)."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp; NaT has it too but is not a time
        if value != value:
            return None
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) else None
    raise TypeError(f"not a time: {value!r}")


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def observed(what: str, times: Iterable[Any], events: int | None = None) -> dict:
    """The observed dict for events at ``times``; ``events`` overrides the count when some events
    carry no time (they still count, but cannot date the period)."""
    stamps = [s for s in (_epoch(t) for t in times) if s is not None]
    return {"events": len(stamps) if events is None else int(events),
            "first": _iso(min(stamps)) if stamps else None,
            "newest": _iso(max(stamps)) if stamps else None,
            "what": what}


def observe(result: CheckResult, what: str, times: Iterable[Any], events: int | None = None) -> CheckResult:
    """``result`` with its ``observed`` filled (returned, so a check can ``return observe(...)``)."""
    result.observed = observed(what, times, events)
    return result


def not_exercised(what: str, detail: str = "", **result_fields: Any) -> CheckResult:
    """``missing``: the event this requirement is about never happened in the records.

    ``detail`` says what else would have counted (e.g. a drill record), so the team knows what to
    supply; metrics and details already computed may be passed on for the report."""
    message = f"not exercised: no {what} in the period" + (f"; {detail}" if detail else "")
    return observe(CheckResult(status=Status.MISSING, message=message, **result_fields), what, ())
