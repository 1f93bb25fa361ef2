"""Link recovery (``traceability.suggest``): quality on the reference fixture without its
markers, and speed on many tests.

Quality: the reference workspace (``tests/fixtures/reference-workspace``) is discovered, every
record's requirement ids are cleared in memory (as if the team had never marked a test) and the
plan's ``covered_by`` is ignored entirely. Ground truth: ``tests/reference/requirements_index.tsv``
(last column: the files covering each requirement; 41 file -> requirement pairs). Predicted
pairs: each test's (function's or result file's) top-1 suggestion, if its band is counted,
aggregated to (file name, requirement). Precision = correct predicted pairs / predicted pairs,
recall = correct pairs / truth pairs; also per band, and the recall of the top-3 candidates.
Both libraries are measured on the same documents and queries: ``bm25s`` (the one used) and
``rank-bm25`` (its per-term scores loaded into the same matrix).

Speed: ``--synthetic N`` tests made of random plan and code words (distinct texts, so no cache
helps) x the plan's requirements, per-query scoring with each library and the whole
``suggest_links``; ``--real DIR`` times discovery + suggestions on a real repository.

    python benchmarks/bench_link_recovery.py [--synthetic 10000] [--real /work/real/nautilus_trader]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from golive.model import TestRecord
from golive.plan import load
from golive.plugins.traceability import suggest as S
from golive.plugins.traceability.discovery import discover
from golive.run.target import load_target

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "reference-workspace"
INDEX = REPO / "tests" / "reference" / "requirements_index.tsv"


def truth_pairs(index: Path = INDEX) -> set[tuple[str, str]]:
    pairs = set()
    for line in index.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        for name in cols[-1].split(","):
            if name.strip() not in ("-", "manual", ""):
                pairs.add((name.strip(), cols[0]))
    return pairs


def unmarked_fixture_records(root: Path = FIXTURE) -> list[TestRecord]:
    records = discover(load_target(root)).records
    for record in records:
        record.requirements = ()  # as if the team had never written a marker
    return records


def evaluate(suggestions: list[S.Suggestion], truth: set[tuple[str, str]]) -> dict:
    """Pair-level precision/recall of top-1 counted suggestions, per band, and top-3 recall."""
    best_band: dict[tuple[str, str], str] = {}
    top3 = set()
    for s in suggestions:
        pair = (s.path.rsplit("/", 1)[-1], s.requirement_id)
        top3.add(pair)
        if s.rank == 1 and s.band in S.COUNTED_BANDS:
            if pair not in best_band or S.BANDS.index(s.band) < S.BANDS.index(best_band[pair]):
                best_band[pair] = s.band
    predicted = set(best_band)
    correct = predicted & truth
    out = {"predicted": len(predicted), "correct": len(correct), "truth": len(truth),
           "precision": len(correct) / len(predicted) if predicted else 0.0,
           "recall": len(correct) / len(truth), "top3_recall": len(top3 & truth) / len(truth),
           "wrong": sorted(predicted - truth), "missed": sorted(truth - predicted), "bands": {}}
    for band in S.COUNTED_BANDS:
        pairs = {p for p, b in best_band.items() if b == band}
        out["bands"][band] = (len(pairs & truth), len(pairs))
    return out


class RankBM25Ranker(S.Ranker):
    """The same documents and queries scored by ``rank-bm25`` (BM25Okapi) instead of bm25s."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from rank_bm25 import BM25Okapi

        self.okapi = BM25Okapi(self.corpus, k1=1.2, b=0.75)
        for token, row in self.vocab.items():
            self.matrix[row] = self.okapi.get_scores([token])


def run_fixture(ranker_cls=S.Ranker) -> tuple[dict, float]:
    plan = load()
    records = unmarked_fixture_records()
    original = S.Ranker
    S.Ranker = ranker_cls  # suggest_links builds its ranker through the module attribute
    try:
        start = time.perf_counter()
        suggestions = S.suggest_links(plan.requirements, records, FIXTURE)
        took = time.perf_counter() - start
    finally:
        S.Ranker = original
    return evaluate(suggestions, truth_pairs()), took


