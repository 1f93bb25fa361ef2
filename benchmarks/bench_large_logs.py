"""Benchmark: the log readers on ~400 MB logs, wall time and peak memory, beside the old way.

Issue 15.7 found a 400 MB log taking 186 s and 14.4 GB (every line parsed into a dict and
kept). This script writes large logs in a temporary folder, in the formats the demo writes
(``examples/feed_workspace.py``, ``examples/ops_fixtures.py``):

* ``logs/feed_events.jsonl`` — a flapping feed: connect, subscribe, first record,
  disconnect, reconnect, backfill cycles, with heartbeat timeouts and errors;
* ``logs/system_metrics.jsonl`` — one sample a minute of CPU, memory, disk, RSS, network;
* ``logs/latency.jsonl`` — one processed event every 2 s;
* ``logs/heartbeats.jsonl`` — three components;
* ``records/fills.csv`` (``--csv``) — executions, read by the records contract reader in
  chunks (``reader.load``, and ``broker.trading.fills``, which adds the side/qty checks every
  broker check runs). Its "before" row is the reader as of commit ``433ae7b`` (the whole file
  read as text, then converted value by value), taken from git and run on the same file.

Each check runs in its own subprocess, which prints its wall time and peak RSS
(``getrusage``). The baseline, measured in the same run on the same file, is the old
approach: ``json.loads`` of every line into a list. It costs ~35x the file size, so by
default it reads only the first ``--baseline-mb`` of the file (the figure is scaled to the
whole file and marked as such); ``--baseline-mb 0`` reads the whole file (needs ~15 GB for
400 MB). A child is limited to ``--limit-gb`` of address space, so an overrun ends in a
MemoryError instead of exhausting a shared machine. Run::

    .venv/bin/python benchmarks/bench_large_logs.py [--mb 400] [--logs feed,metrics,latency,heartbeats] [--csv]
"""
from __future__ import annotations

import argparse
import functools
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
CSV_BEFORE = "433ae7b"  # the last commit whose records reader read a CSV whole
NOW = 1_790_000_000.0  # the run's clock (2026-09-21)
CHECKS = {  # log -> (module, function, params) of the checks that read it
    "feed": [("golive.plugins.feed.feed_events", "check_reconnection_backfill", {}),
             ("golive.plugins.feed.feed_events", "connection_from_log", None),
             ("golive.plugins.monitoring.recovery", "network_recovery", {})],
    "metrics": [("golive.plugins.monitoring.resources", "resource_usage", {}),
                ("golive.plugins.monitoring.health", "health_monitoring", {}),
                ("golive.plugins.monitoring.network_quality", "network_quality", {}),
                ("golive.plugins.monitoring.memory_leak", "memory_leak", {}),
                ("golive.plugins.monitoring.alerts", "alert_coverage", {})],
    "latency": [("golive.plugins.monitoring.latency", "processing_latency", {})],
    "heartbeats": [("golive.plugins.monitoring.uptime", "uptime", {}),
                   ("golive.plugins.monitoring.component_health", "component_health",
                    {"expected_components": ["feed", "engine", "broker"]})],
    "csv": [("golive.plugins.records.reader", "load", None), ("golive.plugins.broker.trading", "fills", None),
            ("golive.plugins.broker.costs", "SPEC.func", {"include_fees": True})],
}
FILES = {"feed": "logs/feed_events.jsonl", "metrics": "logs/system_metrics.jsonl", "latency": "logs/latency.jsonl",
         "heartbeats": "logs/heartbeats.jsonl", "csv": "records/fills.csv"}


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def feed_rows(rng: random.Random, t: float):
    """One connect..backfill cycle after another, as examples/feed_workspace.py writes one."""
    while True:
        yield {"ts": _iso(t), "event": "connect", "dataset": "GLBX.MDP3", "source": "databento"}
        yield {"ts": _iso(t + 0.18), "event": "subscribed", "schema": "mbo", "source": "databento"}
        yield {"ts": _iso(t + 0.42), "event": "first_record", "source": "databento"}
        for _ in range(rng.randint(1, 4)):
            t += rng.uniform(30, 600)
            down, back = t, t + rng.uniform(0.5, 9)
            if rng.random() < 0.1:
                yield {"ts": _iso(down - 0.5), "event": "heartbeat_timeout", "source": "databento"}
            yield {"ts": _iso(down), "event": "disconnect", "reason": "connection reset by peer", "source": "databento"}
            yield {"ts": _iso(back), "event": "reconnect", "gap_start": _iso(down - 0.04), "gap_end": _iso(back),
                   "source": "databento"}
            yield {"ts": _iso(back + 2), "event": "backfill", "gap_start": _iso(down - 1),
                   "gap_end": _iso(back + (0.5 if rng.random() < 0.9 else -0.3)), "records": rng.randint(800, 4000),
                   "duplicates": 0, "missing_sequences": 0, "source": "databento"}
            if rng.random() < 0.05:
                yield {"ts": _iso(back + 3), "event": "error", "message": "slow consumer", "source": "databento"}
        t += rng.uniform(600, 3600)


