"""MBO pressure analysis (plan line 43), recomputed independently from the DBN MBO events.

For every emitted IFD signal with recorded ``buy_volume``, ``sell_volume`` and ``mbo_pressure``,
golive counts the aggressive buy and sell volume itself from the target's DBN MBO files
(:mod:`.mbo_tape`: trades in the detection window that ends at the signal's
``market_event_ts``, else its ``ts``; window length ``[settings] ifd_window_s`` in golive.toml
or ``check.params.window_s``), computes pressure = (buy - sell) / (buy + sell) from those
counts, and reports

* ``pressure_max_error``: the largest |recorded mbo_pressure - recomputed pressure|;
* ``volume_max_error``: the largest |recorded - recounted| buy or sell volume (contracts);
* ``direction_mismatches``: signals whose direction contradicts the *recomputed* pressure's
  sign (long needs buying pressure > 0, short selling pressure < 0);
* ``signals`` recomputed and ``signals_not_recomputed`` (windows the data does not cover).

With no DBN data, no configured window, or no window covered by the data, the requirement is
``missing`` ("team figures only, not recomputed (...)"); the team's own arithmetic (recorded
pressure vs recorded volumes) is then shown in the details only, never judged as a pass.
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data, signals_of

from .mbo_tape import observed_of, signal_windows

COLS = ["buy_volume", "sell_volume", "mbo_pressure"]


def pressure(buy: float, sell: float) -> float:
    total = buy + sell
    return (buy - sell) / total if total > 0 else 0.0


def team_arithmetic(sig) -> dict:
    """Recorded pressure vs the recorded volumes: the team's own consistency, for the details."""
    worst = max((abs(pressure(r.buy_volume, r.sell_volume) - r.mbo_pressure) for r in sig.itertuples(index=False)),
                default=0.0)
    return {"recorded_pressure_vs_recorded_volumes_max_error": round(worst, 6)}


def check(requirement, ctx) -> CheckResult:
    frame = reader.load(ctx, "signals", need=["ts", "signal_id", "symbol", "direction", *COLS],
                        optional=["strategy", "mode", "emitted", "market_event_ts"],
                        nullable=[*COLS, "market_event_ts"])
    sig = signals_of(frame, ctx.params.get("strategy", "ifd"), ctx.params.get("mode"))
    sig = sig[sig["buy_volume"].notna() & sig["sell_volume"].notna() & sig["mbo_pressure"].notna()]
    if sig.empty:
        return no_data("no emitted signals with buy_volume, sell_volume and mbo_pressure in records/signals")
    got = signal_windows(requirement, ctx, sig)
    if isinstance(got, CheckResult):
        got.details["team_arithmetic"] = team_arithmetic(sig)
        return got
    rows, tapes, not_covered = got
    worst, worst_volume, mismatched, contrary = 0.0, 0.0, [], []
    for w in rows:
        r, counted = w["row"], w["window"]
        recomputed = pressure(counted["buy"], counted["sell"])
        err = abs(recomputed - r.mbo_pressure)
        worst = max(worst, err)
        worst_volume = max(worst_volume, abs(counted["buy"] - r.buy_volume), abs(counted["sell"] - r.sell_volume))
        if err > 1e-3:
            mismatched.append({"signal_id": r.signal_id, "recorded": r.mbo_pressure, "recomputed": round(recomputed, 6),
                               "recorded_buy_sell": [r.buy_volume, r.sell_volume],
                               "counted_buy_sell": [counted["buy"], counted["sell"]]})
        if (r.direction == "long" and recomputed <= 0) or (r.direction == "short" and recomputed >= 0):
            contrary.append({"signal_id": r.signal_id, "direction": r.direction, "pressure": round(recomputed, 6)})
    result = CheckResult(
        metrics={"pressure_max_error": Quantity(round(worst, 6), "ratio"),
                 "volume_max_error": Quantity(round(worst_volume, 3), "count"),
                 "direction_mismatches": len(contrary), "signals": len(rows),
                 "signals_not_recomputed": len(not_covered)},
        message=f"{len(rows)} of {len(sig)} signals recomputed from {len(tapes.files)} DBN file(s); worst pressure "
                f"error {worst:.4g}; {len(contrary)} against the recomputed pressure",
        details={"formula": "pressure = (buy - sell) / (buy + sell); buy/sell = sizes of MBO trades (action T) "
                            "by aggressor side B/A in the window ending at market_event_ts",
                 "dbn_files": [p.name for p in tapes.files], "differs_by_more_than_0.001": listed(mismatched),
                 "direction_mismatches": listed(contrary), "not_recomputed": listed(not_covered),
                 "team_arithmetic": team_arithmetic(sig)})
    result.observed = observed_of(rows, "MBO trades in signal windows")
    return result


SPEC = make_spec("algorithm", "mbo_pressure", check, "MBO pressure recomputed from the DBN MBO events",
                 ("pressure_max_error", "volume_max_error", "direction_mismatches", "signals",
                  "signals_not_recomputed"),
                 {"strategy": {"type": "string"}, "mode": {"type": "string"}, "data": {"type": "string"},
                  "window_s": {"type": "number", "exclusiveMinimum": 0}})
