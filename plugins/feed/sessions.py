"""Venue trading sessions: which MBO records were received in continuous trading.

Each record gets a *segment* code: ``SEG_CONTINUOUS`` (continuous trading), ``SEG_SNAPSHOT``
(``F_SNAPSHOT`` book snapshot), ``SEG_PRE_OPEN`` (pre-open and auction: the window before an
open, and orders the venue re-enters at the open) and ``SEG_HALTED`` (closed, halted, outside
any session: nights, weekends, holidays). Quality checks judge latency, ordering, silences and
crossed books in continuous trading only; the other segments are counted, not judged.

Sessions come from the dataset's venue rule (:data:`VENUES`): the trading days, holidays and
early closes of an ``exchange_calendars`` calendar, and the venue's daily hours:

* ``GLBX.MDP3`` (CME Globex): calendar ``CMES``, 17:00-16:00 America/Chicago. ``CMES`` closes
  its sessions at 17:00 CT, the end of the daily maintenance halt (16:00-17:00 CT): trading
  ends at min(calendar close, 16:00 CT), i.e. calendar close - 60 min on a regular day and the
  calendar's early close (e.g. 12:00 CT) on a short day. Pre-open: the 60 min before the open
  (Globex pre-open starts 16:00 CT on a Sunday or after a holiday, 16:45 CT on weekdays).
* US equities (``XNAS.*``; ``XNYS.*``, ``DBEQ.*``, ``ARCX.*``, ``BATS.*`` ... on ``XNYS``):
  09:30-16:00 America/New_York with the calendar's early closes; pre-open: the 04:00-09:30 ET
  early session and opening cross; after-hours trading counts as outside the session (halted).
* ``IFEU.IMPACT`` (ICE Futures Europe): trading days and holidays of the ``ICE`` calendar
  (exchange_calendars' ICE US calendar, the closest it has), 01:00-23:00 Europe/London.
* ``NDEX.IMPACT`` (ICE Endex): 08:00-18:00 Europe/Amsterdam on ``ICE`` calendar days (an
  approximation: Endex products have their own hours, most trade inside this window).

Databento ``status`` records (rtype 0x12) override the calendar for their instrument from their
``ts_recv`` on (:meth:`SessionPlan.add_status`). A dataset without a rule gets no calendar: every
non-snapshot record is continuous, and :meth:`SessionPlan.describe` says so; a plan can give its
own hours (``override``, the ``market_hours`` shape plus ``calendar`` and ``pre_open_minutes``).
Classification is a ``np.searchsorted`` of ``ts_recv`` into the session boundaries (one pass).
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

SEG_CONTINUOUS, SEG_SNAPSHOT, SEG_PRE_OPEN, SEG_HALTED = 0, 1, 2, 3
SEGMENT_NAMES = ("continuous", "snapshot", "pre_open", "halted")
F_SNAPSHOT = 32
DAY_NS = 86_400 * 10**9
_PAD_DAYS = 3  # sessions built this far around the asked range (a session opens the day before)
# sessions are built inside these dates only (a corrupt timestamp must not build centuries)
_FIRST_DAY, _LAST_DAY = date(1990, 1, 1), date(2200, 1, 1)
_PHASE_SEGMENT = np.array([SEG_HALTED, SEG_PRE_OPEN, SEG_CONTINUOUS], np.uint8)
# databento_dbn.StatusAction values
_STATUS_PRE_OPEN = {1, 2, 3, 4, 5, 6, 11}  # pre-open, pre-cross, quoting, cross, rotation, NPI, pre-close
_STATUS_HALTED = {8, 9, 10, 12, 13, 15}  # halt, pause, suspend, close, post-close, not available
_STATUS_TRADING = 7


@dataclass(frozen=True)
class VenueRule:
    venue: str
    calendar: str | None  # exchange_calendars name: trading days, holidays (and early closes)
    timezone: str
    open: time
    close: time  # at or before ``open``: the session opens the evening before its date
    pre_open_minutes: int
    calendar_times: bool = True  # also take the calendar's early closes / late opens
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # without a calendar: weekdays that trade
    holidays: tuple[date, ...] = ()
    note: str = ""


_US_EQUITY = dict(timezone="America/New_York", open=time(9, 30), close=time(16), pre_open_minutes=330,
                  note="regular session 09:30-16:00 ET; 04:00-09:30 ET is pre-open (early session, "
                       "opening cross); after-hours trading is outside the session")
VENUES: dict[str, VenueRule] = {
    "GLBX": VenueRule("CME Globex", "CMES", "America/Chicago", time(17), time(16), 60,
                      note="CMES closes at 17:00 CT, the end of the 16:00-17:00 CT maintenance halt: "
                           "trading close = min(calendar close, 16:00 CT); pre-open = 60 min before the open"),
    "XNAS": VenueRule("Nasdaq", "XNAS", **_US_EQUITY),
    "IFEU": VenueRule("ICE Futures Europe", "ICE", "Europe/London", time(1), time(23), 60, False,
                      note="trading days and holidays of the ICE calendar; hours 01:00-23:00 London"),
    "NDEX": VenueRule("ICE Endex", "ICE", "Europe/Amsterdam", time(8), time(18), 60, False,
                      note="approximation: 08:00-18:00 Amsterdam on ICE calendar days (Endex products "
                           "have their own hours, most inside this window)"),
}
for _code in ("XNYS", "ARCX", "XASE", "XCHI", "XCIS", "XBOS", "XPSX", "BATS", "BATY", "EDGA",
              "EDGX", "IEXG", "EPRL", "MEMX", "DBEQ", "EQUS"):
    VENUES.setdefault(_code, VenueRule(f"US equities ({_code})", "XNYS", **_US_EQUITY))

OVERRIDE_KEYS = {"calendar", "timezone", "open", "close", "days", "holidays", "pre_open_minutes"}


class SessionError(ValueError):
    """A sessions override that cannot be used (the message names the field)."""


# exchange-calendars builds its sessions with ``Series.values`` on tz-aware columns, which pandas 3.1
# deprecates. ``catch_warnings`` below is not enough: checks run in threads and any other thread's
# ``catch_warnings`` (pandas uses many) restores the global filters mid-build, so the warning reached
# users' stderr four times per run (seen on nautilus_trader). This filter names that one message.
warnings.filterwarnings("ignore", message=r"Series\.values returning an ndarray that drops timezone",
                        category=DeprecationWarning)


@functools.lru_cache(maxsize=16)
def _calendar(name: str, first_year: int, last_year: int):
    import exchange_calendars as xcals

    with warnings.catch_warnings():  # exchange-calendars' own pandas deprecations
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return xcals.get_calendar(name.upper(), start=f"{first_year}-01-01", end=f"{last_year}-12-31")


def rule_from_override(spec: dict) -> VenueRule:
    """A :class:`VenueRule` from a plan's ``sessions``/``market_hours`` block, validated."""
    if not isinstance(spec, dict):
        raise SessionError(f"sessions must be a mapping, not {type(spec).__name__}")
    unknown = set(spec) - OVERRIDE_KEYS
    if unknown:
        raise SessionError(f"sessions: unknown key(s) {', '.join(sorted(unknown))}; "
                           f"known: {', '.join(sorted(OVERRIDE_KEYS))}")
    try:
        tz = spec.get("timezone", "America/New_York")
        ZoneInfo(tz)
        open_, close = (time.fromisoformat(str(spec.get(k, d))) for k, d in (("open", "09:30"), ("close", "16:00")))
        days = tuple(int(d) for d in spec.get("days", (0, 1, 2, 3, 4)))
        holidays = tuple(date.fromisoformat(str(d)) for d in spec.get("holidays", ()))
        pre = int(spec.get("pre_open_minutes", 0))
    except (ValueError, TypeError, ZoneInfoNotFoundError) as exc:
        raise SessionError(f"sessions: {exc}") from None
    if not all(0 <= d <= 6 for d in days) or pre < 0:
        raise SessionError("sessions: days are 0 (Monday) .. 6, pre_open_minutes >= 0")
    cal = spec.get("calendar")
    if cal is not None:
        try:
            _calendar(str(cal), 2020, 2021)
        except Exception as exc:  # noqa: BLE001 -- InvalidCalendarName and friends
            raise SessionError(f"sessions: unknown exchange calendar {cal!r} ({type(exc).__name__})") from None
    return VenueRule("plan override", cal and str(cal).upper(), tz, open_, close, pre,
                     calendar_times=False, days=days, holidays=holidays,
                     note="sessions given by the plan")