def metrics_rows(rng: random.Random, t: float):
    i = 0
    while True:
        yield {"ts": _iso(t + i * 60), "host": "trader-01", "cpu_pct": round(rng.uniform(5, 95), 2),
               "mem_pct": round(rng.uniform(40, 60), 2), "disk_pct": round(56 + rng.gauss(0, 0.05), 2), "pid": 4242,
               "process": "run_pipeline", "rss_bytes": int((880 + 40 * ((i % 90) / 90) + rng.gauss(0, 6)) * 2**20),
               "net_target": "databento" if i % 2 else "broker", "net_rtt_ms": round(abs(rng.gauss(3, 0.4)), 3),
               "net_loss_pct": round(max(0.0, rng.gauss(0.005, 0.005)), 4)}
        i += 1


def latency_rows(rng: random.Random, t: float):
    i = 0
    while True:
        yield {"ts": _iso(t + i * 2 + rng.uniform(0, 1)), "stage": "end_to_end",
               "latency_ms": round(rng.lognormvariate(2.9, 0.3), 3), "ok": rng.random() > 0.0005,
               "backlog": rng.randint(0, 3)}
        i += 1


def heartbeat_rows(rng: random.Random, t: float):
    i = 0
    while True:
        for component, interval in (("feed", 5), ("engine", 10), ("broker", 15)):
            yield {"ts": _iso(t + i * 5 + rng.uniform(0, 1)), "component": component, "interval_s": interval,
                   "status": "ready"}
        i += 1


def csv_lines(rng: random.Random, t: float):
    yield "ts,fill_id,order_id,symbol,side,qty,price,fees\n"
    i = 0
    while True:
        yield (f"{_iso(t + i * 0.5)},F{i:09d},O{i // 2:09d},ESZ6,{'buy' if i % 2 else 'sell'},{rng.randint(1, 5)},"
               f"{6000 + rng.randint(-400, 400) * 0.25:.2f},{rng.randint(100, 900) / 100:.2f}\n")
        i += 1


