"""Latency and error rate inside volatility spikes and high-volume periods vs normal time.

Plan lines 97-109: "Behavior during volatility spikes" (LIVE-REL-01) and "Performance
during high-volume periods" (LIVE-REL-05).

The market data decides which windows are stressed, not the trading system's own log: the
trades in ``data/**/*.dbn[.zst]`` (Databento MBO, trades or MBP schemas; MBO trade action
``T``) are cut into ``bin_s`` windows per instrument. A window's volatility is the log
high/low range of its trade prices; its volume is the traded size. A window is a spike when
its value exceeds the instrument's median by ``spike_factor`` robust standard deviations
(1.4826 x MAD), which is stable under the spikes it looks for. Latency records
(``logs/latency.jsonl``; ``ok: false`` marks a failed event) are then split into spike
windows and normal windows (windows with market data and no spike) and compared; when
records carry ``backlog`` (events queued behind the one measured), its maximum inside the
stress windows is reported too.
"""
from __future__ import annotations

import math
import numpy as np

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.run.target import inside_only

from .columns import Columns
from .latency import load_latency, ms, nearest_rank
from .observation import observe
from .opslog import PATH_PARAM, ArtifactError, ArtifactMissing, guarded, iso, ratio

PRICE_SCALE = 1e9
CHUNK_RECORDS = 1_000_000


def load_trades(ctx: CheckContext, pattern: str | None) -> list[np.ndarray]:
    """(ts_seconds, instrument, price, size) arrays per file, trades only."""
    import databento as db

    base = ctx.target.root
    if pattern is None:  # the default follows golive.toml's data folder
        base, pattern = ctx.target.path("data"), "**/*.dbn*"
    files = inside_only(ctx.target.root, sorted(p for p in base.glob(pattern) if p.is_file()))
    if not files:
        raise ArtifactMissing(f"no market data matches {pattern!r} under {base}")
    out = []
    for f in files:
        kept = []
        try:
            store = db.DBNStore.from_file(f)
            # Chunks keep memory flat on session-sized MBO files; only trades are kept.
            for chunk in store.to_ndarray(count=CHUNK_RECORDS):
                names = chunk.dtype.names or ()
                if "price" not in names or "size" not in names:
                    break  # definitions, statistics, OHLCV... carry no trades
                if "action" in names:
                    chunk = chunk[chunk["action"] == b"T"]
                chunk = chunk[chunk["price"] != np.iinfo(np.int64).max]
                kept.append(np.column_stack([chunk["ts_event"] / 1e9, chunk["instrument_id"].astype(float),
                                             chunk["price"] / PRICE_SCALE, chunk["size"].astype(float)]))
        except Exception as exc:  # the DBN decoder raises many types; all mean a corrupt file
            raise ArtifactError(f, None, f"cannot decode DBN data: {exc}") from None
        ctx.record_artifact(f)
        if kept:
            out.append(np.vstack(kept))
    return out


def spike_bins(trades: np.ndarray, bin_s: float, mode: str, factor: float) -> tuple[set[int], set[int], list[dict]]:
    """Bins (index = floor(ts / bin_s)) with market data, the spike bins, and their values."""
    with_data, spikes, shown = set(), set(), []
    for inst in np.unique(trades[:, 1]):
        rows = trades[trades[:, 1] == inst]
        bins = np.floor(rows[:, 0] / bin_s).astype(np.int64)
        values = {}
        for b in np.unique(bins):
            sel = rows[bins == b]
            if mode == "volatility":
                values[int(b)] = math.log(sel[:, 2].max() / sel[:, 2].min()) if sel[:, 2].min() > 0 else 0.0
            else:
                values[int(b)] = float(sel[:, 3].sum())
        with_data.update(values)
        arr = np.array(list(values.values()))
        median = float(np.median(arr))
        mad = float(np.median(np.abs(arr - median))) * 1.4826
        line = median + factor * (mad if mad > 0 else max(abs(median), 1e-12))
        for b, v in values.items():
            if v > line:
                spikes.add(b)
                shown.append({"instrument_id": int(inst), "window_start": iso(b * bin_s), "value": round(v, 6),
                              "median": round(median, 6), "line": round(line, 6)})
    return with_data, spikes, shown


