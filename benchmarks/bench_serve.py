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
* the first request, which reads every run into the in-memory run list, and the process's
  resident memory before and after it;
* baselines: the read path of ``golive evidence show`` for the same data (``show.list_runs``
  parses every run's entries per call; ``show.requirement_history`` checks waivers per run).

    python benchmarks/bench_serve.py [--runs 1000] [--store DIR] [--db URL] [--requests 50]

``--runs 10000`` gives the issue's figure (building it takes a while; ``--store DIR`` keeps it).
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
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
from golive.serve.queries import RunIndex

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


def timed(fn, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--store", type=Path, help="build (or reuse) the store here")
    parser.add_argument("--db", help="database URL (PostgreSQL) instead of the store's SQLite file")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)
    folder = args.store or Path(tempfile.mkdtemp(prefix="golive-bench-serve-"))
    store = Store(folder, args.db)
    have = run_count(store)
    if have < args.runs:
        print(f"building {args.runs - have} runs x {RESULTS} results in {folder}", file=sys.stderr)
        t = time.perf_counter()
        build(store, args.runs - have)
        print(f"built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    auth.ensure_tables(store)
    if auth.role_of(store, "bench") is None:
        auth.add_user(store, "bench", "admin", PASSWORD)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    proc = psutil.Process()
    client = TestClient(create_app(store, secret_key="b" * 40))
    token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": token, "next": "/ledger"})
    rss_before = proc.memory_info().rss
    t = time.perf_counter()
    first = client.get("/runs")
    first_ms = (time.perf_counter() - t) * 1000
    rss_after = proc.memory_info().rss
    runs = [r.id for r in RunIndex(store).runs()]
    newest, older = runs[0], runs[min(len(runs) - 1, 10)]
    requirement = make_outcome(2).requirement.id
    pages = {"runs": "/runs", "runs page 20": "/runs?page=20", "run": f"/runs/{newest}",
             "requirement": f"/runs/{newest}/requirements/{requirement}",
             "compare": f"/compare?a={older}&b={newest}"}
    print(f"golive serve on {len(runs)} runs x {RESULTS} results ({'PostgreSQL' if args.db else 'SQLite'}), "
          f"{args.requests} requests per page")
    print(f"first request (run list read): {first_ms:.0f} ms, status {first.status_code}; "
          f"RSS {rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MiB")
    for name, path in pages.items():
        assert client.get(path).status_code == 200, path
        median, p95 = timed(lambda: client.get(path), args.requests)
        print(f"  {name:14s} median {median:7.1f} ms   p95 {p95:7.1f} ms   {'ok' if p95 < 200 else 'OVER 200 ms'}")
    baseline_n = max(3, args.requests // 10)
    list_median, _ = timed(lambda: show.list_runs(store), baseline_n)
    hist_median, _ = timed(lambda: show.requirement_history(store, requirement), baseline_n)
    runs_median, _ = timed(lambda: client.get("/runs"), baseline_n)
    req_median, _ = timed(lambda: client.get(pages["requirement"]), baseline_n)
    print(f"baseline show.list_runs {list_median:.1f} ms vs runs page {runs_median:.1f} ms "
          f"({list_median / runs_median:.1f}x)")
    print(f"baseline show.requirement_history {hist_median:.1f} ms vs requirement page {req_median:.1f} ms "
          f"({hist_median / req_median:.1f}x)")
    print(f"RSS at the end {proc.memory_info().rss / 2**20:.0f} MiB")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
