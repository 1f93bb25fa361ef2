"""Plan ``schedule`` blocks as APScheduler 3.x triggers, with exchange calendars.

A block is ``{cron: "*/15 9-16 * * mon-fri" | interval: "15 min", timezone: ..., calendar: XNYS}``.
Without a calendar the cron or interval trigger fires as written. With one (any name the
``exchange-calendars`` package knows: XNYS, XNAS, CME, XLON, ...) :class:`CalendarTrigger`
filters the underlying fire times:

* a **market-hours** schedule -- one whose times fall inside the exchange's regular trading
  hours -- fires only while the market is actually open: never on holidays, and not after an
  early close (on the XNYS half day 2026-11-27 the market closes at 13:00, so a 15-minute check
  stops there);
* an **end-of-day** schedule -- every time outside the regular hours, e.g. 17:30 or 18:00 --
  fires on trading sessions only (half days included: the session happened and its records
  exist), never on holidays or weekends.

Fire times filtered out are not lost silently: :meth:`CalendarTrigger.skipped_between` lists
them with a reason, and the scheduler records them in the ledger. :class:`PeriodEndTrigger`
keeps only the last fire of each week or month (weekly and monthly reports on the last trading
session of the period). Triggers are pickled into the job store, so the calendar object itself
is never part of their state: it is looked up (and cached) by name.
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

MAX_SCAN = 20_000  # underlying fire times examined before giving up (a schedule that never fires)
PERIODS = ("daily", "weekly", "monthly")



def just_after(moment: datetime) -> datetime:
    """One microsecond after ``moment`` in real time, in ``moment``'s time zone. Adding to an
    aware datetime is wall-clock arithmetic in Python: at a DST fall-back, 01:00 (second
    occurrence) + 1 us lands back in the first 01:00 hour, and a scan asking for "the next fire
    after" would get 01:00 again for ever."""
    if moment.tzinfo is None:
        return moment + timedelta(microseconds=1)
    return (moment.astimezone(timezone.utc) + timedelta(microseconds=1)).astimezone(moment.tzinfo)


class ScheduleError(ValueError):
    """A schedule block cannot be turned into a trigger (message names what to fix)."""


@functools.lru_cache(maxsize=16)
def exchange_calendar(name: str):
    """The ``exchange_calendars`` calendar called ``name`` (cached: building one takes ~0.3 s)."""
    import exchange_calendars as xcals

    try:
        with warnings.catch_warnings():
            # exchange-calendars' own pandas deprecations at build time: not the operator's concern
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return xcals.get_calendar(name.upper())
    except Exception as exc:  # noqa: BLE001 -- InvalidCalendarName and friends
        known = ", ".join(n for n in xcals.get_calendar_names() if n.isupper())[:300]
        raise ScheduleError(f"unknown exchange calendar {name!r} ({exc.__class__.__name__}); "
                            f"use an exchange-calendars name such as XNYS, XNAS, CME, XLON: {known} ...") from None


def _ts(moment: datetime):
    import pandas as pd
    return pd.Timestamp(moment).tz_convert("UTC")


@dataclass(frozen=True)
class Skip:
    """A fire time the calendar filtered out, and why."""

    time: datetime
    reason: str