def write_log(path: Path, kind: str, megabytes: float, seed: int = 7) -> int:
    """Write ~``megabytes`` of ``kind`` to ``path``; returns the number of lines."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = {"feed": feed_rows, "metrics": metrics_rows, "latency": latency_rows, "heartbeats": heartbeat_rows,
            "csv": csv_lines}[kind](rng, NOW - 400 * 86400)
    limit, size, lines = int(megabytes * 1e6), 0, 0
    with open(path, "wb", buffering=1 << 20) as fh:
        while size < limit:
            row = next(rows)
            data = row.encode() if isinstance(row, str) else orjson.dumps(row) + b"\n"
            fh.write(data)
            size += len(data)
            lines += 1
    if kind == "csv":  # broker.costs adds the fills' fees to these per-day costs
        (path.parent / "costs.csv").write_text("date,category,amount\n2025-01-02,market_data,120.00\n")
    if kind == "metrics":  # the alert rules replayed on the metrics, and one drill of the alert path
        (path.parents[1] / "config").mkdir(exist_ok=True)
        (path.parents[1] / "config" / "alerts.yaml").write_text(
            "rules:\n  - {name: cpu_high, metric: cpu_pct, op: \">\", value: 90, for_s: 120}\n")
        (path.parent / "alerts.jsonl").write_text(json.dumps({"ts": _iso(NOW - 86400), "rule": "cpu_high",
                                                               "test": True}) + "\n")
    return lines


def child(args: list[str]) -> None:
    """Run one measurement in this process and print {wall_s, peak_rss_mib, result}."""
    mode, root, kind = args[0], Path(args[1]), args[2]
    path = root / FILES[kind]
    started = time.perf_counter()
    if mode == "baseline":  # the old approach: every line parsed and kept
        limit = int(float(args[3]) * 1e6) if float(args[3]) > 0 else None
        rows, read = [], 0
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                read += len(line)
                if line.strip():
                    rows.append(json.loads(line) if kind != "csv" else line.rstrip("\n").split(","))
                if limit and read >= limit:
                    break
        summary = {"rows": len(rows), "bytes_read": read}
    else:
        summary = _run_check(root, kind, int(args[3]))
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"wall_s": round(wall, 2), "peak_rss_mib": round(peak, 1), "result": summary}))


def _run_check(root: Path, kind: str, index: int) -> dict:
    import importlib
    import logging

    from golive.model import CheckContext, Requirement, Target

    module, name, params = CHECKS[kind][max(index, 0)]
    func = functools.reduce(getattr, name.split("."), importlib.import_module(module))
    ctx = CheckContext(target=Target(root=root), params=params or {}, settings={}, log=logging.getLogger("bench"),
                       clock=lambda: datetime.fromtimestamp(NOW, tz=timezone.utc))
    if kind == "csv" and params is None:
        if index < 0:  # the reader before chunking, from git
            import types
            source = subprocess.run(["git", "show", f"{CSV_BEFORE}:plugins/records/reader.py"], cwd=ROOT,
                                    capture_output=True, text=True, check=True).stdout
            module = types.ModuleType("reader_before")
            exec(compile(source, "reader_before.py", "exec"), module.__dict__)  # noqa: S102 - our own history
            func = module.load
        frame = func(ctx, "fills", **({} if name == "fills" and index >= 0 else
                                      {"need": ["ts", "fill_id", "order_id", "symbol", "side", "qty", "price", "fees"]}))
        return {"rows": len(frame), "fees": str(frame["fees"].sum()), "last_ts": str(frame["ts"].iloc[-1])}
    if params is None:
        res = func(ctx)
    else:
        req = Requirement(id="BENCH-01", title="t", statement="s", category="c", priority="P1", plan_lines=(1, 1))
        res = func(req, ctx)
    return {"check": name, "status": res.status.value if res.status else "evaluated", "message": res.message[:160],
            "large_inputs": (res.details or {}).get("large_inputs")}


def measure(args: list[str], limit_gb: float) -> dict:
    def cap():  # a runaway child gets a MemoryError, not the shared machine's memory
        resource.setrlimit(resource.RLIMIT_AS, (int(limit_gb * 2**30), int(limit_gb * 2**30)))

    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                          preexec_fn=cap, cwd=ROOT)
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=400, help="size of each generated log (MB)")
    parser.add_argument("--logs", default="feed,metrics,latency,heartbeats")
    parser.add_argument("--csv", action="store_true", help="also measure the records reader on a large fills.csv")
    parser.add_argument("--baseline-mb", type=float, default=40, help="baseline reads this much (0 = all)")
    parser.add_argument("--limit-gb", type=float, default=8.0, help="address-space limit of each child")
    parser.add_argument("--skip-before", action="store_true", help="csv: do not run the reader before chunking")
    parser.add_argument("--dir", help="write the logs here (kept) instead of a temporary folder")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        return child(opts.child)
    kinds = [k for k in opts.logs.split(",") if k] + (["csv"] if opts.csv else [])
    with tempfile.TemporaryDirectory(prefix="golive-large-logs-") as tmp:
        root = Path(opts.dir or tmp)
        print(f"{'log':<11} {'reader':<28} {'MB':>6} {'lines':>10} {'wall s':>8} {'peak RSS MiB':>13}  result")
        for kind in kinds:
            path = root / FILES[kind]
            t0 = time.perf_counter()
            lines = write_log(path, kind, opts.mb)
            size = path.stat().st_size / 1e6
            print(f"# wrote {FILES[kind]}: {size:.0f} MB, {lines:,} lines in {time.perf_counter() - t0:.0f} s", flush=True)
            base = measure(["baseline", str(root), kind, str(opts.baseline_mb)], opts.limit_gb)
            floor = measure(["baseline", str(root), kind, "0.000001"], opts.limit_gb)["peak_rss_mib"]  # one line
            scale = size / (base["result"]["bytes_read"] / 1e6) if "result" in base else 1.0
            label = "baseline json.loads->list" if kind != "csv" else "baseline split->list"
            if "error" in base:
                print(f"{kind:<11} {label:<28} {size:>6.0f} {lines:>10,} {'':>8} {'':>13}  {base['error']}")
            else:
                note = "" if scale < 1.01 else f"  (read {base['result']['bytes_read'] / 1e6:.0f} MB: x{scale:.1f} scaled)"
                print(f"{kind:<11} {label:<28} {size:>6.0f} {lines:>10,} {base['wall_s'] * scale:>8.1f} "
                      f"{floor + (base['peak_rss_mib'] - floor) * scale:>13.0f}{note}", flush=True)
            runs = [(index, module.rsplit(".", 1)[1] if "." in name else name)
                    for index, (module, name, _) in enumerate(CHECKS[kind])]
            if kind == "csv" and not opts.skip_before:
                runs.insert(0, (-1, f"load before ({CSV_BEFORE})"))
            for index, name in runs:
                got = measure(["check", str(root), kind, str(index)], opts.limit_gb)
                if "error" in got:
                    print(f"{kind:<11} {name:<28} {size:>6.0f} {lines:>10,} {'':>8} {'':>13}  {got['error']}")
                    continue
                r = got["result"]
                shown = (f"{r['rows']:,} rows, fees {r['fees']}, last {r['last_ts']}" if "rows" in r
                         else (r.get("status") or "no status (engine judges)"))
                print(f"{kind:<11} {name:<28} {size:>6.0f} {lines:>10,} {got['wall_s']:>8.1f} "
                      f"{got['peak_rss_mib']:>13.0f}  {shown}: {r.get('message', '')[:70]}"
                      + (f" [{'; '.join(r['large_inputs'])}]" if r.get("large_inputs") else ""), flush=True)
            if not opts.dir:
                path.unlink()
        print("target: every check under 500 MiB peak RSS on a 400 MB log")


if __name__ == "__main__":
    main()
