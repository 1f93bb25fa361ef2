"""Evidence ledger throughput on a 100k-entry ledger: append and verify rates, in entries/s,
each against a naive baseline measured in the same run.

* append, batched: results through the real recorder (outcome -> redacted payload -> RFC 8785
  -> hash -> insert + index rows), one transaction per batch of ``--batch`` results (a run),
  each run opened by run-started and closed by run-finished + a signed checkpoint (three more
  fsync'd transactions). The 100k ledger is built with ``--batch`` (default 1,000); a second
  figure uses batches of 94 (the plan's size: one transaction per plan run) on a slice.
  Baseline: one transaction per entry (how the live recorder appends, for crash safety).
* verify: hash chain + every checkpoint signature (``verify_store``).
  Baseline: one Ed25519 signature verified per entry, the "sign every entry" design.
  Baselines run on a slice (``--baseline N``) and are reported as rates.

    python benchmarks/bench_ledger.py [--entries 100000] [--batch 1000] [--store DIR] [--baseline 2000]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from golive.ledger import LedgerRecorder, Signer, Store, record_key, verify_store
from golive.ledger.chain import head_message
from golive.ledger.keys import verify_signature
from golive.ledger.simulate import make_outcome, run_header

PLAN_SIZE = 94


def empty_target(store: Store) -> Path:
    """A workspace folder with nothing in it: run-started scans its target for links out of it,
    and this benchmark measures the ledger, not the walk of whatever folder it was started in."""
    target = store.path.parent / "target"
    target.mkdir(exist_ok=True)
    return target


def build(store: Store, signer: Signer, entries: int, batch: int) -> tuple[float, float, int]:
    """Append about ``entries`` entries in runs of ``batch`` results; returns
    (wall seconds, CPU seconds, results)."""
    recorder = LedgerRecorder(store, signer, copy_artifacts=False)
    outcomes = [make_outcome(i) for i in range(batch)]
    results, size = 0, store_size(store)
    start, cpu_start = time.perf_counter(), time.process_time()
    while size + batch + 3 <= entries:
        size += batch + 3
        run = run_header(empty_target(store))
        recorder.golive_run_started(run=run)
        recorder.record_results(outcomes, run)
        run["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        recorder.golive_run_finished(run=run, outcomes=outcomes)
        results += len(outcomes)
    return time.perf_counter() - start, time.process_time() - cpu_start, results


def store_size(store: Store) -> int:
    with store.read() as conn:
        return conn.execute(text("SELECT size FROM ledger_head WHERE id = 1")).scalar() or 0


def append_baseline(store: Store, signer: Signer, n: int) -> float:
    """Entries/s appending ``n`` results one transaction each."""
    recorder = LedgerRecorder(store, signer, copy_artifacts=False)
    run = run_header(empty_target(store))
    recorder.golive_run_started(run=run)
    start = time.perf_counter()
    for i in range(n):
        recorder.golive_result(outcome=make_outcome(i), run=run)
    return n / (time.perf_counter() - start)


def verify_baseline(store: Store, signer: Signer, n: int) -> float:
    """Entries/s verifying one Ed25519 signature per entry (signatures made beforehand)."""
    with store.read() as conn:
        heads = conn.execute(text("SELECT seq, entry_hash FROM ledger_entries ORDER BY seq LIMIT :n"),
                             {"n": n}).all()
    signed = [(head_message(seq, digest), signer.sign(head_message(seq, digest))) for seq, digest in heads]
    public = signer.public_raw
    start = time.perf_counter()  # single-threaded CPU work: wall time is the CPU time
    for message, sig in signed:
        if not verify_signature(public, sig, message):
            raise SystemExit("baseline signature failed to verify")
    return len(signed) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="results per run (one transaction)")
    parser.add_argument("--store", type=Path, help="where to build the ledger (default: a temp dir)")
    parser.add_argument("--baseline", type=int, default=2000, help="entries in each baseline slice")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="golive-bench-")) if args.store is None else args.store
    try:
        store = Store(tmp / "ledger")
        signer = Signer.generate()
        record_key(store, signer)
        seconds, cpu, results = build(store, signer, args.entries, args.batch)
        size = store_size(store)
        print(f"ledger: {size} entries ({results} results in runs of {args.batch}) at {store.path}")
        print(f"append, {args.batch:>4} results/txn: {results / seconds:8,.0f} results/s  "
              f"({size / seconds:,.0f} entries/s, {seconds:.2f} s wall; {results / cpu:,.0f} results per CPU-second)")

        plan_store = Store(tmp / "plan-sized")
        record_key(plan_store, signer)
        slice_entries = max(args.entries // 5, PLAN_SIZE + 4)
        seconds, cpu, plan_results = build(plan_store, signer, slice_entries, PLAN_SIZE)
        print(f"append, {PLAN_SIZE:>4} results/txn: {plan_results / seconds:8,.0f} results/s  "
              f"({plan_results} results, {seconds:.2f} s wall; {plan_results / cpu:,.0f} results per CPU-second)")

        base_store = Store(tmp / "baseline")
        record_key(base_store, signer)
        rate = append_baseline(base_store, signer, args.baseline)
        print(f"append,    1 result/txn : {rate:8,.0f} results/s  (baseline, {args.baseline} entries)")

        start, cpu_start = time.perf_counter(), time.process_time()
        report = verify_store(store, check_blobs=False)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if not report.ok:
            print(f"verification FAILED: {report.first_problem}")
            return 1
        print(f"verify chain + {report.checkpoints} checkpoint signatures: {report.entries / elapsed:8,.0f} entries/s  "
              f"({report.entries} entries, {elapsed:.2f} s wall; {report.entries / cpu:,.0f} entries per CPU-second)")
        rate = verify_baseline(store, signer, args.baseline)
        print(f"verify 1 signature per entry: {rate:8,.0f} entries/s  (baseline, {args.baseline} entries)")
        return 0
    finally:
        if args.store is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
