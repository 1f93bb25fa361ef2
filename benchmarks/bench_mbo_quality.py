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
may be shared; the ratios are what to compare.

``--memory-mib 128,1024`` instead measures memory (issue 13 point 6: flat, under 200 MiB on a
1 GiB file): for each size it writes an MBO file of about that many MiB (a simulated 1 M-record
tile repeated, shifted in time, sequence and order ids, so the book stays consistent; written in
pieces, never whole in memory) and runs the whole ``check_file`` with the book in a fresh
process, reporting its peak RSS (``getrusage`` maximum resident set) beside the RSS after the
imports. Run::

    .venv/bin/python benchmarks/bench_mbo_quality.py [--records 5000000] [--data-dir DIR] [--skip-pandas]
    .venv/bin/python benchmarks/bench_mbo_quality.py --memory-mib 128,1024 [--data-dir DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from examples.dbn_fixtures import MBO_DTYPE, write_mbo_file  # noqa: E402
from examples.dbn_writer import metadata_bytes  # noqa: E402

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


INSTRUMENTS = ("ESZ6", "NQZ6", "CLF7", "GCZ6")


def write_large_mbo(path: Path, n_records: int, tile_records: int = 1_000_000) -> Path:
    """An MBO DBN file of ``n_records``: a simulated tile (which starts with a book clear per
    instrument) repeated, each copy shifted in time, per-channel sequence and order ids."""
    tile_path = path.with_name(path.name + ".tile")
    truth = write_mbo_file(tile_path, INSTRUMENTS, min(tile_records, n_records), seed=1)
    raw = tile_path.read_bytes()
    tile = np.frombuffer(raw, MBO_DTYPE, offset=8 + int.from_bytes(raw[4:8], "little")).copy()
    tile_path.unlink()
    span_t = int(tile["ts_recv"][-1]) - int(tile["ts_event"][0]) + 1_000_000
    span_seq = np.zeros(len(tile), np.uint32)
    for ch in np.unique(tile["channel_id"]):
        on = tile["channel_id"] == ch
        span_seq[on] = tile["sequence"][on].max() - tile["sequence"][on].min() + 1
    live = tile["order_id"] != 0
    span_oid = np.uint64(int(tile["order_id"][live].max()) - int(tile["order_id"][live].min()) + 1)
    copies = -(-n_records // len(tile))
    start = int(tile["ts_event"][0])
    with path.open("wb") as out:
        out.write(metadata_bytes(truth.instruments, start, start + copies * span_t))
        for k in range(copies):
            part = tile[: n_records - k * len(tile)].copy()
            part["ts_event"] += k * span_t
            part["ts_recv"] += k * span_t
            part["sequence"] += span_seq[: len(part)] * k
            part["order_id"][live[: len(part)]] += span_oid * np.uint64(k)
            out.write(part.tobytes())
    return path


def peak_rss_kib() -> int:
    """This process's peak resident set (``VmHWM``; ``getrusage``'s maximum would include the
    parent's, which Linux carries across ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: kB on most systems


def rss_child(path: Path) -> None:
    """In a fresh process: the whole check with the book; prints peak RSS as JSON."""
    after_imports = peak_rss_kib()
    w = time.perf_counter()
    out = check_file(path, QualityOptions(book=True))
    print(json.dumps({"records": out["metrics"]["records"], "seconds": time.perf_counter() - w,
                      "after_imports_kib": after_imports, "peak_kib": peak_rss_kib()}))


def memory(sizes_mib: list[float], data_dir: Path) -> None:
    print(f"{'file MiB':>9} {'records':>12} {'peak RSS MiB':>13} {'RSS after imports':>18} {'check s':>8}")
    for mib in sizes_mib:
        path = data_dir / f"mbo-{mib:g}MiB.dbn"
        if not path.exists():
            write_large_mbo(path, int(mib * 2**20) // MBO_DTYPE.itemsize)
        done = subprocess.run([sys.executable, __file__, "--rss-child", str(path)],
                              capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{path.stat().st_size / 2**20:9.0f} {r['records']:12,} {r['peak_kib'] / 1024:13.0f} "
              f"{r['after_imports_kib'] / 1024:18.0f} {r['seconds']:8.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=5_000_000)
    ap.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "golive-bench")
    ap.add_argument("--skip-pandas", action="store_true", help="the pandas way takes minutes")
    ap.add_argument("--repeat", type=int, default=2, help="best of N for the fast variants")
    ap.add_argument("--memory-mib", type=str, default="",
                    help="comma-separated file sizes in MiB: peak RSS of check_file on each")
    ap.add_argument("--rss-child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        return rss_child(args.rss_child)
    if args.memory_mib:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        return memory([float(x) for x in args.memory_mib.split(",")], args.data_dir)
    path = args.data_dir / f"mbo-{args.records}.dbn"
    if not path.exists():
        print(f"writing {args.records:,} MBO records to {path} ...", flush=True)
        write_mbo_file(path, INSTRUMENTS, args.records, seed=1)
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
