"""Benchmark: MBO order-book reconstruction (crossed/locked books), numpy vs former per-record code.

Runs, in one process and on the same files, the frozen per-record implementation
(``benchmarks/book_reference.py``) and the current ``golive.plugins.feed.book.BookChecker``:

* the real ES futures MBO days in ``../shared/data/dbn-real/mbo/`` (if present), and
* a generated MBO file (``examples/dbn_fixtures.write_mbo_file``, ``--records``, 2 M default).

Files are streamed run by run as the quality check does (``DbnMboReader``); only the time spent
in ``BookChecker.update`` is counted (decoding is the same for both). Prints records/s (wall and
CPU), the ratio, the peak memory of the book (tracemalloc, separate pass) and the process RSS, and
asserts identical outputs (counts, per-instrument counts, episodes, open episodes). Run::

    .venv/bin/python benchmarks/bench_book.py [--records 2000000] [--data-dir DIR] [--chunk 65536]
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

from golive.plugins.feed.book import BookChecker  # noqa: E402
from golive.plugins.feed.dbn_reader import DbnMboReader, MboRun  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "dbn-real" / "mbo"


def outputs(book) -> tuple:
    return (book.counts, book.by_instrument, [e.as_dict() for e in book.episodes],
            {i: e.as_dict() for i, e in book.open.items()})


def run(cls, path: Path, chunk: int, trace: bool = False) -> dict:
    book, wall, cpu, n, peak = cls(), 0.0, 0.0, 0, 0
    if trace:
        tracemalloc.start()
    for item in DbnMboReader(path, chunk_records=chunk):
        if not isinstance(item, MboRun):
            continue
        if trace:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        w, c = time.perf_counter(), time.process_time()
        book.update(item.records, item.first_index)
        wall += time.perf_counter() - w
        cpu += time.process_time() - c
        n += len(item.records)
        if trace:
            peak = max(peak, tracemalloc.get_traced_memory()[1] - base)
    if trace:
        tracemalloc.stop()
    return {"records": n, "wall": wall, "cpu": cpu, "out": outputs(book), "peak": peak,
            "book": book}


def bench(path: Path, chunk: int, repeat: int) -> dict:
    best = {}
    for name, cls in (("reference", ReferenceBookChecker), ("numpy", BookChecker)):
        runs = [run(cls, path, chunk) for _ in range(repeat)]
        r = min(runs, key=lambda x: x["cpu"])
        r["peak"] = run(cls, path, chunk, trace=True)["peak"]
        best[name] = r
    ref, new = best["reference"], best["numpy"]
    assert new["out"] == ref["out"], f"{path.name}: outputs differ"
    n = ref["records"]
    print(f"\n{path.name}: {n:,} records, {os.path.getsize(path) / 2**20:.1f} MiB")
    for name, r in best.items():
        print(f"  {name:9s} {n / r['wall'] / 1e6:6.2f} M rec/s wall  {n / r['cpu'] / 1e6:6.2f} M rec/s cpu"
              f"  peak book memory {r['peak'] / 2**20:6.1f} MiB")
    print(f"  ratio (numpy / reference, cpu): {ref['cpu'] / new['cpu']:.2f}x   outputs identical: "
          f"{new['out'][0]}")
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--chunk", type=int, default=1 << 16, help="records per run (reader chunk)")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    files = sorted(REAL.glob("*.mbo.dbn.zst")) if REAL.is_dir() else []
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data_dir or Path(tmp)
        gen = data / f"bench_book_{args.records}.mbo.dbn"
        if not gen.exists():
            write_mbo_file(gen, n_records=args.records, seed=1)
        for path in files + [gen]:
            bench(path, args.chunk, args.repeat)
    print(f"\nprocess RSS at end: {psutil.Process().memory_info().rss / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
