"""Hand-judged precision of link suggestions on real repositories.

Runs link recovery the way ``golive link`` / ``golive run`` do (no section titles, top 3,
no confirmed links) on a repository, draws a fixed-seed random sample of the *counted*
suggestions (rank 1, band high or medium) and looks every sampled pair up in
``real_link_judgments.yaml`` -- verdicts written by hand against the requirement's title and
statement: ``correct`` (the test verifies what the requirement asks, or a clear part of it),
``plausible`` (same topic, a reviewer might keep it) or ``wrong``. Pairs without a verdict are
printed so they can be judged and added.

    python benchmarks/real_link_sample.py /work/real/freqtrade [--seed 0] [--n 30] [--all-judged]

Precision (strict) = correct / judged; lenient counts plausible as right too.
``--all-judged`` also scores every judged pair that is still counted (a sample from an earlier
version of the ranking stays useful after a change: dropped wrong pairs are the improvement).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from golive.plan import load
from golive.plugins.traceability import suggest as S
from golive.plugins.traceability.discovery import discover
from golive.run.target import load_target

JUDGMENTS = Path(__file__).with_name("real_link_judgments.yaml")


def load_judgments(path: Path = JUDGMENTS) -> dict[tuple[str, str, str], tuple[str, str]]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {}
    for repo, items in (data.get("repos") or {}).items():
        for item in items or []:
            out[(repo, item["test"], item["requirement"])] = (item["verdict"], item.get("why", ""))
    return out


def counted(root: Path) -> tuple[list[S.Suggestion], list, float]:
    plan = load()
    found = discover(load_target(root))
    start = time.perf_counter()
    out = S.suggest_links(plan.requirements, found.records, root, top_k=3)
    took = time.perf_counter() - start
    return [s for s in out if s.rank == 1 and s.band in S.COUNTED_BANDS], out, took


def sample(items: list[S.Suggestion], n: int, seed: int) -> list[S.Suggestion]:
    rng = random.Random(seed)
    items = sorted(items, key=lambda s: s.test_id)
    return sorted(rng.sample(items, min(n, len(items))), key=lambda s: s.test_id)


def precision(verdicts: list[str]) -> tuple[float, float]:
    c = Counter(verdicts)
    n = sum(c.values()) or 1
    return c["correct"] / n, (c["correct"] + c["plausible"]) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--all-judged", action="store_true")
    parser.add_argument("--yaml", action="store_true", help="print unjudged pairs as YAML stubs")
    args = parser.parse_args(argv)
    repo = args.root.name
    titles = {r.id: r.title for r in load().requirements}
    judged = load_judgments()
    chosen, everything, took = counted(args.root)
    bands = Counter(s.band for s in everything if s.rank == 1)
    print(f"{repo}: {len({s.test_id for s in everything})} tests with suggestions, rank-1 bands {dict(bands)}, "
          f"counted {len(chosen)}, requirements if confirmed {len({s.requirement_id for s in chosen})}; "
          f"suggest_links {took:.2f} s")
    picked = sample(chosen, args.n, args.seed)
    verdicts, todo = [], []
    for s in picked:
        v = judged.get((repo, s.test_id, s.requirement_id))
        mark = v[0] if v else "?"
        print(f"  {mark:9} {s.band:6} {s.score:5.1f} {s.test_id} -> {s.requirement_id} ({titles[s.requirement_id]})"
              f"  why: {', '.join(s.why)}" + (f"  | {v[1]}" if v else ""))
        if v:
            verdicts.append(v[0])
        else:
            todo.append(s)
    strict, lenient = precision(verdicts)
    print(f"sample (seed {args.seed}): judged {len(verdicts)} of {len(picked)}: {dict(Counter(verdicts))}; "
          f"precision strict {strict:.2f}, lenient {lenient:.2f}")
    if args.all_judged:
        now = {(s.test_id, s.requirement_id): s for s in chosen}
        still = [v for (r, t, q), (v, _) in judged.items() if r == repo and (t, q) in now]
        gone = Counter(v for (r, t, q), (v, _) in judged.items() if r == repo and (t, q) not in now)
        s2, l2 = precision(still)
        print(f"all judged pairs still counted: {len(still)} {dict(Counter(still))}: strict {s2:.2f}, lenient {l2:.2f}; "
              f"no longer counted: {dict(gone)}")
    if args.yaml and todo:
        for s in todo:
            print(f"    - {{test: \"{s.test_id}\", requirement: {s.requirement_id}, verdict: , why: \"\"}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
