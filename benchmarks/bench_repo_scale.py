"""The non-data part of the plan on a large repository: golive now vs golive before issue 12.

    python benchmarks/bench_repo_scale.py [--tests 10000] [--sources 5000] [--real DIR ...]
                                          [--baseline REV] [--repeat N]

Builds a synthetic trading repository (benchmarks/scale_repo.py: 10,000 test functions,
5,000 source files in Python, Rust, Go, TypeScript, YAML and Markdown, JUnit results, a git
history) and times ``golive run --only traceability,config_security,audit`` on it -- the
traceability, configuration/security and audit checks, which read the repository but no market
data -- twice in the same run:

* **baseline**: golive as it was at ``--baseline`` (default: the commit before this work),
  extracted with ``git archive`` and put first on ``PYTHONPATH``;
* **current**: golive as installed.

``--real DIR`` adds real repositories (e.g. a checkout of nautilus_trader) to the table.
Prints wall time (median of ``--repeat``), the slowest checks, and the baseline/current ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "2745bb5"  # main before issue 12 (link recovery, results discovery, secret scanning)
SELECTION = "traceability,config_security,audit"
GOAL_S = 5.0


def baseline_tree(rev: str, into: Path) -> Path:
    """golive at ``rev`` as an importable ``golive`` package folder; returns the PYTHONPATH entry."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev,
                              "engine", "plugins", "requirements", "templates"],
                             check=True, capture_output=True).stdout
    src = into / "src"
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(src, filter="data")
    path = into / "path"
    path.mkdir()
    (path / "golive").symlink_to(src / "engine", target_is_directory=True)
    # the installed layout: golive.plugins, golive.requirements, golive.templates
    for name in ("plugins", "requirements", "templates"):
        (src / "engine" / name).symlink_to(src / name, target_is_directory=True)
    return path


def run_once(target: Path, python_path: Path | None, store: Path) -> tuple[float, dict]:
    out = store / "results.json"
    env = {**os.environ, "COLUMNS": "120"}
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    cmd = [sys.executable, "-m", "golive", "run", "--target", str(target), "--only", SELECTION,
           "--store", str(store / "evidence"), "--json", str(out)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1) or not out.exists():
        raise SystemExit(f"golive failed on {target} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed, json.loads(out.read_text())


def measure(target: Path, python_path: Path | None, repeat: int, work: Path, label: str) -> dict:
    times, doc = [], None
    for i in range(repeat):
        store = work / f"{label}-{target.name}-{i}"
        store.mkdir(parents=True)
        elapsed, doc = run_once(target, python_path, store)
        times.append(elapsed)
    slow = sorted(doc["results"], key=lambda r: -(r.get("duration_s") or 0))[:3]
    summary = doc["summary"]
    return {"time": statistics.median(times), "slowest": [(r["checker"], r["duration_s"]) for r in slow],
            "tests": len([t for t in doc["tests"] if t["kind"] == "pytest"]),
            "implemented": summary["implemented"], "selected": summary.get("selected"),
            "suggested": (summary.get("if_confirmed") or {}).get("suggested_links")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=5_000)
    parser.add_argument("--real", type=Path, nargs="*", default=[])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-baseline", action="store_true", help="time the current golive only")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    import scale_repo

    with tempfile.TemporaryDirectory(prefix="golive-scale-") as tmp:
        work = Path(tmp)
        synthetic = work / "synthetic-repo"
        sizes = scale_repo.build(synthetic, args.tests, args.sources)
        print(f"synthetic repository: {sizes['test_files']} test files, {sizes['test_functions']} test "
              f"functions, {sizes['source_files']} source files")
        old_path = None if args.no_baseline else baseline_tree(args.baseline, work / "baseline")
        rows = []
        for target in [synthetic, *args.real]:
            current = measure(target, None, args.repeat, work, "current")
            before = None if old_path is None else measure(target, old_path, args.repeat, work, "baseline")
            rows.append((target, before, current))
        print(f"\ngolive run --only {SELECTION}  (wall time, median of {args.repeat}; "
              f"baseline = {args.baseline})")
        print(f"{'repository':<28} {'tests':>6} {'baseline s':>11} {'current s':>10} {'speed-up':>9}  slowest checks now")
        for target, before, current in rows:
            ratio = f"{before['time'] / current['time']:.1f}x" if before else "-"
            was = f"{before['time']:.2f}" if before else "-"
            slow = ", ".join(f"{name} {t:.2f}s" for name, t in current["slowest"])
            print(f"{target.name:<28} {current['tests']:>6} {was:>11} {current['time']:>10.2f} {ratio:>9}  {slow}")
        synthetic_now = rows[0][2]["time"]
        verdict = "meets" if synthetic_now < GOAL_S else "MISSES"
        print(f"\n{verdict} the goal: {synthetic_now:.2f} s for {args.tests} tests + {args.sources} sources "
              f"(goal < {GOAL_S:.0f} s on this machine, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
