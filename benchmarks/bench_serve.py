"""Dashboard page times on a generated store (issue 17 "Speed": p95 < 200 ms at 10,000 runs x
94 results), each page against a baseline measured in the same run.

The store is built through the real recorder (``LedgerRecorder.record_results``: run-started,
94 results in one transaction, run-finished, signed checkpoint), with statuses that change from
run to run so histories and comparisons have work to do. No results documents are saved, so
run pages show the ledger's figures without the report's render model.

Figures, over ``--requests`` signed-in requests each through Starlette's TestClient (the whole
app: session cookie, role lookup, audit-log insert, template):
* runs (first page, and a page deep in the list), run (newest), requirement in a run (with its
  history and flip-flop window), compare (two runs): median and p95 in ms;
* the first request, which derives the run index (``serve_runs``, dropped before each measure)
  from the ledger, and the server process's resident memory before it, after it and after every
  page; with ``--small N`` first at N runs and then at ``--runs``, so the two RSS figures show
  whether memory stays flat as the store grows (each measure runs in a fresh process);
* baselines: the read path of ``golive evidence show`` for the same data (``show.list_runs``
  parses every run's entries per call; ``show.requirement_history`` checks waivers per run).

    python benchmarks/bench_serve.py [--runs 1000] [--small N] [--store DIR] [--db URL] [--requests 50]
                                     [--small-store DIR] [--small-db URL]

``--small 1000 --runs 10000`` gives the issue's figures (building takes a while; ``--store DIR``
keeps the store; ``--small-store`` measures a separate store kept at N runs).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import psutil
from sqlalchemy import text

from golive.ledger import LedgerRecorder, Signer, Store, record_key
from golive.ledger import show
from golive.ledger.simulate import STATUSES, make_outcome, run_header
from golive.serve import auth
from golive.serve.app import create_app
from golive.serve.runindex import RunIndex

RESULTS = 94
PASSWORD = "benchmark password"


def build(store: Store, runs: int) -> None:
    signer = Signer.generate()
    record_key(store, signer)
    recorder = LedgerRecorder(store, signer, copy_artifacts=False)
    base = [make_outcome(i) for i in range(RESULTS)]
    start = time.perf_counter()
    for n in range(runs):
        # every 7th run shifts the statuses: requirements flip between pass and fail over runs
        shift = (n // 7) % len(STATUSES)
        outcomes = [dataclasses.replace(o, status=STATUSES[(i + shift) % len(STATUSES)]) for i, o in enumerate(base)]
        run = run_header("/srv/trading" if n % 2 else "/srv/trading-b")
        recorder.golive_run_started(run=run)
        recorder.record_results(outcomes, run)
        run["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        recorder.golive_run_finished(run=run, outcomes=outcomes)
        if (n + 1) % 500 == 0:
            print(f"  built {n + 1} runs ({(n + 1) / (time.perf_counter() - start):.0f} runs/s)", file=sys.stderr)


def run_count(store: Store) -> int:
    with store.read() as conn:
        return conn.execute(text("SELECT count(*) FROM ledger_entries WHERE kind = 'run-started'")).scalar() or 0


def ensure_runs(folder: Path, db: str | None, runs: int) -> None:
    store = Store(folder, db)
    have = run_count(store)
    if have < runs:
        print(f"building {runs - have} runs x {RESULTS} results in {folder}", file=sys.stderr)
        t = time.perf_counter()
        build(store, runs - have)
        print(f"built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    auth.ensure_tables(store)
    if auth.role_of(store, "bench") is None:
        auth.add_user(store, "bench", "admin", PASSWORD)
    store.close()


def timed(fn, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def measure(folder: Path, db: str | None, requests: int) -> dict:
    """Serve every page ``requests`` times in this (fresh) process; the figures and the RSS."""
    store = Store(folder, db)
    with store.write() as conn:  # a cold run index: the first request derives it from the ledger
        conn.execute(text("DROP TABLE IF EXISTS serve_runs"))
        conn.execute(text("DROP TABLE IF EXISTS serve_sync"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    proc = psutil.Process()
    client = TestClient(create_app(store, secret_key="b" * 40))
    token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": token, "next": "/ledger"})
    out = {"rss_start": proc.memory_info().rss}
    t = time.perf_counter()
    assert client.get("/runs").status_code == 200
    out["first_ms"] = (time.perf_counter() - t) * 1000
    out["rss_first"] = proc.memory_info().rss
    runs = [r.id for r in RunIndex(store).newest(11)]
    newest, older = runs[0], runs[-1]
    requirement = make_outcome(2).requirement.id
    pages = {"runs": "/runs", "runs page 20": "/runs?page=20", "runs filtered": "/runs?target=/srv/trading&page=5",
             "run": f"/runs/{newest}", "requirement": f"/runs/{newest}/requirements/{requirement}",
             "compare": f"/compare?a={older}&b={newest}", "trends": "/trends", "ledger": "/ledger"}
    out["pages"] = {}
    for name, path in pages.items():
        assert client.get(path).status_code == 200, path
        out["pages"][name] = timed(lambda: client.get(path), requests)
    out["rss_end"] = proc.memory_info().rss
    baseline_n = max(3, requests // 10)
    out["baseline_list_runs"] = timed(lambda: show.list_runs(store), baseline_n)[0]
    out["baseline_history"] = timed(lambda: show.requirement_history(store, requirement), baseline_n)[0]
    out["runs"] = run_count(store)
    store.close()
    return out


def measured_in_child(folder: Path, db: str | None, requests: int) -> dict:
    """:func:`measure` in a new Python process, so its RSS is the server's alone (not the builder's)."""
    args = [sys.executable, __file__, "--measure", "--store", str(folder), "--requests", str(requests)]
    done = subprocess.run(args + (["--db", db] if db else []), capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(figures: dict, backend: str) -> None:
    mib = 2 ** 20
    print(f"golive serve on {figures['runs']} runs x {RESULTS} results ({backend})")
    print(f"  first request (derives the run index from the ledger): {figures['first_ms']:.0f} ms; RSS "
          f"{figures['rss_start'] / mib:.0f} -> {figures['rss_first'] / mib:.0f} MiB, after every page "
          f"{figures['rss_end'] / mib:.0f} MiB")
    for name, (median, p95) in figures["pages"].items():
        print(f"  {name:14s} median {median:7.1f} ms   p95 {p95:7.1f} ms   {'ok' if p95 < 200 else 'OVER 200 ms'}")
    runs_median = figures["pages"]["runs"][0]
    req_median = figures["pages"]["requirement"][0]
    print(f"  baseline show.list_runs {figures['baseline_list_runs']:.1f} ms vs runs page {runs_median:.1f} ms "
          f"({figures['baseline_list_runs'] / runs_median:.1f}x)")
    print(f"  baseline show.requirement_history {figures['baseline_history']:.1f} ms vs requirement page "
          f"{req_median:.1f} ms ({figures['baseline_history'] / req_median:.1f}x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--small", type=int, default=0,
                        help="first measure at this many runs (the memory baseline), then at --runs")
    parser.add_argument("--store", type=Path, help="build (or reuse) the store here")
    parser.add_argument("--db", help="database URL (PostgreSQL) instead of the store's SQLite file")
    parser.add_argument("--small-store", type=Path, help="a separate store for the --small figures (kept as is)")
    parser.add_argument("--small-db", help="its database URL")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.store, args.db, args.requests)))
        return 0
    folder = args.store or Path(tempfile.mkdtemp(prefix="golive-bench-serve-"))
    backend = "PostgreSQL" if args.db else "SQLite"
    figures = []
    if args.small:
        small_folder, small_db = (args.small_store, args.small_db) if args.small_store else (folder, args.db)
        ensure_runs(small_folder, small_db, args.small)
        figures.append(measured_in_child(small_folder, small_db, args.requests))
        report(figures[-1], backend)
    ensure_runs(folder, args.db, args.runs)
    figures.append(measured_in_child(folder, args.db, args.requests))
    report(figures[-1], backend)
    if len(figures) == 2:
        small, large = figures
        print(f"server RSS after every page: {small['rss_end'] / 2**20:.0f} MiB at {small['runs']} runs vs "
              f"{large['rss_end'] / 2**20:.0f} MiB at {large['runs']} runs "
              f"({(large['rss_end'] - small['rss_end']) / 2**20:+.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
