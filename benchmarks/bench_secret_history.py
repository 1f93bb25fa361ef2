"""The git-history part of the secret scan on a real repository: the legacy single
``git log --all -p`` (tests/secret_history_legacy.py) against the streamed, parallel walk
(``secret_scan.scan_history``), best wall time of ``--repeat`` runs each, and whether both
report the same findings (path, line, rule, fingerprint, commit).

    python benchmarks/bench_secret_history.py /work/real/nautilus_trader [--max-commits 2000] [--repeat 3]

The legacy scan fails on a repository with a missing object (it is then reported, not timed).
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from golive.plugins.config_security import secret_scan  # noqa: E402
from golive.plugins.monitoring import gitrepo  # noqa: E402
from secret_history_legacy import legacy_scan_history  # noqa: E402


def timed(fn, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("repo", type=Path)
    ap.add_argument("--max-commits", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--skip-legacy", action="store_true")
    args = ap.parse_args()
    key = lambda f: (f.commit, f.path, f.line, f.rule, f.fingerprint)  # noqa: E731
    new_s, (new, info) = timed(lambda: secret_scan.scan_history(args.repo, max_commits=args.max_commits, timeout=600,
                                                                workers=args.workers or None), args.repeat)
    print(f"new:    {new_s:.2f} s  {len(new)} finding(s)  {info['history']}")
    if not args.skip_legacy:
        try:
            old_s, old = timed(lambda: legacy_scan_history(args.repo, max_commits=args.max_commits, timeout=600),
                               args.repeat)
            print(f"legacy: {old_s:.2f} s  {len(old)} finding(s)")
            print("same findings:", [key(f) for f in old] == [key(f) for f in new])
        except gitrepo.GitError as exc:
            print(f"legacy: failed: {exc}")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