class CalendarTrigger(BaseTrigger):
    """``inner`` (a cron or interval trigger) restricted to the sessions of exchange ``calendar``."""

    __slots__ = ("inner", "calendar", "_market_hours")

    def __init__(self, inner: BaseTrigger, calendar: str) -> None:
        self.inner = inner
        self.calendar = calendar.upper()
        exchange_calendar(self.calendar)  # fail at build time, not at the first fire
        self._market_hours: bool | None = None

    # -- pickling: the calendar is looked up by name, never stored -------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "inner": self.inner, "calendar": self.calendar}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("version") != 1:
            raise ValueError(f"cannot restore a CalendarTrigger of state version {state.get('version')}")
        self.inner, self.calendar, self._market_hours = state["inner"], state["calendar"], None

    def __str__(self) -> str:
        return f"{self.inner} on {self.calendar} {'market hours' if self.market_hours else 'trading days'}"

    def __repr__(self) -> str:
        return f"<CalendarTrigger {self.inner!r} calendar={self.calendar}>"

    @property
    def market_hours(self) -> bool:
        """True when the schedule fires inside the regular trading hours of a normal session."""
        if self._market_hours is None:
            cal = exchange_calendar(self.calendar)
            tz = ZoneInfo(str(cal.tz))
            regular_open, regular_close = cal.open_times[-1][1], cal.close_times[-1][1]
            # Any normal session will do; take the latest full-length one the calendar knows.
            sessions = cal.sessions[-300:]
            day = next(s for s in reversed(sessions)
                       if cal.session_close(s).tz_convert(str(cal.tz)).time() == regular_close)
            start = datetime.combine(day.date(), regular_open, tz)
            end = datetime.combine(day.date(), regular_close, tz)
            if cal.open_offset:  # an overnight session (CME): the regular hours start the day before
                start -= timedelta(days=-cal.open_offset)
            first = self.inner.get_next_fire_time(None, start)
            self._market_hours = first is not None and first < end
        return self._market_hours

    def verdict(self, moment: datetime) -> str | None:
        """None when the trigger may fire at ``moment``, else why it must not."""
        cal = exchange_calendar(self.calendar)
        local = moment.astimezone(ZoneInfo(str(cal.tz)))
        if self.market_hours:
            try:
                if cal.is_open_on_minute(_ts(moment)):
                    return None
            except Exception as exc:  # noqa: BLE001 -- outside the calendar's bounds
                return f"outside the {self.calendar} calendar's range ({exc.__class__.__name__})"
            day = local.date().isoformat()
            if not cal.is_session(day):
                return f"{day} is not a {self.calendar} trading session (weekend or holiday)"
            close = cal.session_close(day).tz_convert(str(cal.tz)).time()
            if close != cal.close_times[-1][1] and local.time() >= close:
                return f"{day} is a {self.calendar} half day: the market closed at {close:%H:%M}"
            return f"outside {self.calendar} trading hours on {day}"
        day = local.date().isoformat()
        try:
            if cal.is_session(day):
                return None
        except Exception as exc:  # noqa: BLE001
            return f"outside the {self.calendar} calendar's range ({exc.__class__.__name__})"
        return f"{day} is not a {self.calendar} trading session (weekend or holiday)"

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        prev = previous_fire_time
        for _ in range(MAX_SCAN):
            candidate = self.inner.get_next_fire_time(prev, now)
            if candidate is None:
                return None
            if self.verdict(candidate) is None:
                return candidate
            # prev=None: an interval trigger would otherwise step from prev and ignore ``now``.
            prev, now = None, max(just_after(candidate), self._resume_after(candidate))
        return None

    def _resume_after(self, refused: datetime) -> datetime:
        """The earliest time worth trying after a refused fire: the next open for a
        market-hours schedule, the next day otherwise (keeps scans over holidays short)."""
        cal = exchange_calendar(self.calendar)
        try:
            if self.market_hours:
                return cal.next_open(_ts(refused)).to_pydatetime().astimezone(refused.tzinfo)
        except Exception:  # noqa: BLE001 -- past the calendar's end: step a day
            pass
        local = refused.astimezone(ZoneInfo(str(cal.tz)))
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), local.tzinfo)
        return midnight.astimezone(refused.tzinfo)

    def skipped_between(self, start: datetime, end: datetime) -> list[Skip]:
        """Fire times of the underlying schedule in (start, end] that the calendar refused."""
        skipped, prev, now = [], None, just_after(start)
        for _ in range(MAX_SCAN):
            t = self.inner.get_next_fire_time(prev, now)
            if t is None or t > end:
                break
            reason = self.verdict(t)
            if reason is not None:
                skipped.append(Skip(t, reason))
            now = just_after(t)
        return skipped


