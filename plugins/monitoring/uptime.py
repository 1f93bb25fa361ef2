"""Uptime from heartbeats: the 99.9 % availability SLA, per measured month.

Plan lines 137-163: "99.9 % uptime SLA" (RISK-10).

A heartbeat (``logs/heartbeats.jsonl``: ``ts``, ``component``, ``interval_s``) vouches for
the ``interval_s`` that follows it. A gap between consecutive heartbeats of one component
longer than ``grace`` x interval (default 1.5, so scheduling jitter is not an outage) is an
outage of ``gap - interval`` seconds; a heartbeat with ``status: down`` starts an outage
too. Fewer than two heartbeats is ``missing``; the heartbeats used are reported as ``observed`` so
the plan's ``min_period`` and ``max_age`` refuse a short or old record (engine rule).
The observed period runs from the first heartbeat to the last one plus its interval;
with ``period_days`` it is the last N days up to the run's clock, and silence before the
first or after the last heartbeat counts as downtime.

With ``trading_hours`` (``{timezone, open, close}``, weekdays) only scheduled trading time
counts, for the period and for the outages alike (exchange holidays are not known here and
count as trading days). Uptime = 1 - downtime / scheduled time, per component and calendar
month (in that time zone, UTC without trading hours); the reported ``uptime`` is the worst
month of the worst component, so one bad month is not diluted by good ones.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .observation import observe
from .columns import Columns, read_columns
from .opslog import ArtifactError, PATH_PARAM, guarded, input_path, iso, seconds


def outages_of(beats: Columns, rows: np.ndarray, grace: float,
               period: tuple[float, float] | None) -> tuple[list[dict], float, float]:
    """(outages, period start, period end) for one component's heartbeats ``rows`` (sorted by time)."""
    ts, interval = beats.ts["ts"][rows], beats.num["interval_s"][rows]
    down = beats.is_("status", "down")[rows]
    gap = np.diff(ts)
    outages = []
    for i in np.flatnonzero(down[:-1] | (gap > grace * interval[:-1])):
        begin = ts[i] if down[i] else ts[i] + interval[i]
        outages.append({"from": float(begin), "to": float(ts[i + 1]), "after": beats.where(rows[i])})
    start, end = float(ts[0]), float(ts[-1] + interval[-1])
    if period:
        begin, until = period
        if start > begin:
            outages.insert(0, {"from": begin, "to": start, "after": "period start"})
        if end < until:
            outages.append({"from": end, "to": until, "after": beats.where(rows[-1])})
        outages = [{**o, "from": max(o["from"], begin), "to": min(o["to"], until)} for o in outages
                   if o["to"] > begin and o["from"] < until]
        start, end = begin, until
    return outages, start, end


def windows(start: float, end: float, hours: dict | None) -> list[tuple[float, float, str]]:
    """(from, to, month) pieces of [start, end] that count: trading sessions, or whole
    calendar months when no trading hours are given."""
    if not hours:
        out, cursor = [], start
        while cursor < end:
            d = datetime.fromtimestamp(cursor, tz=timezone.utc)
            nxt = datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=timezone.utc).timestamp()
            out.append((cursor, min(nxt, end), d.strftime("%Y-%m")))
            cursor = nxt
        return out
    tz = ZoneInfo(hours["timezone"])
    opens, closes = time.fromisoformat(hours["open"]), time.fromisoformat(hours["close"])
    day = datetime.fromtimestamp(start, tz=tz).date()
    last = datetime.fromtimestamp(end, tz=tz).date()
    out = []
    while day <= last:
        if day.weekday() < 5:
            a = datetime.combine(day, opens, tzinfo=tz).timestamp()
            b = datetime.combine(day, closes, tzinfo=tz).timestamp()
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                out.append((lo, hi, f"{day:%Y-%m}"))
        day += timedelta(days=1)
    return out


def overlap(outages: list[dict], lo: float, hi: float) -> float:
    return sum(max(0.0, min(o["to"], hi) - max(o["from"], lo)) for o in outages)


def monthly(outages: list[dict], start: float, end: float, hours: dict | None) -> dict[str, dict]:
    months: dict[str, dict] = {}
    for lo, hi, month in windows(start, end, hours):
        m = months.setdefault(month, {"scheduled_s": 0.0, "down_s": 0.0})
        m["scheduled_s"] += hi - lo
        m["down_s"] += overlap(outages, lo, hi)
    for m in months.values():
        m["uptime"] = 1 - m["down_s"] / m["scheduled_s"] if m["scheduled_s"] > 0 else 1.0
    return months


def check_hours(ctx: CheckContext) -> dict | None:
    hours = ctx.params.get("trading_hours")
    if not hours:
        return None
    try:
        ZoneInfo(hours["timezone"])
        if time.fromisoformat(hours["open"]) >= time.fromisoformat(hours["close"]):
            raise ValueError("open must be before close")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ArtifactError("check.params.trading_hours", None, str(exc)) from None
    return hours


