"""Speed-up of a DBN quality scan on a Dask cluster: the same files on 2 workers against 1.

Generates ``--files`` MBO DBN files (``examples/dbn_fixtures.py``, ``--records`` each, some
with injected defects), then scans them with the feed family's per-file function (the one
``feed.mbo_quality`` runs per file) as one Dask task per file, on a ``LocalCluster`` of 1
worker and then of 2 (one thread each, separate processes), ``--repeat`` times each, and
prints the best wall time per size and the speed-up. The scans must agree file by file.

    python benchmarks/bench_dask_scan.py [--files 20] [--records 200000] [--repeat 2] [--dir DIR]

Point it at an existing cluster with ``--address tcp://host:8786`` to time that cluster
against a 1-worker LocalCluster (the files must be visible to its workers at the same path).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examples.dbn_fixtures import write_mbo_file  # noqa: E402
from golive.plugins.feed.dbn_quality import QualityOptions  # noqa: E402
from golive.plugins.feed.quality_check import _one  # noqa: E402

DEFECTS = (["gap"], ["duplicate_adjacent"], ["crossed_book"], [])


def make_files(folder: Path, n_files: int, n_records: int) -> list[str]:
    paths = []
    for i in range(n_files):
        path = folder / f"glbx-mdp3-2026110{i % 10}-{i:02d}.mbo.dbn"
        if not path.exists():
            write_mbo_file(path, ("ESZ6", "NQZ6"), n_records, seed=i, defects=DEFECTS[i % len(DEFECTS)])
        paths.append(str(path))
    return paths


def scan(client, paths: list[str], opts: dict) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    futures = client.map(_one, paths, [opts] * len(paths), pure=False)
    results = client.gather(futures)
    return time.perf_counter() - start, results


def timed(paths: list[str], opts: dict, workers: int, repeat: int, address: str | None = None):
    from distributed import Client, LocalCluster

    cluster = None if address else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                dashboard_address=None)
    with Client(address or cluster) as client:
        workers = len(client.scheduler_info(n_workers=-1)["workers"])
        client.run(lambda: __import__("golive.plugins.feed.quality_check"))  # warm imports
        best, results = float("inf"), []
        for _ in range(repeat):
            elapsed, results = scan(client, paths, opts)
            best = min(best, elapsed)
    if cluster is not None:
        cluster.close()
    return workers, best, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None, help="keep the generated files here (reused)")
    parser.add_argument("--address", default=None, help="an existing Dask scheduler to compare with 1 worker")
    args = parser.parse_args(argv)

    folder = args.dir or Path(tempfile.mkdtemp(prefix="golive-dask-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        paths = make_files(folder, args.files, args.records)
        size = sum(os.path.getsize(p) for p in paths)
        print(f"{len(paths)} DBN files, {args.records:,} MBO records each, {size / 2**20:.1f} MiB "
              f"(generated/reused in {time.perf_counter() - t0:.1f} s); {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f} (other processes on the CPUs shrink the speed-up)")
        opts = asdict(QualityOptions())
        n1, t1, r1 = timed(paths, opts, 1, args.repeat)
        print(f"1 worker : {t1:7.2f} s  ({len(paths) / t1:.2f} files/s, "
              f"{len(paths) * args.records / t1 / 1e6:.2f} M records/s)")
        n2, t2, r2 = timed(paths, opts, 2, args.repeat, args.address)
        label = f"{n2} workers" + (f" at {args.address}" if args.address else "")
        print(f"{label}: {t2:7.2f} s  ({len(paths) / t2:.2f} files/s, "
              f"{len(paths) * args.records / t2 / 1e6:.2f} M records/s)")
        if [r.get("metrics") for r in r1] != [r.get("metrics") for r in r2]:
            print("ERROR: the two scans disagree", file=sys.stderr)
            return 1
        print(f"speed-up {n2} workers vs {n1}: {t1 / t2:.2f}x (results identical, file by file)")
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