class PeriodEndTrigger(BaseTrigger):
    """Keeps the fires of ``inner`` that fall on its last firing day of each week or month."""

    __slots__ = ("inner", "period", "timezone")

    def __init__(self, inner: BaseTrigger, period: str, timezone: str) -> None:
        if period not in ("weekly", "monthly"):
            raise ScheduleError(f"a period-end trigger is weekly or monthly, not {period!r}")
        self.inner, self.period, self.timezone = inner, period, timezone

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "inner": self.inner, "period": self.period, "timezone": self.timezone}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.inner, self.period, self.timezone = state["inner"], state["period"], state["timezone"]

    def __str__(self) -> str:
        return f"last fire of each {self.period[:-2]} of [{self.inner}]"

    def __repr__(self) -> str:
        return f"<PeriodEndTrigger {self.period} {self.inner!r}>"

    def _key(self, moment: datetime) -> tuple[int, int]:
        local = moment.astimezone(ZoneInfo(self.timezone))
        if self.period == "weekly":
            iso = local.isocalendar()
            return iso[0], iso[1]
        return local.year, local.month

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        prev = previous_fire_time
        for _ in range(MAX_SCAN):
            candidate = self.inner.get_next_fire_time(prev, now)
            if candidate is None:
                return None
            local = candidate.astimezone(ZoneInfo(self.timezone))
            next_day = datetime.combine(local.date() + timedelta(days=1), time(0), local.tzinfo)
            following = self.inner.get_next_fire_time(None, next_day)
            if following is None or self._key(following) != self._key(candidate):
                return candidate
            prev, now = None, just_after(candidate)
        return None


def build_trigger(schedule: Mapping[str, Any], where: str = "schedule") -> BaseTrigger:
    """The trigger for one plan ``schedule`` block; ``where`` names it in error messages."""
    from golive.plan.units import UnitError, duration_seconds

    timezone = str(schedule.get("timezone") or "UTC")
    try:
        ZoneInfo(timezone)
    except Exception:  # noqa: BLE001 -- ZoneInfoNotFoundError, ValueError
        raise ScheduleError(f"{where}: unknown time zone {timezone!r}; use an IANA name such as America/New_York") from None
    if ("cron" in schedule) == ("interval" in schedule):
        raise ScheduleError(f"{where}: a schedule needs exactly one of 'cron' or 'interval'")
    if "cron" in schedule:
        try:
            inner: BaseTrigger = CronTrigger.from_crontab(str(schedule["cron"]), timezone=timezone)
        except ValueError as exc:
            raise ScheduleError(f"{where}: invalid cron expression {schedule['cron']!r}: {exc}") from None
    else:
        try:
            seconds = duration_seconds(schedule["interval"])
        except UnitError as exc:
            raise ScheduleError(f"{where}: {exc}") from None
        if seconds <= 0:
            raise ScheduleError(f"{where}: interval must be positive, got {schedule['interval']!r}")
        # A fixed anchor keeps interval fires identical across restarts (reconciling must not shift them).
        inner = IntervalTrigger(seconds=seconds, timezone=timezone,
                                start_date=datetime(2020, 1, 1, tzinfo=ZoneInfo(timezone)))
    if schedule.get("calendar"):
        return CalendarTrigger(inner, str(schedule["calendar"]))
    return inner


def skipped_between(trigger: BaseTrigger, start: datetime, end: datetime) -> list[Skip]:
    """Calendar-refused fire times of ``trigger`` in (start, end] (none for plain triggers)."""
    base = trigger.inner if isinstance(trigger, PeriodEndTrigger) else trigger
    return base.skipped_between(start, end) if isinstance(base, CalendarTrigger) else []


def fire_times(trigger: BaseTrigger, start: datetime, end: datetime, limit: int = 10_000) -> list[datetime]:
    """Every fire of ``trigger`` in (start, end], oldest first (at most ``limit``)."""
    times, prev, now = [], None, just_after(start)
    while len(times) < limit:
        t = trigger.get_next_fire_time(prev, now)
        if t is None or t > end:
            break
        times.append(t)
        now = just_after(t)
    return times
