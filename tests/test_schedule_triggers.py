"""Schedule triggers driven by a controlled clock: ``get_next_fire_time(prev, now)`` is called
directly, never by waiting. XNYS facts used: 2026-11-01 US DST ends, 2026-11-26 Thanksgiving
(closed), 2026-11-27 half day (close 13:00), 2027-03-14 DST starts, 2027-03-26 Good Friday."""
from __future__ import annotations

import pickle
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import example, given, settings, strategies as st

from golive.schedule.triggers import (CalendarTrigger, PeriodEndTrigger, ScheduleError, build_trigger,
                                      exchange_calendar, fire_times, skipped_between)

NY = ZoneInfo("America/New_York")
QUARTER_HOURLY = {"cron": "*/15 9-16 * * mon-fri", "timezone": "America/New_York", "calendar": "XNYS"}
AFTER_CLOSE = {"cron": "30 17 * * mon-fri", "timezone": "America/New_York", "calendar": "XNYS"}
REPORT = {"cron": "0 18 * * mon-fri", "timezone": "America/New_York", "calendar": "XNYS"}


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def by_day(times: list[datetime]) -> dict[date, list[time]]:
    days: dict[date, list[time]] = {}
    for t in times:
        local = t.astimezone(NY)
        days.setdefault(local.date(), []).append(local.time())
    return days


def test_market_hours_fire_only_while_the_market_is_open_over_thanksgiving_and_the_half_day():
    trigger = build_trigger(QUARTER_HOURLY)
    assert isinstance(trigger, CalendarTrigger) and trigger.market_hours
    days = by_day(fire_times(trigger, ny(2026, 11, 25, 0, 0), ny(2026, 11, 30, 23, 59)))
    assert sorted(days) == [date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30)]  # no Thursday, no weekend
    assert days[date(2026, 11, 25)][0] == time(9, 30) and days[date(2026, 11, 25)][-1] == time(15, 45)
    assert len(days[date(2026, 11, 25)]) == 26
    assert days[date(2026, 11, 27)][-1] == time(12, 45)  # early close at 13:00
    assert len(days[date(2026, 11, 27)]) == 14


def test_next_fire_time_called_directly_steps_over_the_holiday_and_the_weekend():
    trigger = build_trigger(QUARTER_HOURLY)
    # Wednesday after the last fire: the next is Friday's open, not Thursday (holiday).
    nxt = trigger.get_next_fire_time(ny(2026, 11, 25, 15, 45), ny(2026, 11, 25, 15, 50))
    assert nxt == ny(2026, 11, 27, 9, 30)
    # Friday (half day) after 12:45: the next is Monday's open.
    nxt = trigger.get_next_fire_time(ny(2026, 11, 27, 12, 45), ny(2026, 11, 27, 12, 50))
    assert nxt == ny(2026, 11, 30, 9, 30)


def test_market_hours_stay_at_the_local_open_across_both_dst_changes():
    trigger = build_trigger(QUARTER_HOURLY)
    autumn = trigger.get_next_fire_time(None, ny(2026, 10, 30, 17, 0))  # Friday evening before DST ends
    assert autumn.astimezone(NY) == ny(2026, 11, 2, 9, 30)
    assert autumn.astimezone(timezone.utc).hour == 14  # 09:30 EST; the Friday open was 13:30 UTC (EDT)
    friday = trigger.get_next_fire_time(None, ny(2026, 10, 30, 9, 0))
    assert friday.astimezone(timezone.utc).hour == 13
    spring = trigger.get_next_fire_time(None, ny(2027, 3, 12, 17, 0))
    assert spring.astimezone(NY).time() == time(9, 30) and spring.astimezone(timezone.utc).hour == 13


def test_end_of_day_schedules_run_on_every_session_including_half_days():
    trigger = build_trigger(AFTER_CLOSE)
    assert not trigger.market_hours
    days = by_day(fire_times(trigger, ny(2026, 11, 23), ny(2026, 11, 30, 23, 0)))
    assert sorted(days) == [date(2026, 11, d) for d in (23, 24, 25, 27, 30)]
    assert all(v == [time(17, 30)] for v in days.values())


def test_skipped_fire_times_are_listed_with_their_reason():
    skipped = skipped_between(build_trigger(QUARTER_HOURLY), ny(2026, 11, 25, 16, 0), ny(2026, 11, 27, 16, 59))
    reasons = {s.time.astimezone(NY).date(): s.reason for s in skipped}
    assert "not a XNYS trading session" in reasons[date(2026, 11, 26)]
    assert "half day" in reasons[date(2026, 11, 27)]
    half_day = [s.time.astimezone(NY).time() for s in skipped if s.time.astimezone(NY).date() == date(2026, 11, 27)]
    assert time(13, 0) in half_day and time(12, 45) not in half_day
    assert skipped_between(build_trigger({"cron": "0 1 * * *"}), ny(2026, 11, 1), ny(2026, 11, 5)) == []


