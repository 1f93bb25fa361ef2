"""Peak memory of a full ``golive run`` over a workspace whose records/fills.csv is ~400 MB
(issue 15.7: every reader streams with bounded memory; goal: under 500 MiB RSS).

The workspace is the demo's (``golive.demo.build``, healthy profile: feed, records, operations
logs, audit log), with ~400 MB of synthetic fills (ESZ6, one every 0.5 s, two per order,
before the demo's own fills) placed in front of the demo's fills in ``records/fills.csv``.
The whole packaged plan runs on it (``golive run --no-evidence``, 4 checks at a time), in a
child process whose peak RSS (``wait4`` maximum resident set) is reported with its wall time
and the statuses of the checks that read fills. Measured in the same run, on the same file,
each in its own process:

* baseline ``pandas.read_csv`` of fills.csv (pandas' own types: the smallest whole-file read);
* ``reader.load`` of all 8 columns: the records reader's whole frame (what each fills check
  held before they streamed; a run of 4 at a time held up to 4 of them, plus their objects).

    .venv/bin/python benchmarks/bench_records_memory.py [--mb 400] [--jobs 4] [--dir DIR]

Measured 2026-12-03 (2 cores shared, load ~4.5; 392 MB, 5.33 M fills): the run 464 MiB peak in
397 s (every fills check over all 5.33 M rows); pandas.read_csv 1,207 MiB; reader.load 868 MiB.
Before the checks streamed, each of the ~12 checks reading fills held reader.load's frame (and
some a Python object per fill), four at a time. Rerun 2026-12-03 10:07 UTC (load ~3-4) after the
reconciliation spilled its statement to SQLite and Parquet was read in batches: the run 492 MiB
in 444 s (the reconciliation alone on this workspace: 167 MiB, as before the spill); the
baselines 1,207 and 893 MiB. A large statement and Parquet: bench_reconciliation_memory.py.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILL_CHECKS = ("broker.", "audit.", "business.pnl_reconciliation", "algorithm.shadow_duration")
LIMIT_GB = 8.0  # a child over this gets a MemoryError instead of exhausting the shared machine


def build_workspace(ws: Path, megabytes: float) -> int:
    """The demo workspace with ~``megabytes`` of fills before its own; returns the fill rows."""
    from golive.demo import build

    build(ws, "healthy")
    path = ws / "records" / "fills.csv"
    header, *demo = path.read_text(encoding="utf-8").splitlines()
    first = datetime.fromisoformat(demo[0].split(",")[0].replace("Z", "+00:00"))
    rng, limit, size, rows = random.Random(15), int(megabytes * 1e6), 0, []
    n = int(limit / 75)  # about 75 bytes a row
    start = first - timedelta(seconds=n * 0.5 + 60)
    with open(path.with_suffix(".tmp"), "w", encoding="utf-8", buffering=1 << 20) as out:
        out.write(header + "\n")
        for i in range(n):
            ts = (start + timedelta(seconds=i * 0.5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            line = (f"{ts},BF{i:09d},BO{i // 2:09d},ESZ6,{'buy' if i % 2 else 'sell'},{rng.randint(1, 5)},"
                    f"{6000 + rng.randint(-400, 400) * 0.25:.2f},{rng.randint(100, 900) / 100:.2f}\n")
            out.write(line)
            size += len(line)
        out.write("\n".join(demo) + "\n")
    os.replace(path.with_suffix(".tmp"), path)
    assert header.split(",")[:3] == ["ts", "fill_id", "order_id"], header
    return n + len(demo)


def measure(args: list[str]) -> tuple[float, float, str]:
    """(wall s, peak RSS MiB, stdout) of a child process (``wait4``: its own maximum resident set)."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (int(LIMIT_GB * 2**30),) * 2)

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True, cwd=ROOT, preexec_fn=cap)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        if proc.returncode not in (0, 1):
            print(f"exit {proc.returncode}: {err.read().strip()[-2000:]}", file=sys.stderr)
        return wall, usage.ru_maxrss / 1024, out.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=400, help="size of the synthetic fills (MB)")
    parser.add_argument("--jobs", type=int, default=4, help="checks run at once (golive run -j)")
    parser.add_argument("--dir", type=Path, help="build the workspace here (kept) instead of a temp folder")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="golive-records-mem-") as tmp:
        base = opts.dir or Path(tmp)
        ws = base / "ws"
        t0 = time.perf_counter()
        rows = build_workspace(ws, opts.mb) if not ws.exists() else sum(1 for _ in open(ws / "records/fills.csv")) - 1
        fills = ws / "records" / "fills.csv"
        print(f"# workspace {ws}: records/fills.csv {fills.stat().st_size / 1e6:,.0f} MB, {rows:,} fills "
              f"({time.perf_counter() - t0:.0f} s to build)", flush=True)
        print(f"{'what':<44} {'wall s':>8} {'peak RSS MiB':>13}")
        py = sys.executable
        wall, peak, _ = measure([py, "-c", f"import pandas as pd; pd.read_csv({str(fills)!r})"])
        print(f"{'baseline: pandas.read_csv(fills.csv)':<44} {wall:>8.1f} {peak:>13,.0f}", flush=True)
        wall, peak, _ = measure([py, "-c", (
            "import logging; from pathlib import Path; from golive.model import CheckContext, Target; "
            "from golive.plugins.records import reader; "
            f"ctx = CheckContext(target=Target(root=Path({str(ws)!r})), params={{}}, settings={{}}, "
            "log=logging.getLogger('bench')); "
            "reader.load(ctx, 'fills', need=['ts', 'fill_id', 'order_id', 'symbol', 'side', 'qty', 'price', 'fees'])")])
        print(f"{'reader.load of all 8 columns (one frame)':<44} {wall:>8.1f} {peak:>13,.0f}", flush=True)
        doc = base / "results.json"
        wall, peak, _ = measure([py, "-m", "golive", "run", "--target", str(ws), "--no-evidence", "-q",
                                 "--jobs", str(opts.jobs), "--timeout", "3600", "--json", str(doc)])
        print(f"{f'golive run, whole plan, {opts.jobs} checks at a time':<44} {wall:>8.1f} {peak:>13,.0f}", flush=True)
        results = json.loads(doc.read_text())["results"] if doc.exists() else []
        print("statuses:", dict(Counter(r["status"] for r in results)))
        for r in results:
            if str(r.get("checker") or "").startswith(FILL_CHECKS):
                print(f"  {r['requirement_id']:<18} {r['checker']:<34} {r['status']:<8} {str(r.get('reason') or '')[:90]}")
        print("goal: the run under 500 MiB peak RSS with a 400 MB fills.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
