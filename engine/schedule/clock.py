"""A controllable clock for the scheduler: production uses the wall clock; tests tick by hand.

APScheduler 3.x reads the time with ``datetime.now`` inside ``apscheduler.schedulers.base`` and
``apscheduler.executors.base``. :func:`apscheduler_time` swaps that name for the duration of a
manual tick, so a whole weekend of schedule is simulated in milliseconds without sleeping.
Only the manual (non-threaded) scheduler uses it; the patch is not thread-safe by design.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told to (timezone-aware)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a ManualClock needs a timezone-aware start time")
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment

    def advance(self, **delta: float) -> datetime:
        self.moment = self.moment + timedelta(**delta)
        return self.moment


@contextmanager
def apscheduler_time(clock: Clock) -> Iterator[None]:
    """Make APScheduler's ``datetime.now`` answer ``clock()`` inside the block."""
    import apscheduler.executors.base as executors_base
    import apscheduler.schedulers.base as schedulers_base

    class _ClockedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001 -- datetime's signature
            moment = clock()
            return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

    saved = schedulers_base.datetime, executors_base.datetime
    schedulers_base.datetime = executors_base.datetime = _ClockedDatetime
    try:
        yield
    finally:
        schedulers_base.datetime, executors_base.datetime = saved
