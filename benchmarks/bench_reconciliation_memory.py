"""Peak memory of the broker reconciliation check with a ~400 MB broker statement, and of a
streamed check over a Parquet fills file (issue 15.7: every reader streams with bounded memory;
goal: under 500 MiB RSS).

The workspace holds only ``records/fills.csv`` and ``records/broker_statement.csv``: ~400 MB
each of synthetic ESZ6 executions (one every 0.5 s; the statement lists the same executions,
except that every 100,000th differs in fees and the last 1,000 fills are missing from it and
replaced by 1,000 the fills lack). A second workspace holds the same fills as
``records/fills.parquet`` (typed columns: timestamp[ms], int64, decimal128; row groups of
1 Mi rows, pyarrow's default). Each measurement runs in its own process; its peak RSS is the
``wait4`` maximum resident set. Measured in the same run, on the same files:

* baseline ``pandas.read_csv(broker_statement.csv)``: the statement read whole, the smallest
  whole-file read (the check before held ``reader.load``'s frame of it and a tuple per execution);
* ``broker.reconciliation`` on the CSV workspace (fills and statement streamed, the statement
  spilled to SQLite on disk);
* baseline ``pandas.read_parquet(fills.parquet)``: what ``reader.load`` and ``stream.scan`` did
  first before they read Parquet in batches;
* ``stream.scan`` of fills.parquet, all 8 columns, validated then iterated chunk by chunk
  summing the fees (what a check streaming fills does).

    .venv/bin/python benchmarks/bench_reconciliation_memory.py [--mb 400] [--dir DIR]

Measured 2026-12-03 (2 cores shared with other jobs, load ~3; 392 MB fills.csv and 392 MB
broker_statement.csv of 5.33 M rows each; fills.parquet of the same 5.33 M fills is 89 MB):
reconciliation 230 MiB peak in 129 s (5,332,279 reconciled, 1,000 missing, 1,000 extra, 54
mismatched) against 1,207 MiB for pandas.read_csv of the statement alone; stream.scan of
fills.parquet 232 MiB in 116 s against 2,193 MiB for pandas.read_parquet. With
``--only parquet --parquet-copies 5`` (fills.parquet 442 MB, 26.67 M fills; load ~4-6):
stream.scan 267 MiB in 856 s; pandas.read_parquet stopped with a MemoryError at 5,784 MiB
under the 8 GiB address-space cap. The reconciliation as it was before (the statement held:
reader.load's frame and a tuple per execution), measured once on the same 392 MB files:
2,799 MiB in 134 s, the same result.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_records_memory import measure  # noqa: E402

HEADER = "ts,{id},order_id,symbol,side,qty,price,fees\n"
GOAL_MIB = 500
CONTEXT = ("import logging; from pathlib import Path; from golive.model import CheckContext, Target; "
           "ctx = CheckContext(target=Target(root=Path({root!r})), params={{}}, settings={{}}, "
           "log=logging.getLogger('bench')); ")


def build(ws: Path, megabytes: float) -> int:
    """fills.csv and broker_statement.csv of ~``megabytes`` each; returns the fill rows."""
    records = ws / "records"
    records.mkdir(parents=True, exist_ok=True)
    rng, n = random.Random(15), int(megabytes * 1e6 / 75)  # about 75 bytes a row
    start = datetime(2026, 11, 2, 14, tzinfo=timezone.utc) - timedelta(seconds=n * 0.5)
    with open(records / "fills.csv", "w", encoding="utf-8", buffering=1 << 20) as fills, \
            open(records / "broker_statement.csv", "w", encoding="utf-8", buffering=1 << 20) as stmt:
        fills.write(HEADER.format(id="fill_id"))
        stmt.write(HEADER.format(id="exec_id"))
        for i in range(n):
            ts = (start + timedelta(seconds=i * 0.5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            body = (f"BO{i // 2:09d},ESZ6,{'buy' if i % 2 else 'sell'},{rng.randint(1, 5)},"
                    f"{6000 + rng.randint(-400, 400) * 0.25:.2f},")
            fees = rng.randint(100, 900) / 100
            fills.write(f"{ts},BF{i:09d},{body}{fees:.2f}\n")
            if i < n - 1000:
                stmt.write(f"{ts},BF{i:09d},{body}{fees + (0.01 if i % 100_000 == 7 else 0):.2f}\n")
            else:
                stmt.write(f"{ts},BX{i:09d},{body}{fees:.2f}\n")
    return n


def to_parquet(csv: Path, parquet: Path, copies: int = 1, rows: int = 0) -> None:
    """The fills CSV (``rows`` fills) as typed Parquet, streamed through pyarrow in row groups of
    1 Mi rows; ``copies`` > 1 appends more copies of them, each later in time with ids prefixed
    C1, C2, ... (still unique, sorted and increasing), for a Parquet file as large as the CSV."""
    from datetime import timedelta as td

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    types = {"ts": pa.timestamp("ms", tz="UTC"), "qty": pa.int64(), "price": pa.decimal128(12, 2),
             "fees": pa.decimal128(12, 2)}
    options = pacsv.ConvertOptions(column_types=types)
    schema = pacsv.open_csv(csv, convert_options=options).schema
    with pq.ParquetWriter(parquet, schema) as writer:
        pending, held = [], 0
        for copy in range(copies):
            shift = pa.scalar(td(seconds=copy * (rows * 0.5 + 3600)), pa.duration("ms"))
            for batch in pacsv.open_csv(csv, convert_options=options):
                if copy:
                    columns = dict(zip(batch.schema.names, batch.columns))
                    columns["ts"] = pc.add(columns["ts"], shift)
                    columns["fill_id"] = pc.binary_join_element_wise(f"C{copy}", columns["fill_id"], "")
                    batch = pa.RecordBatch.from_arrays(list(columns.values()), schema=schema)
                pending.append(batch)
                held += batch.num_rows
                if held >= 1 << 20:
                    writer.write_table(pa.Table.from_batches(pending), row_group_size=1 << 20)
                    pending, held = [], 0
        if pending:
            writer.write_table(pa.Table.from_batches(pending), row_group_size=1 << 20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=400, help="size of each synthetic CSV file (MB)")
    parser.add_argument("--parquet-copies", type=int, default=1,
                        help="copies of the fills in fills.parquet (4-5: a Parquet file about as large as the CSV)")
    parser.add_argument("--only", choices=("reconciliation", "parquet"), help="run one of the two comparisons")
    parser.add_argument("--dir", type=Path, help="build the workspaces here (kept) instead of a temp folder")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="golive-recon-mem-") as tmp:
        base = opts.dir or Path(tmp)
        ws = base / "ws"
        t0 = time.perf_counter()
        if not (ws / "records" / "broker_statement.csv").exists():
            build(ws, opts.mb)
        rows = sum(1 for _ in open(ws / "records" / "fills.csv", "rb")) - 1
        pq_ws = base / f"ws-parquet-{opts.parquet_copies}"
        if not (pq_ws / "records" / "fills.parquet").exists():
            (pq_ws / "records").mkdir(parents=True, exist_ok=True)
            to_parquet(ws / "records" / "fills.csv", pq_ws / "records" / "fills.parquet", opts.parquet_copies, rows)
        stmt, parquet = ws / "records" / "broker_statement.csv", pq_ws / "records" / "fills.parquet"
        print(f"# {ws}: fills.csv {(ws / 'records' / 'fills.csv').stat().st_size / 1e6:,.0f} MB, "
              f"broker_statement.csv {stmt.stat().st_size / 1e6:,.0f} MB ({rows:,} rows each); fills.parquet "
              f"{parquet.stat().st_size / 1e6:,.0f} MB ({rows * opts.parquet_copies:,} rows) "
              f"({time.perf_counter() - t0:.0f} s to build)", flush=True)
        print(f"{'what':<58} {'wall s':>8} {'peak RSS MiB':>13}")
        py = sys.executable
        peaks = []

        def run(label: str, code: str) -> None:
            wall, peak, out = measure([py, "-c", code + "; print('finished')"])
            failed = "finished" not in out  # e.g. a MemoryError at the LIMIT_GB address-space cap
            peaks.append((label, f"{peak:,.0f} MiB" + (" (failed)" if failed else "")))
            note = "FAILED (see above)" if failed else out.replace("finished", "").strip()[:120]
            print(f"{label:<58} {wall:>8.1f} {peak:>13,.0f}  {note}", flush=True)

        if opts.only != "parquet":
            run("baseline: pandas.read_csv(broker_statement.csv)", f"import pandas as pd; pd.read_csv({str(stmt)!r})")
            run("broker.reconciliation (fills + statement streamed)", CONTEXT.format(root=str(ws)) + (
                "from golive.model import Requirement; from golive.plugins.broker import reconciliation; "
                "req = Requirement(id='AUD-06', title='t', statement='s', category='c', priority='P1', "
                "plan_lines=(200, 204)); r = reconciliation.SPEC.func(req, ctx); print(r.status, r.message)"))
        if opts.only != "reconciliation":
            run("baseline: pandas.read_parquet(fills.parquet)", f"import pandas as pd; pd.read_parquet({str(parquet)!r})")
            run("stream.scan(fills.parquet), 8 columns, validated + iterated", CONTEXT.format(root=str(pq_ws)) + (
                "from golive.plugins.broker import trading; scan = trading.fill_scan(ctx); "
                "print(len(scan), 'fills, fees', sum(sum(c['fees']) for c in scan))"))
        print(f"goal: the streamed reads under {GOAL_MIB} MiB peak RSS; "
              + "; ".join(f"{label.split(' (')[0]}: {peak}" for label, peak in peaks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