@pytest.mark.parametrize("period, start, end, expected", [
    ("monthly", ny(2026, 10, 1), ny(2027, 2, 1),
     [date(2026, 10, 30), date(2026, 11, 30), date(2026, 12, 31), date(2027, 1, 29)]),
    ("weekly", ny(2026, 11, 16), ny(2026, 12, 1), [date(2026, 11, 20), date(2026, 11, 27)]),
    ("weekly", ny(2027, 3, 22), ny(2027, 3, 29), [date(2027, 3, 25)]),  # Good Friday: Thursday's session
])
def test_period_reports_fire_on_the_last_trading_session(period, start, end, expected):
    trigger = PeriodEndTrigger(build_trigger(REPORT), period, "America/New_York")
    assert [t.astimezone(NY).date() for t in fire_times(trigger, start, end)] == expected
    assert all(t.astimezone(NY).time() == time(18, 0) for t in fire_times(trigger, start, end))


def test_interval_schedule_with_a_calendar_and_without():
    every_hour = build_trigger({"interval": "1h", "timezone": "America/New_York", "calendar": "XNYS"})
    days = by_day(fire_times(every_hour, ny(2026, 11, 25, 0, 0), ny(2026, 11, 27, 23, 0)))
    assert sorted(days) == [date(2026, 11, 25), date(2026, 11, 27)]
    assert days[date(2026, 11, 25)] == [time(h, 0) for h in range(10, 16)]
    assert days[date(2026, 11, 27)] == [time(h, 0) for h in range(10, 13)]
    plain = build_trigger({"interval": 900})
    assert len(fire_times(plain, ny(2026, 11, 26, 0, 0), ny(2026, 11, 26, 1, 0))) == 4


def test_triggers_survive_the_job_store_pickle():
    for trigger in (build_trigger(QUARTER_HOURLY), PeriodEndTrigger(build_trigger(REPORT), "monthly", "America/New_York")):
        copy = pickle.loads(pickle.dumps(trigger))
        now = ny(2026, 11, 26, 12, 0)
        assert copy.get_next_fire_time(None, now) == trigger.get_next_fire_time(None, now)
        assert str(copy) == str(trigger)


@pytest.mark.parametrize("block, message", [
    ({"cron": "0 18 * * mon-fri", "calendar": "NOPE"}, "unknown exchange calendar 'NOPE'"),
    ({"cron": "0 18 * * mon-fri", "timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"cron": "0 25 * * *"}, "invalid cron expression"),
    ({"cron": "0 1 * * *", "interval": 60}, "exactly one of"),
    ({"interval": "often"}, "schedule of RISK-05"),
])
def test_bad_schedule_blocks_name_the_problem(block, message):
    with pytest.raises(ScheduleError, match=message):
        build_trigger(block, "schedule of RISK-05")


MOMENTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30)).map(lambda d: d.replace(tzinfo=NY))
CRONS = st.sampled_from(["*/15 9-16 * * mon-fri", "*/5 9-16 * * *", "0 12 * * *", "30 17 * * mon-fri",
                         "0 18 * * *", "45 15 * * fri", "0 * * * *"])


@settings(max_examples=40, deadline=None)
@given(cron=CRONS, start=MOMENTS)
@example(cron="0 * * * *", start=datetime(2025, 10, 29, 0, 0, 0, 1).replace(tzinfo=NY))  # the DST week
def test_a_calendar_trigger_is_exactly_its_schedule_minus_the_refused_times(cron, start):
    trigger = build_trigger({"cron": cron, "timezone": "America/New_York", "calendar": "XNYS"})
    end = trigger.inner.get_next_fire_time(None, start) + timedelta(days=4)
    kept = fire_times(trigger, start, end)
    refused = [s.time for s in skipped_between(trigger, start, end)]
    assert sorted(kept + refused) == fire_times(trigger.inner, start, end)  # nothing lost, nothing invented
    cal = exchange_calendar(trigger.calendar)
    for t in kept:
        if trigger.market_hours:
            assert cal.is_open_on_minute(pd.Timestamp(t).tz_convert("UTC"))
        else:
            assert cal.is_session(t.astimezone(NY).date().isoformat())


def test_fire_times_cross_the_dst_fall_back_hour():
    """Found by hypothesis: at 2025-11-02 01:00 (second occurrence) wall-clock "+1 us" went back
    into the first 01:00 hour and the scan returned the same fire 10,000 times."""
    hourly = build_trigger({"cron": "0 * * * *", "timezone": "America/New_York"})
    start = datetime(2025, 11, 2, 0, 30, tzinfo=NY)
    times = fire_times(hourly, start, start + timedelta(hours=6))
    instants = [t.astimezone(timezone.utc) for t in times]  # 01:00 EDT and EST compare equal locally
    assert len(instants) == len(set(instants)) == 7  # 01:00 EDT, 01:00 EST, 02:00 ... 06:00
    assert [t.utcoffset() for t in times[:2]] == [timedelta(hours=-4), timedelta(hours=-5)]

