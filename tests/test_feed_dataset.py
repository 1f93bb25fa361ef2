"""The DBN files of a target as one dataset (issue 13.3): the same day stored twice is counted
once with a finding, overlapping files are reported and their dataset-wide figures are not
judged, consecutive days give cross-file sequence gaps, a file of another schema is noted (not
an error) where the requirement does not use it, stale data is skipped, and every param of the
feed data checks is read.

Real data: ``../shared/data/dbn-real`` (the ES March 2024 future on 2023-12-24/25 from
nautilus_trader's test data, and databento's v1/v2/v3 test files of one extract); expected
record counts come from an independent decode (``databento.DBNStore.to_df()``)."""
from __future__ import annotations

import logging
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import databento
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.dbn_fixtures import SESSION_START_NS, simulate, write_records  # noqa: E402

import golive.plugins.feed as feed  # noqa: E402
from golive.model import CheckContext, Status, Target  # noqa: E402
from golive.plugins.feed.dataset_files import content_digest, identify  # noqa: E402
from golive.plugins.feed.quality_check import QUALITY_SCHEMA, check_mbo_quality  # noqa: E402

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dbn-real"
XMAS = REAL / "mbo" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
EVE = REAL / "mbo" / "esh4-glbx-mdp3-20231224.mbo.dbn.zst"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"no real DBN samples at {REAL}")
DAY_NS = 86_400 * 10**9
SYMBOLS = ("ESZ6", "NQZ6", "CLF7")


def ctx_for(root: Path, clock=None, **params) -> CheckContext:
    ctx = CheckContext(target=Target(root=root), params=params, settings={}, log=logging.getLogger("test"))
    if clock is not None:
        ctx.clock = lambda: clock
    return ctx


def n_decoded(path: Path) -> int:
    return len(databento.DBNStore.from_file(path).to_df())


def decompressed_copy(src: Path, dst: Path) -> Path:
    import zstandard

    dst.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as f:
        dst.write_bytes(zstandard.ZstdDecompressor().stream_reader(f).read())
    return dst


def streaming_check():
    return next(s for s in feed.golive_checks() if s.name == "mbo_streaming").func


@needs_real
def test_the_same_day_as_dbn_and_dbn_zst_is_counted_once(tmp_path):
    zst = tmp_path / "data" / XMAS.name
    zst.parent.mkdir()
    shutil.copy(XMAS, zst)
    plain = decompressed_copy(XMAS, tmp_path / "data" / XMAS.name.removesuffix(".zst"))
    assert identify(plain).identity() == identify(zst).identity()
    assert content_digest(plain) == content_digest(zst)
    res = check_mbo_quality(None, ctx_for(tmp_path))
    m = res.metrics
    # one file's records, as decoded by databento (both files decode to the same length)
    assert m["mbo_records"] == n_decoded(zst) == n_decoded(plain) == 68_792
    assert (m["files"], m["files_duplicate_coverage"], m["files_overlapping"]) == (2, 1, 0)
    # the pre-open crossed book before the 17:00 CT reopen: one auction episode, not two
    assert m["auction_crossed_episodes"] == 1 and m["crossed_episodes"] == 0
    assert m["snapshot_records"] == 8_725
    (finding,) = res.details["dataset"]
    assert finding["kind"] == "same_coverage"
    assert set(finding["files"]) == {f"data/{zst.name}", f"data/{plain.name}"}
    assert zst.name in res.message and plain.name in res.message and "counted once" in res.message
    copies = [f for f in res.details["files"] if "same_as" in f]
    assert len(copies) == 1 and copies[0]["same_as"] == finding["counted"]


@needs_real
def test_three_dbn_versions_of_one_extract_are_one_file():
    rels = ["samples/dbn.test_data.mbo.v2.dbn", "samples/test_data.mbo.v1.dbn.zst",
            "samples/test_data.mbo.v3.dbn"]
    res = check_mbo_quality(None, ctx_for(REAL, files=rels))
    assert res.metrics["files_duplicate_coverage"] == 2
    assert res.metrics["mbo_records"] == n_decoded(REAL / rels[0]) == n_decoded(REAL / rels[2])


@needs_real
def test_two_days_are_two_files_without_a_finding():
    res = check_mbo_quality(None, ctx_for(REAL, files=[str(EVE.relative_to(REAL)), str(XMAS.relative_to(REAL))]))
    m = res.metrics
    assert m["mbo_records"] == n_decoded(EVE) + n_decoded(XMAS)
    assert (m["files_duplicate_coverage"], m["files_overlapping"]) == (0, 0)
    assert res.details["dataset"] == []
    # one symbol of its channel: the gaps between the days cannot be judged either
    assert str(m["cross_file_sequence_gaps"]).startswith("not judged: sequence continuity cannot be judged")