def summarize(cols: Columns, rows: np.ndarray) -> dict:
    """Latency, errors (``ok: false``) and the largest backlog of the latency log's ``rows``."""
    if not len(rows):
        return {"events": 0}
    lat = np.sort(cols.num["latency_ms"][rows])
    errors = int(cols.is_("ok", "False")[rows].sum())
    backlog = cols.num["backlog"][rows]
    backlog = backlog[~np.isnan(backlog)]
    return {"events": len(rows), "p99": nearest_rank(lat, 99), "p50": nearest_rank(lat, 50),
            "error_rate": errors / len(rows), "errors": errors,
            "backlog_max": float(backlog.max()) if len(backlog) else None}


@guarded
def market_stress(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    mode = ctx.params.get("mode", "volatility")
    bin_s = float(ctx.params.get("bin_s", 60))
    factor = float(ctx.params.get("spike_factor", 4.0))
    parts = load_trades(ctx, ctx.params.get("market_data"))
    parts = [p for p in parts if len(p)]
    if not parts:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: the market data holds no trades")
    with_data, spikes, shown = spike_bins(np.vstack(parts), bin_s, mode, factor)
    cols, records = load_latency(ctx)
    bins = np.floor(cols.ts["ts"][records] / bin_s).astype(np.int64)
    in_spike = records[np.isin(bins, np.fromiter(spikes, np.int64, len(spikes)))]
    calm = with_data - spikes
    normal = records[np.isin(bins, np.fromiter(calm, np.int64, len(calm)))]
    word = "volatility spike" if mode == "volatility" else "high-volume"
    if not spikes:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: the market data has no {word} window, so behaviour "
                                   "under stress is not evidenced")
    if not len(in_spike) or not len(normal):
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: {len(spikes)} {word} windows found, but the latency log "
                                   f"has {len(in_spike)} events inside them and {len(normal)} in normal windows")
    s, n = summarize(cols, in_spike), summarize(cols, normal)
    metrics = {"stress_windows": len(spikes), "latency_p99_stress": ms(s["p99"]),
               "latency_p99_normal": ms(n["p99"]),
               "error_rate_stress": ratio(s["error_rate"]), "error_rate_normal": ratio(n["error_rate"])}
    if n["p99"] > 0:  # evidence must stay finite JSON: no ratio against an all-zero baseline
        metrics["latency_stress_ratio"] = Quantity(round(s["p99"] / n["p99"], 4), "ratio")
    if s["backlog_max"] is not None:
        metrics["backlog_max_stress"] = s["backlog_max"]
    stressed = cols.ts["ts"][in_spike]
    return observe(CheckResult(
        metrics=metrics,
        message=(f"{len(spikes)} {word} windows: p99 {s['p99']:.1f} ms vs {n['p99']:.1f} ms normal, "
                 f"error rate {s['error_rate']:.2%} vs {n['error_rate']:.2%}"),
        details={"method": f"{'log high/low range' if mode == 'volatility' else 'traded size'} per {bin_s:g} s "
                           f"window and instrument; spike = above median + {factor:g} x 1.4826 x MAD",
                 "stress": s, "normal": n, "windows": shown[:50],
                 "latency_events_outside_market_data": int(len(records) - len(in_spike) - len(normal))},
    ), f"latency events in {word} windows", [float(stressed.min()), float(stressed.max())], events=len(in_spike))


SCHEMA = {
    "type": "object",
    "properties": {"mode": {"enum": ["volatility", "volume"]}, "market_data": PATH_PARAM,
                   "latency": PATH_PARAM, "stage": {"type": "string"},
                   "bin_s": {"type": "number", "exclusiveMinimum": 0},
                   "spike_factor": {"type": "number", "exclusiveMinimum": 0}},
    "additionalProperties": False,
}
