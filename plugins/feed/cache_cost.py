"""Cache efficiency (``logs/cache_stats.jsonl``) and API cost monitoring (``logs/api_usage.jsonl``).

Cost: spend per UTC day and per month from the usage log, and the current month projected to its
end (``month_projection_usd``) so a threshold on it warns before the monthly budget is crossed:
month-to-date spend plus the remaining days at the *run rate*, the mean daily spend over the
last 30 days (or since the first usage, when that is more recent). The month-to-date rate alone
projected $0.00 on the 2nd of a month whose first day had no usage, beside 9.5 USD/day spent
the week before. Planned requests in ``params.planned`` are priced
with ``metadata.get_cost`` when a key and network are available, and added to the projection.
Budgets are thresholds in the plan; nothing here compares against them.
"""
from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone

from golive.model import CheckResult, Quantity, Status
from golive.plugins.monitoring.observation import observe

from .auth import api_key, historical_client, scrub
from .jsonl import LogFormatError, read_jsonl, rel_to

NUMBER = (int, float)
RUN_RATE_DAYS = 30


def _log_path(ctx, param: str, default: str):
    rel = ctx.params.get(param, default)
    return ctx.target.root / rel


def check_cache_efficiency(requirement, ctx) -> CheckResult:
    path = _log_path(ctx, "log", "logs/cache_stats.jsonl")
    if not path.exists():
        return CheckResult(status=Status.MISSING, message=f"{rel_to(path, ctx.target.root)} not found: no cache statistics")
    ctx.record_artifact(path)
    hits = misses = bytes_saved = bytes_fetched = 0
    usd_saved = usd_spent = 0.0
    times = Span()
    try:
        for where, rec in read_jsonl(path, {"ts": (str, int), "hit": bool, "bytes": int}):
            if rec["bytes"] < 0:
                raise LogFormatError(f"{where}: field 'bytes' must be >= 0")
            cost = rec.get("cost_usd", 0.0)
            if not isinstance(cost, NUMBER) or isinstance(cost, bool) or cost < 0:
                raise LogFormatError(f"{where}: field 'cost_usd' must be a number >= 0")
            times.add(rec["_ts"])
            if rec["hit"]:
                hits += 1
                bytes_saved += rec["bytes"]
                usd_saved += cost
            else:
                misses += 1
                bytes_fetched += rec["bytes"]
                usd_spent += cost
    except LogFormatError as exc:
        return CheckResult(status=Status.ERROR, message=str(exc))
    requests = hits + misses
    if not requests:
        return CheckResult(status=Status.MISSING, message=f"{path} holds no cache requests")
    metrics = {
        "cache_requests": requests,
        "cache_hit_ratio": Quantity(hits / requests, "ratio"),
        "cache_bytes_saved": Quantity(bytes_saved, "B"),
        "cache_byte_hit_ratio": Quantity(bytes_saved / max(bytes_saved + bytes_fetched, 1), "ratio"),
        "cache_usd_saved": Quantity(round(usd_saved, 6), "USD"),
    }
    return observe(CheckResult(metrics=metrics, details={
        "formula": "hit ratio = hits / (hits + misses); bytes saved = sum(bytes) over hits",
        "hits": hits, "misses": misses, "bytes_fetched": bytes_fetched,
        "usd_spent_on_misses": round(usd_spent, 6)},
        message=f"{hits}/{requests} cache hits, {bytes_saved} bytes not re-downloaded"),
        "cache requests", times.ends, events=times.count)


def check_api_cost(requirement, ctx) -> CheckResult:
    path = _log_path(ctx, "log", "logs/api_usage.jsonl")
    if not path.exists():
        return CheckResult(status=Status.MISSING, message=f"{rel_to(path, ctx.target.root)} not found: no API usage log")
    ctx.record_artifact(path)
    daily: dict[str, float] = defaultdict(float)
    times = Span()
    try:
        for where, rec in read_jsonl(path, {"ts": (str, int), "cost_usd": NUMBER}):
            if rec["cost_usd"] < 0:
                raise LogFormatError(f"{where}: field 'cost_usd' must be >= 0")
            daily[rec["_ts"].astimezone(timezone.utc).date().isoformat()] += float(rec["cost_usd"])
            times.add(rec["_ts"])
    except LogFormatError as exc:
        return CheckResult(status=Status.ERROR, message=str(exc))
    now = ctx.clock().astimezone(timezone.utc)
    month = now.strftime("%Y-%m")
    mtd = sum(v for d, v in daily.items() if d.startswith(month))
    days_in_month = calendar.monthrange(now.year, now.month)[1]
    elapsed_days = now.day - 1 + (now.hour * 3600 + now.minute * 60 + now.second) / 86400
    rate, window_days, window_usd = run_rate(daily, now)
    projection = mtd + rate * (days_in_month - elapsed_days)
    monthly: dict[str, float] = defaultdict(float)
    for d, v in daily.items():
        monthly[d[:7]] += v
    metrics = {
        "daily_cost_max_usd": Quantity(round(max(daily.values(), default=0.0), 6), "USD/day"),
        "daily_cost_today_usd": Quantity(round(daily.get(now.date().isoformat(), 0.0), 6), "USD/day"),
        "monthly_cost_max_usd": Quantity(round(max(monthly.values(), default=0.0), 6), "USD/month"),
        "month_to_date_usd": Quantity(round(mtd, 6), "USD"),
        "month_projection_usd": Quantity(round(projection, 6), "USD/month"),
        "run_rate_usd_per_day": Quantity(round(rate, 6), "USD/day"),
        "days_with_usage": len(daily),
    }
    details = {"daily_usd": {d: round(v, 6) for d, v in sorted(daily.items())},
               "monthly_usd": {m: round(v, 6) for m, v in sorted(monthly.items())},
               "formula": ("projection = month-to-date + run rate x remaining days of the month; run rate = "
                           f"spend over the last {RUN_RATE_DAYS} days (or since the first usage) / those days"),
               "run_rate_window_days": round(window_days, 3), "run_rate_window_usd": round(window_usd, 6),
               "as_of": now.isoformat()}
    message = (f"month to date ${mtd:.2f}; run rate ${rate:.2f}/day over the last {window_days:.0f} day(s); "
               f"projected ${projection:.2f} for {month}")
    planned = ctx.params.get("planned") or []
    if planned:
        priced, why = _price_planned(planned, ctx.params)
        details["planned"] = priced
        if why:
            details["planned_not_priced"] = why
        else:
            total = sum(p["cost_usd"] for p in priced)
            metrics["planned_cost_usd"] = Quantity(round(total, 6), "USD")
            metrics["month_projection_with_planned_usd"] = Quantity(round(projection + total, 6), "USD/month")
            message += f"; planned requests ${total:.2f}"
    return observe(CheckResult(metrics=metrics, details=details, message=message), "API usage records",
                   times.ends, events=times.count)


