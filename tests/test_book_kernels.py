"""The array kernels of the numpy order book (plugins/feed/book_kernels.py) against plain
Python, over generated inputs; and the book's ``segments``/``index`` arguments (which the
frozen reference does not take) against the reference."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.book_reference import ReferenceBookChecker  # noqa: E402
from tests.test_book_equivalence import adversarial, outputs  # noqa: E402

from golive.plugins.feed.book import BookChecker  # noqa: E402
from golive.plugins.feed.book_kernels import chain_sort, interval_max  # noqa: E402

NEG = np.iinfo(np.int64).min


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300), st.lists(st.tuples(st.integers(0, 300), st.integers(0, 300),
                                               st.integers(-10**15, 10**15)), max_size=60),
       st.data())
def test_interval_max_is_the_max_of_covering_values(n, intervals, data):
    lo = np.array([min(a, b) % n for a, b, _ in intervals], np.int64)
    hi = np.array([max(a, b) % (n + 1) for a, b, _ in intervals], np.int64)
    val = np.array([v for _, _, v in intervals], np.int64)
    at = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=50)), np.int64)
    got = interval_max(n, lo, hi, val, at)
    want = [max([int(v) for a, b, v in zip(lo, hi, val) if a <= x < b], default=NEG) for x in at]
    assert got.tolist() == want


# (low, high, step): small spans; a wide span of a common step (prices in ticks: divided by
# the step, found on a sample and checked); spans too wide to pack (dense ranks)
keys = st.sampled_from([(0, 50, 1), (2**40, 2**40 + 9, 1), (0, 40, 2**56 + 6), (0, 2**64 - 1, 1)])


@settings(max_examples=200, deadline=None)
@given(st.data(), keys, st.integers(1, 9), st.booleans())
def test_chain_sort_orders_by_key_group_time(data, key_range, n_groups, with_t):
    m = data.draw(st.integers(0, 80))
    low, high, step = key_range
    key = np.array([low + k * step for k in data.draw(st.lists(st.integers(low, high), min_size=m,
                                                                 max_size=m))], np.uint64)
    group = np.array(data.draw(st.lists(st.integers(0, n_groups - 1), min_size=m, max_size=m)),
                     np.int64)
    t = None
    if with_t:  # unique times, not in index order
        t = np.array(data.draw(st.permutations(range(0, 3 * m, 3))) if m else [], np.int64)
    order, chain0 = chain_sort(group, n_groups, key, t)
    tie = np.arange(m) if t is None else t
    want = sorted(range(m), key=lambda i: (int(key[i]), int(group[i]), int(tie[i])))
    assert order.tolist() == want
    pairs = [(int(key[i]), int(group[i])) for i in want]
    assert chain0.tolist() == [j == 0 or pairs[j] != pairs[j - 1] for j in range(m)]


def test_segments_and_index_leave_results_apart_from_the_pre_open_split():
    """Segment codes 0 (continuous) everywhere and explicit file positions give exactly the
    reference's results; a non-zero code only moves episodes to ``pre_open_*``."""
    recs = adversarial(4000, 3, n_inst=2)
    ref, new, pre = ReferenceBookChecker(), BookChecker(), BookChecker()
    skip = np.random.default_rng(2).random(len(recs)) < 0.05
    for s in range(0, len(recs), 700):
        part, sk = recs[s:s + 700], skip[s:s + 700]
        ref.update(part, 100 + s, sk)
        new.update(part, 0, skip=sk, segments=np.zeros(len(part), np.int8),
                   index=np.arange(100 + s, 100 + s + len(part)))
        pre.update(part, 100 + s, skip=sk, segments=np.ones(len(part), np.int8))
    assert outputs(new) == outputs(ref)
    assert pre.counts["crossed_episodes"] == pre.counts["locked_episodes"] == 0
    assert pre.counts["pre_open_crossed_episodes"] == ref.counts["crossed_episodes"] > 0
    assert pre.counts["pre_open_locked_episodes"] == ref.counts["locked_episodes"] > 0


def test_chain_sort_step_not_seen_in_the_sample():
    """The tick step is guessed from every 7th key here; the one key off that step (not in
    the sample) must send the ranking back to the true common step."""
    step = 2**55 + 3
    key = (np.arange(2000, dtype=np.uint64) % 50) * np.uint64(2 * step)
    key[1] = np.uint64(step * 17)  # an odd multiple: the common step is `step`, not 2 * step
    group = np.zeros(len(key), np.int64)
    order, _ = chain_sort(group, 1, key)
    assert order.tolist() == sorted(range(len(key)), key=lambda i: (int(key[i]), i))
