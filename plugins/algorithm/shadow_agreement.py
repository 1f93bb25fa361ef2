"""Live (shadow) signals compared with the backtest over the same period (plan line 76).

A shadow signal matches a backtest signal with the same symbol, direction and strategy whose
timestamp is within ``match_window_s`` (default 60 s); each backtest signal matches at most
once (nearest first). Over the period the shadow signals span, reports
match_rate = 2 * matched / (shadow + backtest) and lists the unmatched signals on each side.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.records import reader
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import listed, make_spec, no_data, signals_of
from golive.plugins.records.common import ratio

KEYS = ["symbol", "direction", "strategy"]


def match(live: list[tuple], back: list[tuple], window_s: float) -> list[tuple[str, str]]:
    """Greedy nearest-in-time matching; items are (ts, key, signal_id)."""
    pairs, used = [], set()
    for ts, key, sid in live:
        best = None
        for j, (bts, bkey, bsid) in enumerate(back):
            if j in used or bkey != key:
                continue
            gap = abs((bts - ts).total_seconds())
            if gap <= window_s and (best is None or gap < best[0]):
                best = (gap, j, bsid)
        if best:
            used.add(best[1])
            pairs.append((sid, best[2]))
    return pairs


def check(requirement, ctx) -> CheckResult:
    mode = ctx.params.get("mode", "shadow")
    cols = ["ts", "signal_id", *KEYS]
    live = signals_of(reader.load(ctx, "signals", need=cols, optional=["mode", "emitted"]), None, mode)
    if live.empty:
        return no_data(f"no emitted '{mode}' signals in records/signals")
    back = signals_of(reader.load(ctx, "backtest_signals", need=cols, optional=["emitted"]))
    lo, hi = live["ts"].min(), live["ts"].max()
    window = float(ctx.params.get("match_window_s", 60))
    pad = __import__("pandas").Timedelta(seconds=window)
    back = back[(back["ts"] >= lo - pad) & (back["ts"] <= hi + pad)]
    items = lambda f: list(zip(f["ts"], zip(*(f[k] for k in KEYS)), f["signal_id"]))  # noqa: E731
    pairs = match(items(live), items(back), window)
    matched_live, matched_back = {a for a, _ in pairs}, {b for _, b in pairs}
    live_only = [s for s in live["signal_id"] if s not in matched_live]
    back_only = [s for s in back["signal_id"] if s not in matched_back]
    rate = 2 * len(pairs) / (len(live) + len(back)) if len(live) + len(back) else float("nan")
    return observe(CheckResult(
        metrics={"match_rate": ratio(rate), "live_only": len(live_only), "backtest_only": len(back_only),
                         "matched": len(pairs)},
        message=f"{len(pairs)} matched, {len(live_only)} only live, {len(back_only)} only in the backtest",
        details={"formula": "match_rate = 2 * matched / (live + backtest); a match has the same symbol, "
                                    f"direction and strategy within {window:g} s", "period": [str(lo), str(hi)],
                         "live_only": listed(live_only), "backtest_only": listed(back_only)}),
            f"{mode} signals", live["ts"])


SPEC = make_spec("algorithm", "shadow_agreement", check, "shadow signals agree with the backtest's",
                 ("match_rate", "live_only", "backtest_only", "matched"),
                 {"mode": {"type": "string"}, "match_window_s": {"type": "number", "exclusiveMinimum": 0}})