class Span:
    """First and newest of a stream of times, and how many: what ``observed`` needs, in constant memory."""

    def __init__(self):
        self.count, self.first, self.newest = 0, None, None

    def add(self, t) -> None:
        self.count += 1
        self.first = t if self.first is None or t < self.first else self.first
        self.newest = t if self.newest is None or t > self.newest else self.newest

    @property
    def ends(self) -> list:
        return [self.first, self.newest] if self.count else []


def run_rate(daily: dict[str, float], now) -> tuple[float, float, float]:
    """(USD per day, window in days, USD in the window): spend on the ``RUN_RATE_DAYS`` UTC days
    ending with today, divided by the time from the window's first midnight to ``now``; the window
    starts at the first day with usage when that is more recent (a new account is not diluted)."""
    days = [date.fromisoformat(d) for d in daily]
    first = max(now.date() - timedelta(days=RUN_RATE_DAYS - 1), min(days, default=now.date()))
    window_start = datetime.combine(first, time(0), tzinfo=timezone.utc)
    window_days = max((now - window_start).total_seconds() / 86400, 1.0)
    in_window = sum(v for d, v in daily.items() if first <= date.fromisoformat(d) <= now.date())
    return in_window / window_days, window_days, in_window


def _price_planned(planned: list[dict], params) -> tuple[list[dict], str]:
    """``metadata.get_cost`` for each planned request; returns (priced, reason-if-not)."""
    import requests
    from databento.common.error import BentoError

    env_var = params.get("key_env", "DATABENTO_API_KEY")
    key = api_key(env_var)
    if key is None:
        return [], f"no API key in {env_var}: planned requests not priced"
    try:
        client = historical_client(key, params.get("gateway"), float(params.get("timeout_s", 5)))
        out = []
        for req in planned:
            cost = client.metadata.get_cost(
                dataset=req["dataset"], schema=req.get("schema", "mbo"), symbols=req.get("symbols"),
                stype_in=req.get("stype_in", "raw_symbol"), start=req["start"], end=req.get("end"))
            out.append({**{k: req[k] for k in ("dataset", "start") if k in req},
                        "schema": req.get("schema", "mbo"), "cost_usd": float(cost)})
        return out, ""
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout):
        return [], "Databento API unreachable: planned requests not priced"
    except (BentoError, ValueError) as exc:
        return [], scrub(f"get_cost failed: {exc}", key)


CACHE_SCHEMA = {"type": "object", "properties": {"log": {"type": "string"}},
                "additionalProperties": False}
CACHE_METRICS = ("cache_requests", "cache_hit_ratio", "cache_bytes_saved", "cache_byte_hit_ratio",
                 "cache_usd_saved")
_PLANNED = {"type": "object", "required": ["dataset", "start"],
            "properties": {"dataset": {"type": "string"}, "schema": {"type": "string"},
                           "symbols": {"type": ["array", "string"]}, "stype_in": {"type": "string"},
                           "start": {"type": "string"}, "end": {"type": "string"}},
            "additionalProperties": False}
COST_SCHEMA = {"type": "object",
               "properties": {"log": {"type": "string"}, "planned": {"type": "array", "items": _PLANNED},
                              "key_env": {"type": "string"}, "gateway": {"type": "string"},
                              "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 60}},
               "additionalProperties": False}
COST_METRICS = ("daily_cost_max_usd", "daily_cost_today_usd", "monthly_cost_max_usd",
                "month_to_date_usd", "month_projection_usd", "run_rate_usd_per_day", "days_with_usage",
                "planned_cost_usd", "month_projection_with_planned_usd")

