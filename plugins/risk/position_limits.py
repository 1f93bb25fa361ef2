"""Real-time position limits and automatic reduction (plan lines 140-144).

Walks ``records/positions`` in time order. A breach starts when an instrument's |position|
exceeds its limit (``limits``: per symbol, ``default`` for the rest) or the sum of |positions|
exceeds ``total_limit``, and ends at the first snapshot back within it. Reports the number of
breaches, the longest (seconds), breaches never resolved, the highest utilisation
(|position| / limit) and, from ``records/orders``, the delay from each breach to the first
order that reduces the position (``max_reduction_delay``).
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.broker import trading
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data
from golive.plugins.records.common import ratio


def breaches(snapshots, limits: dict, total_limit: int | None) -> tuple[list[dict], float]:
    """Breach episodes from (ts, symbol, qty) rows in time order, and the highest utilisation."""
    pos: dict[str, int] = {}
    open_: dict[str, dict] = {}
    done, util = [], 0.0
    for ts, sym, qty in snapshots:
        pos[sym] = qty
        checks = [(sym, abs(qty), limits.get(sym, limits.get("default")))]
        if total_limit is not None:
            checks.append(("total", sum(abs(q) for q in pos.values()), total_limit))
        for key, size, limit in checks:
            if limit is None:
                continue
            util = max(util, size / limit if limit else float("inf"))
            if size > limit and key not in open_:
                open_[key] = {"key": key, "start": ts, "end": None, "peak": size, "limit": limit,
                              "long": (qty > 0) if key != "total" else None}
            elif key in open_:
                open_[key]["peak"] = max(open_[key]["peak"], size)
                if size <= limit:
                    episode = open_.pop(key)
                    episode["end"] = ts
                    done.append(episode)
    return done + list(open_.values()), util


def reduction_delay(episode: dict, orders) -> float | None:
    """Seconds from breach start to the first order on the reducing side (None: none sent)."""
    if orders is None:
        return None
    cand = orders[orders["ts"] >= episode["start"]]
    if episode["key"] != "total":
        cand = cand[cand["symbol"] == episode["key"]]
        cand = cand[cand["side"] == ("sell" if episode["long"] else "buy")]
    if cand.empty:
        return None
    return (cand["ts"].iloc[0] - episode["start"]).total_seconds()


def check(requirement, ctx) -> CheckResult:
    limits = dict(ctx.params["limits"])
    positions = trading.filter_mode(reader.load(ctx, "positions", need=["ts", "symbol", "qty"], optional=["mode"]),
                                    ctx.params.get("mode"))
    if positions.empty:
        return no_data("no rows in records/positions")
    episodes, util = breaches(zip(positions["ts"], positions["symbol"], positions["qty"]), limits,
                              ctx.params.get("total_limit"))
    orders = trading.orders(ctx) if reader.exists(ctx, "orders") else None
    listed_eps, durations, delays = [], [], []
    for e in episodes:
        dur = (e["end"] - e["start"]).total_seconds() if e["end"] is not None else None
        delay = reduction_delay(e, orders)
        durations.append(dur)
        if delay is not None:
            delays.append(delay)
        listed_eps.append({"limit_on": e["key"], "start": str(e["start"]), "end": str(e["end"]), "peak": e["peak"],
                           "limit": e["limit"], "duration_s": dur, "reduction_delay_s": delay})
    unresolved = sum(d is None for d in durations)
    unlimited = sorted(set(positions["symbol"]) - set(limits)) if "default" not in limits else []
    return CheckResult(
        metrics={"limit_breaches": len(episodes), "unresolved_breaches": unresolved,
                 "max_breach_duration": Quantity(max((d for d in durations if d is not None), default=0.0), "s"),
                 "max_reduction_delay": Quantity(max(delays, default=0.0), "s"),
                 "breaches_without_reduction": sum(1 for e in listed_eps if e["reduction_delay_s"] is None),
                 "max_limit_utilization": ratio(util)},
        message=f"{len(episodes)} limit breaches ({unresolved} unresolved); highest utilisation {util:.0%}",
        details={"rule": "breach while |qty| > limit (per symbol) or sum |qty| > total_limit; duration = first "
                         "snapshot back within the limit - breach start; reduction delay = first reducing order - "
                         "breach start", "limits": limits, "total_limit": ctx.params.get("total_limit"),
                 "breaches": listed(listed_eps), "symbols_without_limit": unlimited})


SPEC = make_spec("risk", "position_limits", check, "position limits never exceeded, breaches reduced promptly",
                 ("limit_breaches", "unresolved_breaches", "max_breach_duration", "max_reduction_delay",
                  "breaches_without_reduction", "max_limit_utilization"),
                 {"limits": {"type": "object", "minProperties": 1,
                             "additionalProperties": {"type": "integer", "minimum": 0}},
                  "total_limit": {"type": "integer", "minimum": 0}, "mode": {"type": "string"}},
                 required=("limits",))
