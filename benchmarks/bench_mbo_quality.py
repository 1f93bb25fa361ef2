"""Benchmark: golive's MBO quality check against the way a user checks DBN data today.

On the same MBO file (5 million records by default, written by ``examples/dbn_fixtures.py``):

1. **pandas way** — ``DBNStore.from_file(...).to_df()`` then pandas: latency quantiles,
   per-instrument ``ts_event`` order, per-channel sequence gaps, ``duplicated()``, price
   checks, per-instrument trade jumps (what a data-quality notebook does);
2. **bare numpy** — ``to_ndarray()`` and one numpy pass (latency percentiles and ``ts_recv``
   order): the floor any check on databento's decoder pays;
3. **golive** — :func:`golive.plugins.feed.dbn_quality.check_file` without and with the
   crossed/locked book reconstruction.

Prints records/s (wall and CPU time) and the ratios. CPU time is printed because the machine
may be shared; the ratios are what to compare. Run::

    .venv/bin/python benchmarks/bench_mbo_quality.py [--records 5000000] [--data-dir DIR] [--skip-pandas]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from examples.dbn_fixtures import write_mbo_file  # noqa: E402

from golive.plugins.feed.dbn_quality import QualityOptions, check_file  # noqa: E402


def pandas_way(path: Path) -> dict:
    import databento

    df = databento.DBNStore.from_file(path).to_df()
    latency = (df.index - df["ts_event"]).dt.total_seconds() * 1e3
    by_inst = df.groupby("instrument_id")
    by_chan = df.groupby(["publisher_id", "channel_id"])
    seq_step = by_chan["sequence"].diff()
    trades = df[df["action"] == "T"]
    jumps = trades.groupby("instrument_id")["price"].pct_change().abs() > 0.05
    return {
        "latency_p50_ms": latency.quantile(0.5), "latency_p99_ms": latency.quantile(0.99),
        "latency_max_ms": latency.max(),
        "ts_recv_regressions": int((df.index.to_series().diff().dt.total_seconds() < 0).sum()),
        "ts_event_regressions": int((by_inst["ts_event"].diff().dt.total_seconds() < 0).sum()),
        "sequence_gaps": int((seq_step > 1).sum()),
        "late_records": int((seq_step < 0).sum()),
        "duplicates": int(df.duplicated().sum()),
        "non_positive_prices": int((df["price"] <= 0).sum()),
        "undefined_prices": int(df["price"].isna().sum()),
        "price_jumps": int(jumps.sum()),
    }


def bare_numpy(path: Path) -> dict:
    import databento

    arr = databento.DBNStore.from_file(path).to_ndarray()
    lat = arr["ts_recv"].view(np.int64) - arr["ts_event"].view(np.int64)
    return {"latency_p99_ms": float(np.percentile(lat, 99)) / 1e6,
            "ts_recv_regressions": int((np.diff(arr["ts_recv"].view(np.int64)) < 0).sum())}


def timed(fn, *args) -> tuple[float, float, object]:
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return time.perf_counter() - w, time.process_time() - c, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=5_000_000)
    ap.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "golive-bench")
    ap.add_argument("--skip-pandas", action="store_true", help="the pandas way takes minutes")
    ap.add_argument("--repeat", type=int, default=2, help="best of N for the fast variants")
    args = ap.parse_args()
    path = args.data_dir / f"mbo-{args.records}.dbn"
    if not path.exists():
        print(f"writing {args.records:,} MBO records to {path} ...", flush=True)
        write_mbo_file(path, ("ESZ6", "NQZ6", "CLF7", "GCZ6"), args.records, seed=1)
    n = args.records
    print(f"file: {path} ({path.stat().st_size / 2**20:.0f} MiB), {n:,} records; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    rows = []
    variants = [("bare numpy (to_ndarray + 1 pass)", lambda: bare_numpy(path)),
                ("golive check, no book", lambda: check_file(path, QualityOptions(book=False))),
                ("golive check + book reconstruction", lambda: check_file(path, QualityOptions(book=True)))]
    for name, fn in variants:
        best = min((timed(fn) for _ in range(args.repeat)), key=lambda t: t[0])
        rows.append((name, best[0], best[1]))
    if not args.skip_pandas:
        wall, cpu, found = timed(pandas_way, path)
        rows.append(("pandas way (to_df + pandas)", wall, cpu))
    print(f"\n{'variant':38} {'wall s':>8} {'M rec/s':>8} {'cpu s':>8} {'M rec/s cpu':>12}")
    for name, wall, cpu in rows:
        print(f"{name:38} {wall:8.2f} {n / wall / 1e6:8.2f} {cpu:8.2f} {n / cpu / 1e6:12.2f}")
    by = {name: (wall, cpu) for name, wall, cpu in rows}
    golive = by["golive check, no book"]
    print("\nratios (wall / cpu):")
    if "pandas way (to_df + pandas)" in by:
        pw = by["pandas way (to_df + pandas)"]
        print(f"  golive vs pandas way:        {pw[0] / golive[0]:6.1f}x / {pw[1] / golive[1]:6.1f}x faster")
        pb = by["golive check + book reconstruction"]
        print(f"  golive+book vs pandas way:   {pw[0] / pb[0]:6.1f}x / {pw[1] / pb[1]:6.1f}x faster")
    bn = by["bare numpy (to_ndarray + 1 pass)"]
    print(f"  golive vs bare numpy pass:   {golive[0] / bn[0]:6.2f}x / {golive[1] / bn[1]:6.2f}x the time")


if __name__ == "__main__":
    main()