class SessionPlan:
    """The trading sessions of one dataset over a time range, and the segment of each record."""

    def __init__(self, dataset: str, rule: VenueRule | None, start_ns: int, end_ns: int,
                 source: str, notes: list[str] | None = None):
        self.dataset, self.rule, self.source = dataset, rule, source
        self.start_ns, self.end_ns = int(start_ns), int(max(end_ns, start_ns))
        self.notes = list(notes or [])
        self._built = (0, -1)
        self.opens = self.closes = self.bounds = np.zeros(0, np.int64)
        # instrument -> (status ts_recv list, segment list, status ts_event list), in file order
        self._status: dict[int, tuple[list[int], list[int], list[int]]] = {}
        self.status_records = 0
        if rule is not None:
            self._build(self.start_ns, self.end_ns)

    @classmethod
    def for_dataset(cls, dataset: str, start_ns: int, end_ns: int, override: dict | None = None) -> "SessionPlan":
        dataset = dataset or ""
        if override:
            return cls(dataset, rule_from_override(override), start_ns, end_ns, "plan override")
        rule = VENUES.get(dataset.split(".")[0].upper())
        if rule is None:
            note = (f"no session calendar for dataset {dataset!r}: every non-snapshot record is "
                    "treated as continuous trading; give the plan's sessions (calendar, open, "
                    "close, timezone) to judge sessions") if dataset else (
                    "no dataset in the metadata: every non-snapshot record is treated as continuous "
                    "trading")
            return cls(dataset, None, start_ns, end_ns, "none", [note])
        return cls(dataset, rule, start_ns, end_ns, "venue rule")

    # -- sessions ------------------------------------------------------------------------
    def _session_days(self, rule: VenueRule, first: date, last: date):
        """(session date, calendar open ns or None, calendar close ns or None) per session."""
        if rule.calendar is None:
            d = first
            while d <= last:
                if d.weekday() in rule.days and d not in rule.holidays:
                    yield d, None, None
                d += timedelta(days=1)
            return
        try:
            cal = _calendar(rule.calendar, first.year - 1, last.year + 1)
        except Exception as exc:  # noqa: BLE001 -- a range the calendar cannot build
            note = (f"the {rule.calendar} calendar cannot cover {first}..{last} "
                    f"({type(exc).__name__}): weekdays without holidays there")
            if note not in self.notes:
                self.notes.append(note)
            yield from self._session_days(replace(rule, calendar=None), first, last)
            return
        sched = cal.schedule.loc[str(first):str(last)]
        opens, closes = (sched[k].dt.tz_localize(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
                         for k in ("open", "close"))
        for label, o, c in zip(sched.index.date, opens.tolist(), closes.tolist()):
            if label not in rule.holidays:
                yield label, o, c

    def _build(self, lo_ns: int, hi_ns: int) -> None:
        rule = self.rule
        tz = ZoneInfo(rule.timezone)
        first = min(max(_day(lo_ns) - timedelta(days=_PAD_DAYS), _FIRST_DAY), _LAST_DAY)
        last = max(min(_day(hi_ns) + timedelta(days=_PAD_DAYS), _LAST_DAY), first)
        overnight = rule.close <= rule.open
        opens, closes = [], []
        for d, cal_open, cal_close in self._session_days(rule, first, last):
            o = _ns(datetime.combine(d - timedelta(days=1) if overnight else d, rule.open, tz))
            c = _ns(datetime.combine(d, rule.close, tz))
            if rule.calendar_times and cal_open is not None:
                o, c = max(o, cal_open), min(c, cal_close)
            if c > o:
                opens.append(o)
                closes.append(c)
        self.opens, self.closes = np.array(opens, np.int64), np.array(closes, np.int64)
        pre = self.opens - rule.pre_open_minutes * 60 * 10**9
        if len(pre) > 1:
            np.maximum(pre[1:], self.closes[:-1], out=pre[1:])
        # [pre_0, open_0, close_0, pre_1, ...]: searchsorted position % 3 is the phase
        self.bounds = np.stack([pre, self.opens, self.closes], axis=1).ravel()
        # the range classified from these sessions (all of it at the clamped ends)
        built_lo = _ns(datetime.combine(first, time(), timezone.utc)) + DAY_NS
        built_hi = _ns(datetime.combine(last, time(), timezone.utc)) - DAY_NS
        self._built = (-(2**63) if first == _FIRST_DAY else built_lo,
                       2**63 - 1 if last == _LAST_DAY else built_hi)

    def _ensure(self, lo_ns: int, hi_ns: int) -> None:
        if self.rule is not None and (lo_ns < self._built[0] or hi_ns > self._built[1]):
            self._build(min(lo_ns, self.start_ns), max(hi_ns, self.end_ns))

    def trading_intervals(self, lo_ns: int | None = None, hi_ns: int | None = None,
                          clip: bool = False) -> list[tuple[int, int]]:
        """Continuous-trading intervals (ns, UTC) overlapping [lo, hi] (default: the plan's
        range), clipped to it when ``clip``. Without a calendar: the range itself."""
        lo = self.start_ns if lo_ns is None else int(lo_ns)
        hi = self.end_ns if hi_ns is None else int(hi_ns)
        if hi <= lo:
            return []
        if self.rule is None:
            return [(lo, hi)]
        self._ensure(lo, hi)
        a = int(np.searchsorted(self.closes, lo, side="right"))
        b = int(np.searchsorted(self.opens, hi, side="left"))
        out = list(zip(self.opens[a:b].tolist(), self.closes[a:b].tolist()))
        if clip:
            out = [(max(o, lo), min(c, hi)) for o, c in out if min(c, hi) > max(o, lo)]
        return out

    # -- records ---------------------------------------------------------------------------
    def add_status(self, instrument_id: int, ts_recv: int, ts_event: int, action: int,
                   is_trading: str = "~") -> None:
        """A Databento status record: from its ``ts_recv`` on, its instrument's segment is the
        state it gives (``is_trading`` Y/N first, then the action); a status that gives no
        state (none, short-sale restriction change) changes nothing."""
        if action in _STATUS_HALTED:
            seg = SEG_HALTED
        elif is_trading == "Y" or action == _STATUS_TRADING:
            seg = SEG_CONTINUOUS
        elif action in _STATUS_PRE_OPEN:
            seg = SEG_PRE_OPEN
        elif is_trading == "N":
            seg = SEG_HALTED
        else:
            return
        self.status_records += 1
        times, segs, events = self._status.setdefault(int(instrument_id), ([], [], []))
        times.append(int(ts_recv))
        segs.append(seg)
        events.append(int(ts_event))

    def classify(self, ts_recv: np.ndarray, ts_event: np.ndarray, flags: np.ndarray,
                 instrument_id: np.ndarray) -> np.ndarray:
        """Segment code (uint8) of each record."""
        n = len(ts_recv)
        recv = np.asarray(ts_recv).view(np.int64) if ts_recv.dtype == np.uint64 else np.asarray(ts_recv, np.int64)
        event = np.asarray(ts_event).view(np.int64) if ts_event.dtype == np.uint64 else np.asarray(ts_event, np.int64)
        if n == 0:
            return np.zeros(0, np.uint8)
        if self.rule is None:
            seg = np.zeros(n, np.uint8)
        else:
            lo, hi = int(recv.min()), int(recv.max())
            self._ensure(lo, hi)
            k_lo, k_hi = np.searchsorted(self.bounds, [lo, hi], side="right").tolist()
            if k_lo == k_hi:  # the whole chunk in one phase (nearly always)
                seg = np.full(n, _PHASE_SEGMENT[k_lo % 3], np.uint8)
                if k_lo % 3 == 2:  # in a session: orders re-entered at its open are pre-open
                    seg[event < self.opens[k_lo // 3]] = SEG_PRE_OPEN
            else:
                k = np.searchsorted(self.bounds, recv, side="right")
                seg = _PHASE_SEGMENT[k % 3]
                trading = np.flatnonzero(seg == SEG_CONTINUOUS)
                early = event[trading] < self.opens[k[trading] // 3]
                seg[trading[early]] = SEG_PRE_OPEN
        if self._status:
            self._apply_status(seg, recv, event, instrument_id)
        seg[(flags & F_SNAPSHOT) != 0] = SEG_SNAPSHOT
        return seg

    def _apply_status(self, seg, recv, event, instrument_id) -> None:
        for inst, (times, segs, events) in self._status.items():
            mine = np.flatnonzero(instrument_id == inst)
            if not len(mine):
                continue
            j = np.searchsorted(np.asarray(times, np.int64), recv[mine], side="right") - 1
            known = j >= 0
            mine, j = mine[known], j[known]
            s = np.asarray(segs, np.uint8)[j]
            # an order stamped before its instrument's trading resumed was entered in the pre-open
            s[(s == SEG_CONTINUOUS) & (event[mine] < np.asarray(events, np.int64)[j])] = SEG_PRE_OPEN
            seg[mine] = s

    def describe(self) -> dict:
        out = {"dataset": self.dataset, "source": self.source, "notes": list(self.notes)}
        if self.rule is not None:
            r = self.rule
            out.update(venue=r.venue, calendar=r.calendar, timezone=r.timezone,
                       open=r.open.isoformat("minutes"), close=r.close.isoformat("minutes"),
                       pre_open_minutes=r.pre_open_minutes)
            if r.calendar is None:
                out["days"] = list(r.days)
            if r.note:
                out["notes"].append(r.note)
        else:
            out["calendar"] = None
        if self.status_records:
            out["status_records"] = self.status_records
            out["status_instruments"] = sorted(self._status)
            out["notes"].append("status records override the calendar for their instruments")
        return out


class SegmentRuns:
    """Contiguous runs of one segment in file order: the first ``limit`` listed, all counted."""

    def __init__(self, limit: int = 1000):
        self.limit, self.count = limit, 0
        self.runs: list[dict] = []
        self._last = -1  # segment of the last record seen
        self._listed = False  # whether the run in progress is listed

    def add(self, seg: np.ndarray, at, ts_recv: np.ndarray) -> None:
        """Records with segment codes ``seg``; ``at`` maps run positions to file positions."""
        n = len(seg)
        if not n:
            return
        cuts = np.flatnonzero(seg[1:] != seg[:-1]) + 1
        firsts, lasts = [0, *cuts.tolist()], [*(cuts - 1).tolist(), n - 1]
        for j, (a, b) in enumerate(zip(firsts, lasts)):
            code = int(seg[a])
            if j == 0 and code == self._last:
                if self._listed:  # the run goes on from the previous chunk
                    run = self.runs[-1]
                    run.update(last_index=int(at(b)), last_ts_recv=int(ts_recv[b]))
                    run["records"] += b - a + 1
                continue
            self.count += 1
            self._listed = len(self.runs) < self.limit
            if not self._listed:
                self.count += len(firsts) - j - 1  # the rest of the chunk's runs: counted only
                break
            self.runs.append({"segment": SEGMENT_NAMES[code], "first_index": int(at(a)),
                              "last_index": int(at(b)), "first_ts_recv": int(ts_recv[a]),
                              "last_ts_recv": int(ts_recv[b]), "records": b - a + 1})
        self._last = int(seg[-1])

    def listing(self) -> list[dict]:
        return [dict(r) for r in self.runs]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _day(ns: int) -> date:
    """The UTC date of ``ns``, clamped to the dates sessions are built for."""
    ns = min(max(int(ns), _ns(datetime.combine(_FIRST_DAY, time(), timezone.utc))),
             _ns(datetime.combine(_LAST_DAY, time(), timezone.utc)))
    return (_EPOCH + timedelta(microseconds=ns // 1000)).date()


def _ns(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def clip_to(intervals: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """The parts of [lo, hi] inside ``intervals`` (sorted, disjoint)."""
    return [(max(a, lo), min(b, hi)) for a, b in intervals if min(b, hi) > max(a, lo)]


def union(intervals) -> list[tuple[int, int]]:
    """Sorted, merged union of intervals."""
    out: list[list[int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


__all__ = ["SEG_CONTINUOUS", "SEG_SNAPSHOT", "SEG_PRE_OPEN", "SEG_HALTED", "SEGMENT_NAMES",
           "SessionPlan", "SessionError", "SegmentRuns", "VenueRule", "VENUES", "clip_to", "union"]