def _day(path: Path, day: int, seed: int, after: np.ndarray | None = None, lost: dict | None = None):
    """A file of simulated MBO on day ``day``; with ``after``, each channel's numbers go on from
    where that file's stopped, ``lost[channel]`` numbers later."""
    recs, truth = simulate(SYMBOLS, 3_000, seed, start_ns=SESSION_START_NS + day * DAY_NS)
    for ch in np.unique(recs["channel_id"]) if after is not None else ():
        on, before = recs["channel_id"] == ch, after["channel_id"] == ch
        shift = int(after["sequence"][before].max()) + 1 + (lost or {}).get(int(ch), 0) - int(recs["sequence"][on].min())
        recs["sequence"][on] += np.uint32(shift)
    write_records(path, recs, truth.instruments)
    return recs


def test_consecutive_days_give_cross_file_sequence_gaps(tmp_path):
    a = _day(tmp_path / "data" / "d1.dbn", 0, seed=1)
    # day 2 goes on where day 1 stopped: channel 0 without a gap, channel 1 after 2 lost numbers
    b = _day(tmp_path / "data" / "d2.dbn.zst", 1, seed=2, after=a, lost={1: 2})
    res = check_mbo_quality(None, ctx_for(tmp_path))
    m = res.metrics
    assert (m["cross_file_sequence_gaps"], m["cross_file_missing_sequences"]) == (1, 2)
    assert (m["files_duplicate_coverage"], m["files_overlapping"]) == (0, 0)
    assert m["records"] == len(a) + len(b) and m["sequence_gaps"] == 0


def test_a_synthetic_copy_without_request_range_is_found_from_its_records(tmp_path):
    recs, truth = simulate(SYMBOLS, 3_000, seed=5)
    write_records(tmp_path / "data" / "x.dbn", recs, truth.instruments)
    write_records(tmp_path / "data" / "x.dbn.zst", recs, truth.instruments)
    assert identify(tmp_path / "data" / "x.dbn").from_records  # write_records sets no end
    res = check_mbo_quality(None, ctx_for(tmp_path))
    assert res.metrics["records"] == len(recs) and res.metrics["files_duplicate_coverage"] == 1
    assert res.metrics["duplicates"] == 0 and res.metrics["sequence_gaps"] == 0


