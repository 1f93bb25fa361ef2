"""Benchmark: MBO order-book reconstruction (crossed/locked books), numpy vs former per-record code.

Runs, in one process and on the same files, the frozen per-record implementation
(``benchmarks/book_reference.py``, the code of issue 13's ~1 M records/s) and the current
``golive.plugins.feed.book.BookChecker``:

* the real ES futures MBO days in ``../shared/data/dbn-real/mbo/`` (if present), and
* a generated MBO file (``examples/dbn_fixtures.write_mbo_file``, ``--records``, 2 M default).

Files are streamed run by run as the quality check does (``DbnMboReader``); only the time spent
in ``BookChecker.update`` is counted (decoding is the same for both). Each variant runs
``--repeat`` times, interleaved, and the best CPU time counts (the machine may be shared: CPU
time is what the code costs, wall time is shown beside it). Prints per file the records, old and
new records/s, the ratio, whether the outputs are identical (counts, per-instrument counts,
episodes, open episodes; a difference exits 1), the peak memory of the book (tracemalloc,
separate pass); then the book's speed inside the real check (``check_file``, which also passes
the session segments and the records to skip) and the process RSS. Run::

    .venv/bin/python benchmarks/bench_book.py [--records 2000000] [--data-dir DIR] [--chunk 65536] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.book_reference import ReferenceBookChecker  # noqa: E402
from examples.dbn_fixtures import write_mbo_file  # noqa: E402

import golive.plugins.feed.dbn_quality as dbn_quality  # noqa: E402
from golive.plugins.feed.book import BookChecker  # noqa: E402
from golive.plugins.feed.dbn_reader import DbnMboReader, MboRun  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "dbn-real" / "mbo"
TARGET = 5e6  # records/s, issue 13 point 6


def outputs(book) -> tuple:
    return (book.counts, book.by_instrument, [e.as_dict() for e in book.episodes],
            {i: e.as_dict() for i, e in book.open.items()})


def run(cls, runs: list[MboRun], trace: bool = False) -> dict:
    book, wall, cpu, peak = cls(), 0.0, 0.0, 0
    if trace:
        tracemalloc.start()
    for item in runs:
        if trace:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        w, c = time.perf_counter(), time.process_time()
        book.update(item.records, item.first_index)
        wall += time.perf_counter() - w
        cpu += time.process_time() - c
        if trace:
            peak = max(peak, tracemalloc.get_traced_memory()[1] - base)
    if trace:
        tracemalloc.stop()
    return {"wall": wall, "cpu": cpu, "out": outputs(book), "peak": peak}


def bench(path: Path, chunk: int, repeat: int) -> bool:
    runs = [r for r in DbnMboReader(path, chunk_records=chunk) if isinstance(r, MboRun)]
    n = sum(len(r.records) for r in runs)
    variants = (("old (per-record reference)", ReferenceBookChecker), ("new (numpy BookChecker)", BookChecker))
    tries: dict[str, list[dict]] = {name: [] for name, _ in variants}
    for _ in range(repeat):  # interleaved: both see the same load
        for name, cls in variants:
            tries[name].append(run(cls, runs))
    best = {name: min(rs, key=lambda r: r["cpu"]) for name, rs in tries.items()}
    for name, cls in variants:
        best[name]["peak"] = run(cls, runs, trace=True)["peak"]
    old, new = (best[name] for name, _ in variants)
    same = new["out"] == old["out"]
    print(f"\n{path.name}: {n:,} records, {os.path.getsize(path) / 2**20:.1f} MiB, "
          f"runs of {chunk:,}, best of {repeat}")
    for name, r in best.items():
        print(f"  {name:28s} {n / r['cpu'] / 1e6:6.2f} M rec/s cpu  {n / r['wall'] / 1e6:6.2f} M rec/s wall"
              f"  peak book memory {r['peak'] / 2**20:6.1f} MiB")
    print(f"  ratio new/old (cpu): {old['cpu'] / new['cpu']:.2f}x   (wall: {old['wall'] / new['wall']:.2f}x)"
          f"   results equal: {'yes' if same else 'NO'}   counts: {new['out'][0]}")
    print(f"  new >= {TARGET / 1e6:.0f} M rec/s: {'yes' if n / new['cpu'] >= TARGET else 'NO'}")
    return same


def in_check(path: Path, chunk: int, repeat: int) -> None:
    """The book's speed as ``check_file`` calls it (segments, skips, selections), timed
    around ``BookChecker.update`` by a subclass; and the whole check's."""
    timing = {"cpu": 0.0, "n": 0}

    class TimedBook(BookChecker):
        def update(self, recs, *args, **kwargs):
            c = time.process_time()
            super().update(recs, *args, **kwargs)
            timing["cpu"] += time.process_time() - c
            timing["n"] += len(recs)

    dbn_quality.BookChecker = TimedBook
    best_book = best_all = float("inf")
    n = 0
    try:
        for _ in range(repeat):
            timing.update(cpu=0.0, n=0)
            c = time.process_time()
            out = dbn_quality.check_file(path, dbn_quality.QualityOptions(book=True, chunk_records=chunk))
            best_all = min(best_all, time.process_time() - c)
            best_book, n = min(best_book, timing["cpu"]), timing["n"]
    finally:
        dbn_quality.BookChecker = BookChecker
    print(f"  inside check_file (with session segments): book {n / best_book / 1e6:.2f} M rec/s cpu, "
          f"whole check {out['metrics']['records'] / best_all / 1e6:.2f} M rec/s cpu")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2_000_000, help="records of the generated file")
    ap.add_argument("--data-dir", type=Path, default=None, help="keep the generated file here")
    ap.add_argument("--chunk", type=int, default=1 << 16, help="records per run (reader chunk)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N (interleaved)")
    args = ap.parse_args()
    files = sorted(REAL.glob("*.mbo.dbn.zst")) if REAL.is_dir() else []
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    all_same = True
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data_dir or Path(tmp)
        gen = data / f"bench_book_{args.records}.mbo.dbn"
        if not gen.exists():
            write_mbo_file(gen, n_records=args.records, seed=1)
        for path in files + [gen]:
            all_same &= bench(path, args.chunk, args.repeat)
            in_check(path, args.chunk, args.repeat)
    print(f"\nprocess RSS at end: {psutil.Process().memory_info().rss / 2**20:.0f} MiB")
    if not all_same:
        sys.exit("outputs differ between the reference and the numpy book")


if __name__ == "__main__":
    main()