def synthetic_records(n: int, plan, seed: int = 7) -> list[TestRecord]:
    """``n`` pytest-like records whose names and folders mix plan words with code words."""
    rng = random.Random(seed)
    plan_words = sorted({w for r in plan.requirements for w in S.split_words(r.title + " " + r.statement) if len(w) > 3})
    code_words = "order fill price engine cache client parser model account venue book bar quote tick".split()
    words = plan_words + code_words
    out = []
    for i in range(n):
        name = "test_" + "_".join(rng.sample(words, 4)) + f"_{i}"
        folder = "/".join(rng.sample(code_words, 2))
        path = f"tests/{folder}/test_{rng.choice(words)}_{i // 20}.py"
        out.append(TestRecord(id=f"{path}::{name}", path=path, kind="pytest", name=name))
    return out


def speed(n: int) -> None:
    plan = load()
    records = synthetic_records(n, plan)
    ranker = S.Ranker(plan.requirements, S.Analyzer(S.load_synonyms()))
    queries = [[t for t, w in ranker.query(S.record_fields(r, FIXTURE))[0].items() for _ in range(int(w))]
               for r in records]
    import bm25s
    from rank_bm25 import BM25Okapi

    retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    retriever.index(ranker.corpus, show_progress=False)
    okapi = BM25Okapi(ranker.corpus, k1=1.2, b=0.75)
    print(f"\nspeed: {n} synthetic tests x {len(plan.requirements)} requirements")
    print(f"{'scorer':44} {'seconds':>8} {'us/test':>8}")
    for label, fn in (("rank-bm25 BM25Okapi.get_scores per test", okapi.get_scores),
                      ("bm25s BM25.get_scores per test", retriever.get_scores),
                      ("bm25s score matrix + numpy (used)", lambda q: ranker.scores(dict.fromkeys(q, 1.0)))):
        start = time.perf_counter()
        for q in queries:
            fn(q)
        took = time.perf_counter() - start
        print(f"{label:44} {took:8.3f} {took / n * 1e6:8.1f}")
    start = time.perf_counter()
    suggestions = S.suggest_links(plan.requirements, records, FIXTURE)
    took = time.perf_counter() - start
    print(f"{'suggest_links end to end (3 per test)':44} {took:8.3f} {took / n * 1e6:8.1f}   ({len(suggestions)} suggestions)")


def real(root: Path) -> None:
    plan = load()
    start = time.perf_counter()
    found = discover(load_target(root))
    mid = time.perf_counter()
    suggestions = S.suggest_links(plan.requirements, found.records, root)
    end = time.perf_counter()
    tests = sum(1 for r in found.records if r.kind == "pytest")
    bands = defaultdict(int)
    for s in suggestions:
        if s.rank == 1:
            bands[s.band] += 1
    print(f"\nreal repository {root}: {len(found.test_files)} test files, {tests} tests")
    print(f"discovery {mid - start:.3f} s, suggestions {end - mid:.3f} s, total {end - start:.3f} s; "
          f"top-1 bands: {dict(bands)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", type=int, default=10_000)
    parser.add_argument("--real", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    print("quality on the reference fixture, markers removed, covered_by ignored (file-level pairs)")
    print(f"{'library':10} {'precision':>9} {'recall':>7} {'top-3 rec':>9} {'high':>7} {'medium':>7} {'pred':>5} {'ms':>6}")
    for label, cls in (("bm25s", S.Ranker), ("rank-bm25", RankBM25Ranker)):
        result, took = run_fixture(cls)
        high, medium = result["bands"]["high"], result["bands"]["medium"]
        print(f"{label:10} {result['precision']:9.3f} {result['recall']:7.3f} {result['top3_recall']:9.3f} "
              f"{high[0]:>3}/{high[1]:<3} {medium[0]:>3}/{medium[1]:<3} {result['predicted']:5} {took * 1000:6.1f}")
        if label == "bm25s":
            print(f"  wrong:  {result['wrong']}\n  missed: {result['missed']}")
    if args.synthetic:
        speed(args.synthetic)
    for root in args.real:
        real(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