def test_overlapping_files_are_reported_and_not_judged_as_one(tmp_path):
    a = _day(tmp_path / "data" / "a.dbn", 0, seed=3)
    span = int(a["ts_recv"][-1] - a["ts_recv"][0])
    recs, truth = simulate(SYMBOLS, 3_000, seed=4, start_ns=SESSION_START_NS + span // 2)
    write_records(tmp_path / "data" / "b.dbn", recs, truth.instruments)
    res = check_mbo_quality(None, ctx_for(tmp_path))
    m = res.metrics
    assert (m["files_overlapping"], m["files_duplicate_coverage"]) == (2, 0)
    (finding,) = res.details["dataset"]
    assert finding["kind"] == "overlap" and finding["files"] == ["data/a.dbn", "data/b.dbn"]
    assert finding["instruments"] == ["1000", "1001", "1002"]
    lo = datetime.fromisoformat(finding["from"]).timestamp() * 1e9
    assert abs(lo - int(recs["ts_recv"][0])) < 1e3  # the overlap starts with b's first record
    for k in ("duplicates", "sequence_gaps", "cross_file_sequence_gaps"):
        assert str(m[k]).startswith("not judged: a.dbn and b.dbn overlap"), k
    assert m["records"] == len(a) + len(recs)  # both counted, and the finding says so
    assert "overlap twice" in res.message
    assert [f.get("overlaps") for f in res.details["files"]] == [["data/b.dbn"], ["data/a.dbn"]]


def test_other_instruments_at_the_same_time_do_not_overlap(tmp_path):
    _day(tmp_path / "data" / "es.dbn", 0, seed=3)
    recs, truth = simulate(("GCZ6",), 3_000, seed=4)
    recs["instrument_id"] = 2000  # another instrument than es.dbn's 1000-1002
    write_records(tmp_path / "data" / "gc.dbn", recs, {2000: "GCZ6"})
    res = check_mbo_quality(None, ctx_for(tmp_path))
    assert res.metrics["files_overlapping"] == 0 and res.details["dataset"] == []


@needs_real
def test_a_trades_file_where_only_mbo_is_used_is_noted_not_an_error(tmp_path):
    root = tmp_path
    shutil.copy(REAL / "other" / "test_data.trades.dbn", root / "trades.dbn")
    shutil.copy(REAL / "samples" / "test_data.mbo.v3.dbn", root / "mbo.dbn")
    res = check_mbo_quality(None, ctx_for(root, files=["*.dbn"], schemas=["mbo"]))
    assert res.status is None  # judged by the thresholds
    assert res.metrics["files_not_selected"] == 1 and res.metrics["files_unreadable"] == 0
    assert "not selected (schemas): trades.dbn (trades)" in res.message
    row = next(f for f in res.details["files"] if f["file"] == "trades.dbn")
    assert "not among the requirement's schemas (mbo)" in row["not_selected"]
    assert res.metrics["mbo_records"] == n_decoded(root / "mbo.dbn")
    # the streaming check reads MBO only: the trades file plays no part and is no error
    out = streaming_check()(None, ctx_for(root, files=["*.dbn"]))
    assert out.status is not Status.ERROR and out.metrics["records"] == n_decoded(root / "mbo.dbn")


@needs_real
def test_stale_data_is_skipped_fresh_data_is_judged():
    files = [str(XMAS.relative_to(REAL))]
    later = datetime(2024, 6, 1, tzinfo=timezone.utc)
    stale = check_mbo_quality(None, ctx_for(REAL, clock=later, files=files, max_age="92 d"))
    assert stale.status is Status.SKIPPED and stale.message.startswith("data is stale")
    assert "2023-12-25T23:59:59" in stale.message and "92 d" in stale.message
    fresh = check_mbo_quality(None, ctx_for(REAL, clock=datetime(2023, 12, 27, tzinfo=timezone.utc),
                                            files=files, max_age=92 * 86400))
    assert fresh.status is not Status.SKIPPED
    assert check_mbo_quality(None, ctx_for(REAL, clock=later, files=files)).status is not Status.SKIPPED
    bad = check_mbo_quality(None, ctx_for(REAL, files=files, max_age="soon"))
    assert bad.status is Status.ERROR and "max_age" in bad.message


def test_stale_data_is_skipped_by_the_streaming_check(tmp_path):
    _day(tmp_path / "data" / "d.dbn", 0, seed=1)  # 2026-11-02, in US market hours
    run = streaming_check()
    fresh = run(None, ctx_for(tmp_path, clock=datetime(2026, 11, 3, tzinfo=timezone.utc), max_age="92 d"))
    assert fresh.status is None and fresh.metrics["market_hours_observed_s"].value > 0
    stale = run(None, ctx_for(tmp_path, clock=datetime(2027, 6, 1, tzinfo=timezone.utc), max_age="92 d"))
    assert stale.status is Status.SKIPPED and stale.message.startswith("data is stale")
    assert stale.metrics == fresh.metrics  # what was measured stays visible


# a value for every param the feed data checks may declare (a new param needs one here)
PARAM_VALUES = {"files": ["data/*.dbn"], "chunk_records": 4096, "jump_ratio": 0.05,
                "allow_negative_prices": False, "sequence_scope": "channel", "book": True,
                "max_violations": 10, "workers": 1, "max_age": "92 d", "instruments": ["ESZ6"],
                "sessions": {"timezone": "America/New_York", "open": "09:30", "close": "16:00"},
                "schemas": ["mbo"], "log": "logs/none.jsonl", "market_hours": {"open": "09:30"}}


@pytest.mark.parametrize("name", ["mbo_quality", "mbo_streaming"])
def test_every_param_of_the_data_checks_is_read(tmp_path, name):
    params_mod = pytest.importorskip("golive.run.params")
    _day(tmp_path / "data" / "d.dbn", 0, seed=1)
    spec = next(s for s in feed.golive_checks() if s.name == name)
    declared = set(spec.params_schema["properties"])
    assert declared <= set(PARAM_VALUES), declared - set(PARAM_VALUES)
    tracked = params_mod.ReadTracker({k: PARAM_VALUES[k] for k in declared})
    ctx = ctx_for(tmp_path, clock=datetime(2026, 11, 3, tzinfo=timezone.utc))
    ctx.params = tracked
    result = spec.func(None, ctx)
    assert result.status not in (Status.ERROR, Status.SKIPPED, Status.MISSING), result.message
    assert tracked.unread() == []


def test_the_instruments_param_limits_the_check(tmp_path):
    recs = _day(tmp_path / "data" / "d.dbn", 0, seed=1)
    res = check_mbo_quality(None, ctx_for(tmp_path, instruments=["ESZ6"]))
    assert res.metrics["mbo_records"] == int((recs["instrument_id"] == 1000).sum())
    by_id = check_mbo_quality(None, ctx_for(tmp_path, instruments=[1000]))
    assert by_id.metrics["mbo_records"] == res.metrics["mbo_records"]


@needs_real
def test_instruments_on_a_schema_whose_checks_cannot_filter_them_is_noted(tmp_path):
    shutil.copy(REAL / "other" / "test_data.trades.dbn", tmp_path / "trades.dbn")
    shutil.copy(REAL / "samples" / "test_data.mbo.v3.dbn", tmp_path / "mbo.dbn")
    res = check_mbo_quality(None, ctx_for(tmp_path, files=["*.dbn"], instruments=["ESH1"]))
    assert res.status is not Status.ERROR and res.metrics["mbo_records"] == n_decoded(tmp_path / "mbo.dbn")
    row = next(f for f in res.details["files"] if f["file"] == "trades.dbn")
    assert "checks_applied" in row or "instruments param applies to MBO files only" in row["not_used"]
