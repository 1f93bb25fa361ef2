"""The numpy order book (plugins/feed/book.py) gives exactly the results of the former
per-record implementation, frozen in benchmarks/book_reference.py (issue 13, point 6)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.book_reference import ReferenceBookChecker  # noqa: E402
from examples.dbn_fixtures import DEFECT_KINDS, MBO_DTYPE, simulate  # noqa: E402

import golive.plugins.feed.book as book_module  # noqa: E402
from golive.plugins.feed.book import BookChecker  # noqa: E402
from golive.plugins.feed.dbn_reader import DbnMboReader, MboRun  # noqa: E402

REAL_MBO = ROOT.parent / "shared" / "data" / "dbn-real" / "mbo"
UNDEF = np.iinfo(np.int64).max


def outputs(book) -> tuple:
    return (book.counts, book.by_instrument, [e.as_dict() for e in book.episodes],
            {i: e.as_dict() for i, e in book.open.items()})


def feed(cls, recs: np.ndarray, chunk: int, skip: np.ndarray | None = None, max_episodes=200):
    book = cls(max_episodes=max_episodes)
    for s in range(0, len(recs), chunk):
        book.update(recs[s:s + chunk], 1000 + s, None if skip is None else skip[s:s + chunk])
    return outputs(book)


def assert_same(recs, chunks=(65536, 997, 13), skip=None, max_episodes=200):
    for chunk in chunks:
        ref = feed(ReferenceBookChecker, recs, chunk, skip, max_episodes)
        assert feed(BookChecker, recs, chunk, skip, max_episodes) == ref, f"chunk {chunk}"
    return ref


def real_records(name: str) -> np.ndarray:
    path = REAL_MBO / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return np.concatenate([r.records for r in DbnMboReader(path) if isinstance(r, MboRun)])


@pytest.mark.parametrize("name", ["esh4-glbx-mdp3-20231224.mbo.dbn.zst",
                                  "esh4-glbx-mdp3-20231225.mbo.dbn.zst"])
def test_real_es_mbo(name):
    assert_same(real_records(name), chunks=(65536, 4096, 101))


def test_real_days_back_to_back_reuse_ids_and_cross():
    recs = np.concatenate([real_records("esh4-glbx-mdp3-20231224.mbo.dbn.zst"),
                           real_records("esh4-glbx-mdp3-20231225.mbo.dbn.zst")])
    counts = assert_same(recs, chunks=(65536, 5000))[0]
    assert counts["crossed_episodes"] >= 1 and counts["reused_order_ids"] > 0


def test_simulated_with_defects_and_skips():
    recs, _ = simulate(["ESZ6", "NQZ6", "CLF7"], 40_000, 3, defects=DEFECT_KINDS)
    skip = np.random.default_rng(1).random(len(recs)) < 0.01
    counts = assert_same(recs, chunks=(65536, 1500))[0]
    assert counts["crossed_episodes"] >= 1
    assert_same(recs, chunks=(2048,), skip=skip)


def adversarial(n: int, seed: int, n_inst: int = 3, n_oid: int = 40, n_px: int = 6) -> np.ndarray:
    """Few ids and prices, so that every odd case occurs often: crossed and locked books,
    cancels/fills of unknown orders, re-used ids, partial and over-sized cancels, zero sizes,
    modifies of unknown orders, clears, trades, side N, undefined prices, F_LAST anywhere."""
    rng = np.random.default_rng(seed)
    r = np.zeros(n, dtype=MBO_DTYPE)
    r["instrument_id"] = rng.integers(7, 7 + n_inst, n)
    r["order_id"] = rng.integers(1, n_oid, n).astype(np.uint64) + np.uint64(2**63)
    r["price"] = 100 + rng.integers(0, n_px, n) * 25
    r["price"][rng.random(n) < 0.02] = UNDEF
    r["size"] = rng.integers(0, 6, n)
    r["action"] = rng.choice(list(b"AAAACCCMMFTRN"), n).astype(np.uint8).view("S1")
    r["side"] = rng.choice(list(b"BBAAN"), n).astype(np.uint8).view("S1")
    r["flags"] = np.where(rng.random(n) < 0.6, 128, 0)
    r["ts_recv"] = np.arange(n) * 10 + 5
    return r


@pytest.mark.parametrize("seed", range(6))
def test_adversarial(seed):
    recs = adversarial(6000, seed, n_inst=1 + seed % 3)
    counts = assert_same(recs, chunks=(65536, 1000, 37, 1))[0]
    assert counts["unknown_order_events"] and counts["reused_order_ids"]
    assert counts["crossed_checks"] and counts["locked_checks"]
    skip = np.random.default_rng(seed).random(len(recs)) < 0.1
    assert_same(recs, chunks=(500,), skip=skip, max_episodes=5)


def test_wide_order_ids_and_prices():
    """Order ids over the whole uint64 range and prices far apart (no common tick): the
    packed sort keys fall back to ranks."""
    recs = adversarial(5000, 21, n_inst=2)
    rng = np.random.default_rng(5)
    pool = rng.integers(0, 2**64 - 1, 40, dtype=np.uint64)
    recs["order_id"] = pool[rng.integers(0, 40, len(recs))]
    prices = np.array([1, 3, 2**40 + 7, 2**60 + 1, 2**61 + 5, 2**62 - 1], np.int64)
    recs["price"] = np.where(recs["price"] == UNDEF, UNDEF, prices[rng.integers(0, 6, len(recs))])
    counts = assert_same(recs, chunks=(65536, 333))[0]
    assert counts["crossed_checks"] and counts["locked_checks"]


@pytest.mark.parametrize("seed", range(3))
def test_big_book_carries_only_named_orders(seed, monkeypatch):
    """Above CARRY_ALL_BELOW x the run's records, only the resting orders a run names (and
    none of a cleared instrument) are re-entered; the others are carried as they are."""
    monkeypatch.setattr(book_module, "CARRY_ALL_BELOW", 0)
    recs = adversarial(6000, 30 + seed, n_inst=1 + seed, n_oid=400)
    assert_same(recs, chunks=(65536, 250, 17))
    es = np.concatenate([real_records("esh4-glbx-mdp3-20231224.mbo.dbn.zst"),
                         real_records("esh4-glbx-mdp3-20231225.mbo.dbn.zst")])
    assert_same(es, chunks=(4096,))


def test_runs_of_one_instrument_and_empty_runs():
    recs = adversarial(3000, 11, n_inst=4)
    recs = recs[np.argsort(recs["instrument_id"], kind="stable")]  # long runs per instrument
    assert_same(recs, chunks=(700, 3000))
    ref, new = ReferenceBookChecker(), BookChecker()
    for book in (ref, new):
        book.update(recs[:0], 0)
        book.update(recs[:10], 0, skip=np.ones(10, bool))
        book.update(recs, 10)
    assert outputs(new) == outputs(ref)