@guarded
def uptime(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    hours = check_hours(ctx)
    path = input_path(ctx, "heartbeats", "logs/heartbeats.jsonl")
    beats = read_columns(path, required=("ts", "interval_s"), numbers=("interval_s",),
                         texts={"component": "system", "status": None})
    ctx.record_artifact(path)
    wanted = ctx.params.get("component")
    interval = beats.numbers("interval_s")
    if (interval <= 0).any():
        raise ArtifactError(beats.path, int(beats.line[np.argmax(interval <= 0)]), "interval_s must be positive")
    groups: dict[str, np.ndarray] = {}
    for code, name in enumerate(beats.labels["component"]):
        if wanted is None or name == wanted:
            rows = np.flatnonzero(beats.codes["component"] == code)
            if len(rows) >= 2:  # stable sort: equal times keep their file order
                groups[name] = rows[np.argsort(beats.ts["ts"][rows], kind="stable")]
    if not groups:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: fewer than 2 heartbeats"
                                   + (f" for component {wanted!r}" if wanted else " for any component"))
    grace = float(ctx.params.get("grace", 1.5))
    period = None
    if ctx.params.get("period_days"):
        until = ctx.clock().timestamp()
        period = (until - float(ctx.params["period_days"]) * 86400, until)
    per = {}
    for name, items in groups.items():
        outages, start, end = outages_of(beats, items, grace, period)
        months = monthly(outages, start, end, hours)
        worst_month = min(months, key=lambda k: months[k]["uptime"]) if months else None
        counted = [o for o in outages if any(overlap([o], lo, hi) > 0 for lo, hi, _ in windows(o["from"], o["to"], hours))]
        per[name] = {"months": months, "worst_month": worst_month, "outages": counted, "start": start, "end": end}
    if not any(p["months"] for p in per.values()):
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: the heartbeats cover no scheduled trading time")
    worst_name = min((k for k in per if per[k]["months"]),
                     key=lambda k: per[k]["months"][per[k]["worst_month"]]["uptime"])
    w = per[worst_name]
    month = w["months"][w["worst_month"]]
    in_hours = [overlap([o], *piece[:2]) for o in w["outages"] for piece in windows(o["from"], o["to"], hours)]
    longest = max(in_hours, default=0.0)
    shown = sorted(w["outages"], key=lambda o: o["from"] - o["to"])[:20]
    scope = (f"trading hours {hours['open']}-{hours['close']} {hours['timezone']}, weekdays" if hours
             else "around the clock")
    result = CheckResult(
        metrics={"uptime": Quantity(round(month["uptime"], 6), "ratio"), "downtime": seconds(month["down_s"]),
                 "longest_outage": seconds(longest), "outages": len(w["outages"]),
                 "observed_period": Quantity(round((w["end"] - w["start"]) / 86400, 4), "d")},
        message=f"{worst_name}, {w['worst_month']}: uptime {month['uptime']:.4%} of "
                f"{month['scheduled_s'] / 3600:.1f} h scheduled ({scope}), {len(w['outages'])} outage(s), "
                f"longest {longest / 60:.1f} min",
        details={"rule": f"a heartbeat covers the interval after it; a gap > {grace:g} x interval is an outage "
                         "of (gap - interval); status 'down' counts as down until the next heartbeat"
                         + ("; silence at the period's edges counts" if period else "")
                         + f"; only scheduled time counts ({scope}); the figure is the worst month of the "
                           "worst component",
                 "component": worst_name, "month": w["worst_month"],
                 "components": {k: {m: round(v["uptime"], 6) for m, v in p["months"].items()} for k, p in per.items()},
                 "period": {"from": iso(w["start"]), "to": iso(w["end"])},
                 "outages": [{"from": iso(o["from"]), "to": iso(o["to"]), "minutes": round((o["to"] - o["from"]) / 60, 2),
                              "after": o["after"]} for o in shown]},
    )
    # the plan's min_period / max_age judge these: six old hours of heartbeats are no month of uptime
    used = np.concatenate([beats.ts["ts"][items] for items in groups.values()])
    return observe(result, "heartbeats", [used.min(), used.max()], events=len(used))


SCHEMA = {
    "type": "object",
    "properties": {"heartbeats": PATH_PARAM, "component": {"type": "string"},
                   "grace": {"type": "number", "minimum": 1}, "period_days": {"type": "number", "exclusiveMinimum": 0},
                   "trading_hours": {"type": "object", "required": ["timezone", "open", "close"],
                                     "properties": {"timezone": {"type": "string"},
                                                    "open": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                                                    "close": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}},
                                     "additionalProperties": False}},
    "additionalProperties": False,
}
