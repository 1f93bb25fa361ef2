"""Volume analysis thresholds (plan line 49), with the window volume recounted from DBN events.

Reports the smallest recorded ``volume_ratio`` among emitted IFD signals (the plan's threshold
on ``min_volume_ratio`` says no signal fires below the configured ratio) and compares the
team's figures with golive's own count of the market events (:mod:`.mbo_tape`):

* ``window_volume_max_error``: largest |recorded window_volume - traded volume in the window|,
  the window ending at the signal's ``market_event_ts`` (else ``ts``), of length
  ``[settings] ifd_window_s`` (or ``check.params.window_s``);
* ``volume_ratio_max_error``: largest |recorded volume_ratio - recounted window volume /
  average|. The average is recounted too -- the mean traded volume of the
  ``[settings] ifd_baseline_windows`` (or ``check.params.baseline_windows``) equal windows just
  before the signal's -- when that is configured; otherwise it is the team's recorded
  ``avg_volume`` and the details say so ("team figure").

With no DBN data, no configured window, or no window the data covers, the requirement is
``missing`` ("team figures only, not recomputed (...)"), never a pass on the team's numbers.
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data, plan_limit, signals_of

from .mbo_tape import observed_of, signal_windows

COLS = ["volume_ratio", "window_volume", "avg_volume"]


def baseline_windows(ctx) -> int:
    value = ctx.params.get("baseline_windows")
    if value is None:
        value = ctx.settings.get("ifd_baseline_windows", 0)
    return int(value)


def check(requirement, ctx) -> CheckResult:
    frame = reader.load(ctx, "signals", need=["ts", "signal_id", "symbol", "volume_ratio"],
                        optional=["strategy", "mode", "emitted", "window_volume", "avg_volume", "market_event_ts"],
                        nullable=[*COLS, "market_event_ts"])
    sig = signals_of(frame, ctx.params.get("strategy", "ifd"), ctx.params.get("mode"))
    sig = sig[sig["volume_ratio"].notna()]
    if sig.empty:
        return no_data("no emitted signals with a volume_ratio in records/signals")
    limit = plan_limit(requirement, "min_volume_ratio")
    below = [{"signal_id": s, "volume_ratio": v} for s, v in zip(sig["signal_id"], sig["volume_ratio"])
             if limit is not None and v < limit]
    team = {"min_volume_ratio": float(sig["volume_ratio"].min()), "below_plan_minimum": listed(below)}
    n_before = baseline_windows(ctx)
    got = signal_windows(requirement, ctx, sig, windows_before=n_before)
    if isinstance(got, CheckResult):
        got.details["team_figures"] = team
        if below:  # a violation the team's own records prove needs no recount: say so
            got.message += (f"; the team's own records show {len(below)} signal(s) below the minimum volume ratio "
                            f"{limit}: " + ", ".join(str(b["signal_id"]) for b in below[:5]))
        return got
    rows, tapes, not_covered = got
    window_errors, ratio_errors, unusable = [], [], []
    for w in rows:
        r, counted = w["row"], w["window"]["total"]
        if r.window_volume == r.window_volume and r.window_volume is not None:
            window_errors.append((abs(counted - r.window_volume), r.signal_id))
        average = (sum(b["total"] for b in w["before"]) / n_before) if n_before else r.avg_volume
        if average is None or average != average or average <= 0:
            unusable.append(r.signal_id)  # no trades in the baseline: the ratio is undefined
            continue
        ratio_errors.append((abs(counted / average - r.volume_ratio), r.signal_id, round(counted / average, 6)))
    worst_window = max(window_errors, default=(0.0, None))
    worst_ratio = max(ratio_errors, default=(float("nan"), None, None))
    result = CheckResult(
        metrics={"min_volume_ratio": team["min_volume_ratio"],
                 "volume_ratio_max_error": Quantity(round(worst_ratio[0], 6), "ratio"),
                 "window_volume_max_error": Quantity(round(worst_window[0], 3), "count"),
                 "signals": len(rows), "signals_not_recomputed": len(not_covered) + len(unusable)},
        message=f"{len(rows)} of {len(sig)} signals recounted from {len(tapes.files)} DBN file(s); smallest recorded "
                f"volume ratio {team['min_volume_ratio']:.3f}; worst ratio error {worst_ratio[0]:.4g}",
        details={"formula": "window_volume = sizes of MBO trades (action T) in the window ending at market_event_ts; "
                            "volume_ratio = window_volume / average",
                 "average_from": (f"recounted: {n_before} windows before the signal's" if n_before else
                                  "team figure (avg_volume); configure [settings] ifd_baseline_windows to recount it"),
                 "worst_recomputation": {"signal_id": worst_ratio[1], "error": worst_ratio[0],
                                         "recounted_ratio": worst_ratio[2]},
                 "worst_window_volume": {"signal_id": worst_window[1], "error": worst_window[0]},
                 "not_recomputed": listed(not_covered + unusable), "dbn_files": [p.name for p in tapes.files],
                 **team})
    result.observed = observed_of(rows, "MBO trades in signal windows")
    return result


SPEC = make_spec("algorithm", "volume_ratio", check,
                 "volume ratios recounted from the DBN MBO events; no signal below the ratio threshold",
                 ("min_volume_ratio", "volume_ratio_max_error", "window_volume_max_error", "signals",
                  "signals_not_recomputed"),
                 {"strategy": {"type": "string"}, "mode": {"type": "string"}, "data": {"type": "string"},
                  "window_s": {"type": "number", "exclusiveMinimum": 0},
                  "baseline_windows": {"type": "integer", "minimum": 1}})
