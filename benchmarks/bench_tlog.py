"""Transparency-log proofs at scale (issue 15: goal < 1 ms per inclusion proof generated and
verified at 1 M entries; full verification >= 150,000 entries/s), each against a baseline
measured in the same run.

The ledger is built through the real append path (``Ledger.append_in``: canonical payload,
entry hash, chain, tree index ``tlog_nodes``) in runs of ``--batch`` results, each run opened
and closed by the real recorder (run-started, run-finished, checkpoint with its signed C2SP
tree head). Result payloads are a real recorder payload with a per-entry requirement id, so
entry sizes are realistic. Figures:

* build: entries/s appended, with the tree index kept up to date in the same transactions;
* inclusion proof generation from the stored subtree hashes (O(log n) rows in one query),
  raw (``StoredTree.inclusion``) and as the CLI makes it (entry, newest recorded checkpoint,
  self-check, tlog-proof text); baseline: the same proof computed on demand from the stored
  leaf (entry) hashes, i.e. without the index;
* verification: RFC 9162 path check alone, and the whole tlog-proof (Ed25519 note signature,
  entry re-hash, path) as ``golive evidence verify-proof`` does it;
* consistency proof generation and verification between random sizes;
* ``verify_store`` over all entries (chain, signatures, run roots, tree heads) as the CLI runs
  it, then in-process on one core, with the digest worker forced on, and in-process reading
  20,000 rows per batch (the size before: a baseline); baseline: the same store's tree
  recomputed alone, so the tree's share is visible.

    python benchmarks/bench_tlog.py [--entries 1000000] [--batch 1000] [--proofs 2000] [--store DIR]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from golive.ledger import LedgerRecorder, Signer, Store, record_key, verify_store
from golive.ledger.canonical import canonical_bytes
from golive.ledger.chain import Ledger, PendingEntry
from golive.ledger.proofs import inclusion_proof, verify_inclusion_text
from golive.ledger.simulate import make_outcome, run_header
from golive.ledger import tlog, verify, verify_digest
from golive.ledger.treestore import StoredTree, stored_size

from bench_ledger import empty_target  # benchmarks/ is this script's sys.path[0]

TEMPLATE_ID = b"SIM-REQ-00000"
BEFORE = "in-process, 20,000-row batches"


def build(store: Store, signer: Signer, entries: int, batch: int) -> tuple[float, int]:
    recorder = LedgerRecorder(store, signer, copy_artifacts=False)
    ledger = Ledger(store)
    size = _size(store)
    start = time.perf_counter()
    n = 0
    while size + batch + 3 <= entries:
        run = run_header(empty_target(store))
        recorder.golive_run_started(run=run)
        template = canonical_bytes(recorder.result_payload(make_outcome(0), run))
        pending = []
        for _ in range(batch):
            n += 1
            payload = template.replace(TEMPLATE_ID, f"SIM-REQ-{n:09d}".encode())  # unique: no replay
            pending.append(PendingEntry(run["id"], "result", payload))
        with store.write() as conn:
            ledger.append_in(conn, pending)
        run["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        recorder.golive_run_finished(run=run, outcomes=[])
        size += batch + 3
        if size % 100_000 < batch + 3:
            print(f"  ... {size:,} entries", file=sys.stderr, flush=True)
    return time.perf_counter() - start, _size(store)


def _size(store: Store) -> int:
    with store.read() as conn:
        return conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar() or 0


CPU_MS: dict[str, float] = {}


def per_call_ms(fn, args_list, label: str = "") -> float:  # noqa: ANN001
    """Wall milliseconds per call (CPU milliseconds kept in CPU_MS[label]: the machine is shared)."""
    start, cpu = time.perf_counter(), time.process_time()
    for args in args_list:
        fn(*args)
    if label:
        CPU_MS[label] = (time.process_time() - cpu) * 1000 / len(args_list)
    return (time.perf_counter() - start) * 1000 / len(args_list)


def timed(fn):  # noqa: ANN001, ANN201
    """(fn(), wall seconds, CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def timed_verify(store: Store, mode: str = "auto"):  # noqa: ANN201
    """verify_store as the CLI runs it ("auto": the digest worker starts when a core is idle),
    "in-process" (no worker: one core), "worker" (forced on), or "in-process, 20,000-row
    batches" (the batch size before in-process batches were cut to 2,000: a baseline);
    (report, wall s, CPU s of this process, worker CPU s, runnable/total processes before)."""
    running = Path("/proc/loadavg").read_text().split()[3] if Path("/proc/loadavg").exists() else "?"
    saved = verify_digest.PARALLEL_MIN_ENTRIES, verify_digest.idle_core, verify.FETCH_BATCH
    if mode.startswith("in-process"):
        verify_digest.PARALLEL_MIN_ENTRIES = 10**18
    if mode == BEFORE:
        verify.FETCH_BATCH = 20_000
    elif mode == "worker":
        verify_digest.idle_core = lambda: True
    children = os.times().children_user + os.times().children_system
    try:
        report, elapsed, cpu = timed(lambda: verify_store(store, check_blobs=False))
    finally:
        verify_digest.PARALLEL_MIN_ENTRIES, verify_digest.idle_core, verify.FETCH_BATCH = saved
    worker = os.times().children_user + os.times().children_system - children
    return report, elapsed, cpu, worker, running


def on_demand_proof(conn, index: int, size: int) -> list[bytes]:  # noqa: ANN001
    """Baseline: the proof recomputed from the leaf hashes, without stored subtree hashes."""
    leaves = [tlog.leaf_hash(bytes.fromhex(h)) for (h,) in conn.execute(
        text("SELECT entry_hash FROM ledger_entries WHERE seq <= :n ORDER BY seq"), {"n": size})]
    tree = tlog.MemoryTree()
    tree.levels[0] = []
    for h in leaves:  # MemoryTree.append without re-hashing the leaf
        tree.levels[0].append(h)
        level = 0
        while len(tree.levels[level]) % 2 == 0:
            pair = tree.levels[level][-2:]
            level += 1
            if level == len(tree.levels):
                tree.levels.append([])
            tree.levels[level].append(tlog.node_hash(pair[0], pair[1]))
    return tree.inclusion_proof(index, size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--store", type=Path, help="build (or reuse) the ledger here; default: a temp dir")
    args = parser.parse_args(argv)
    rng = random.Random(15)
    with tempfile.TemporaryDirectory(prefix="golive-tlog-") as scratch:
        return measure(args, Path(scratch) if args.store is None else args.store, rng)


def measure(args: argparse.Namespace, tmp: Path, rng: random.Random) -> int:
    store = Store(tmp / "ledger")
    keyfile = tmp / "bench.key"
    if keyfile.exists():
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        signer = Signer(Ed25519PrivateKey.from_private_bytes(keyfile.read_bytes()))
    else:
        signer = Signer.generate()
        from cryptography.hazmat.primitives import serialization
        keyfile.write_bytes(signer.private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()))
        record_key(store, signer)
    seconds, size = build(store, signer, args.entries, args.batch)
    if seconds > 1:
        print(f"build: {size:,} entries, {size / seconds:,.0f} entries/s appended with the tree index "
              f"({seconds:.0f} s wall)")
    with store.read() as conn:
        assert stored_size(conn) == size, "tree index does not cover the ledger"
        tree = StoredTree(conn)
        picks = [(rng.randrange(size), size) for _ in range(args.proofs)]
        raw_ms = per_call_ms(tree.inclusion, picks, "raw")
        seqs = [(rng.randrange(1, size - args.batch), None) for _ in range(args.proofs // 4)]
        cli_proofs = []
        full_ms = per_call_ms(lambda s, n: cli_proofs.append(inclusion_proof(conn, s, n, lambda: signer)), seqs, "cli")
        base_picks = picks[:3]
        base_ms = per_call_ms(lambda i, n: on_demand_proof(conn, i, n), base_picks, "base")
        root = tree.root(size)
        proofs = [(i, n, tlog.leaf_hash(bytes.fromhex(conn.execute(
            text("SELECT entry_hash FROM ledger_entries WHERE seq = :s"), {"s": i + 1}).scalar())),
            tree.inclusion(i, n), root) for i, n in picks]
        pairs = sorted((rng.randrange(1, size), rng.randrange(1, size)) for _ in range(args.proofs // 4))
        pairs = [(min(a, b), max(a, b)) for a, b in pairs]
        cons_ms = per_call_ms(tree.consistency, pairs, "cons")
        cons = [(m, n, tree.root(m), tree.root(n), tree.consistency(m, n)) for m, n in pairs[:200]]
    verify_ms = per_call_ms(tlog.verify_inclusion, proofs, "verify")
    assert all(tlog.verify_inclusion(*p) for p in proofs)
    keys = [(None, signer.public_raw)]
    text_ms = per_call_ms(lambda p: verify_inclusion_text(p, keys), [(p,) for p in cli_proofs], "text")
    cons_verify_ms = per_call_ms(tlog.verify_consistency, cons, "consv")
    assert all(tlog.verify_consistency(*c) for c in cons)

    print(f"ledger: {size:,} entries at {store.path}")
    c = CPU_MS
    print("per proof: wall ms (CPU ms; the machine may be shared)")
    print(f"inclusion proof, generate (stored subtrees):  {raw_ms:7.3f} ({c['raw']:.3f})   "
          f"baseline on demand from leaf hashes: {base_ms:9.1f} ({c['base']:.1f})  ({base_ms / raw_ms:,.0f}x)")
    print(f"inclusion proof, generate as the CLI does:    {full_ms:7.3f} ({c['cli']:.3f})   "
          "(entry, newest recorded checkpoint, self-check, tlog-proof text)")
    print(f"inclusion proof, verify (RFC 9162 path):      {verify_ms:7.3f} ({c['verify']:.3f})")
    print(f"inclusion proof, verify tlog-proof + note:    {text_ms:7.3f} ({c['text']:.3f})   "
          "(Ed25519 signature, entry re-hash, path)")
    print(f"consistency proof, generate / verify:         {cons_ms:7.3f} ({c['cons']:.3f}) / "
          f"{cons_verify_ms:.3f} ({c['consv']:.3f})")

    report, elapsed, cpu, worker, running = timed_verify(store)
    if not report.ok:
        raise SystemExit(f"verification FAILED: {report.first_problem}")
    with store.read() as conn:
        start_t = time.perf_counter()
        builder = tlog.TreeBuilder()
        for (h,) in conn.execute(text("SELECT entry_hash FROM ledger_entries ORDER BY seq")):
            builder.append_leaf_data(bytes.fromhex(h))
        tree_s = time.perf_counter() - start_t
    assert builder.root() == report.tree_root
    print(f"verify_store (chain, signatures, run roots, {report.checkpoints} tree heads): "
          f"{report.entries / elapsed:9,.0f} entries/s  ({elapsed:.1f} s wall, {report.entries / cpu:,.0f} per CPU-s)")
    print(f"  digest worker: {f'{worker:.1f} CPU-s' if worker else 'not started (small ledger or no idle core)'}; "
          f"runnable/total before: {running}; load average {os.getloadavg()[0]:.2f}")
    for mode in ("in-process", "worker", BEFORE):
        forced, wall, cpu, worker, running = timed_verify(store, mode)
        assert forced.ok and forced.tree_root == report.tree_root
        label = {"in-process": "in-process (one core)", "worker": "digest worker forced on",
                 BEFORE: "baseline, 20,000-row batches"}[mode]
        print(f"  {label + ':':26} {forced.entries / wall:9,.0f} entries/s  ({wall:.1f} s wall, "
              f"{forced.entries / cpu:,.0f} per CPU-s of this process, worker {worker:.1f} CPU-s; "
              f"runnable/total before: {running}, load average {os.getloadavg()[0]:.2f})")
    print(f"baseline, the tree alone recomputed from entry hashes: {size / tree_s:9,.0f} entries/s  "
          f"({tree_s:.1f} s: {100 * tree_s / elapsed:.0f}% of verify)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
