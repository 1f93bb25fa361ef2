"""Real-time position limits and automatic reduction (plan lines 140-144).

Walks ``records/positions`` in time order. A breach starts when an instrument's |position|
exceeds its limit (``limits``: per symbol, ``default`` for the rest) or the sum of |positions|
exceeds ``total_limit``, and ends at the first snapshot back within it. Reports the number of
breaches, the longest (seconds), breaches never resolved, the highest utilisation
(|position| / limit) and, from ``records/orders``, the delay from each breach to the first
order that reduces the position (``max_reduction_delay``).

With ``require_exercise`` (RISK-03, automatic reduction) the evidence is the reduction itself:
breaches in the records, or position-reduction drills from ``logs/dr_drills.jsonl`` (``drills``
overrides the path; reduction_drills.py), measured alike. With neither the result is
``missing`` ("not exercised: no limit breach in the period"), never a pass on nothing. Without
it (RISK-01, limits never exceeded) the evidence is the position snapshots.
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity, Status
from golive.plugins.broker import trading
from golive.plugins.monitoring.observation import not_exercised, observe
from golive.plugins.monitoring.opslog import ArtifactError, input_path
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data
from golive.plugins.records.common import ratio
from golive.plugins.risk.reduction_drills import KIND, drill_episodes


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
    exercised = bool(ctx.params.get("require_exercise"))
    drills = []
    if exercised:
        path = input_path(ctx, "drills", "logs/dr_drills.jsonl")
        try:
            drills = drill_episodes(path)
        except ArtifactError as exc:
            return CheckResult(status=Status.ERROR, message=f"{requirement.id}: {exc}")
        if path.is_file():
            ctx.record_artifact(path)
        if not episodes and not drills:
            return not_exercised("limit breach", f"no breach in records/positions and no {KIND} drill in "
                                 f"{path.name}: run a reduction drill and log it there to exercise the requirement",
                                 metrics={"limit_breaches": 0, "max_limit_utilization": ratio(util)})
        for d in drills:
            durations.append(d["duration_s"])
            if d["reduction_delay_s"] is not None:
                delays.append(d["reduction_delay_s"])
        listed_eps += [{k: v for k, v in d.items() if k != "start_s"} for d in drills]
    unresolved = sum(d is None for d in durations)
    unlimited = sorted(set(positions["symbol"]) - set(limits)) if "default" not in limits else []
    result = CheckResult(
        metrics={"limit_breaches": len(episodes), "reduction_drills": len(drills), "unresolved_breaches": unresolved,
                 "max_breach_duration": Quantity(max((d for d in durations if d is not None), default=0.0), "s"),
                 "max_reduction_delay": Quantity(max(delays, default=0.0), "s"),
                 "breaches_without_reduction": sum(1 for e in listed_eps if e["reduction_delay_s"] is None),
                 "max_limit_utilization": ratio(util)},
        message=f"{len(episodes)} limit breaches" + (f", {len(drills)} reduction drill(s)" if exercised else "")
                + f" ({unresolved} unresolved); highest utilisation {util:.0%}",
        details={"rule": "breach while |qty| > limit (per symbol) or sum |qty| > total_limit; duration = first "
                         "snapshot back within the limit - breach start; reduction delay = first reducing order - "
                         "breach start", "limits": limits, "total_limit": ctx.params.get("total_limit"),
                 "breaches": listed(listed_eps), "symbols_without_limit": unlimited})
    if exercised:
        return observe(result, "limit breaches or reduction drills",
                       [e["start"] for e in episodes] + [d["start_s"] for d in drills])
    return observe(result, "position snapshots", positions["ts"])


SPEC = make_spec("risk", "position_limits", check, "position limits never exceeded, breaches reduced promptly",
                 ("limit_breaches", "reduction_drills", "unresolved_breaches", "max_breach_duration", "max_reduction_delay",
                  "breaches_without_reduction", "max_limit_utilization"),
                 {"limits": {"type": "object", "minProperties": 1,
                             "additionalProperties": {"type": "integer", "minimum": 0}},
                  "total_limit": {"type": "integer", "minimum": 0}, "mode": {"type": "string"},
                  "require_exercise": {"type": "boolean", "description": "the requirement is about the reduction: "
                                       "a breach or a position-reduction drill must be on record"},
                  "drills": {"type": "string", "minLength": 1, "description": "drill log (default logs/dr_drills.jsonl)"}},
                 required=("limits",))
SPEC.params_schema["dependentRequired"] = {"drills": ["require_exercise"]}  # drills count only for the reduction
