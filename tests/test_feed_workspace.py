"""The demo workspace's feed part: healthy data and logs pass every feed check's evidence,
the unhealthy variant shows each problem where it was put."""
from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.feed_workspace import write_feed_workspace  # noqa: E402

import golive.plugins.feed as feed  # noqa: E402
from golive.model import CheckContext, Target  # noqa: E402

CHECKS = {s.name: s.func for s in feed.golive_checks()}


def run(root: Path, name: str):
    ctx = CheckContext(target=Target(root=root), params={}, settings={}, log=logging.getLogger("t"),
                       clock=lambda: datetime(2026, 11, 16, 18, 0, tzinfo=timezone.utc))
    return CHECKS[name](None, ctx)


@pytest.fixture(scope="module", params=[True, False], ids=["healthy", "unhealthy"])
def workspace(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    return request.param, root, write_feed_workspace(root, healthy=request.param, n_records=20_000)


def test_quality(workspace):
    healthy, root, written = workspace
    m = run(root, "mbo_quality").metrics
    expected = 0 if healthy else 1
    assert (m["sequence_gaps"], m["crossed_episodes"], m["price_jumps"], m["duplicates_exact"]) == (expected,) * 4
    assert m["records"] == written["truth"].n_records


def test_streaming_and_reconnection(workspace):
    healthy, root, _ = workspace
    silence = run(root, "mbo_streaming").metrics["max_silence_market_hours_s"].value
    assert (silence < 1) if healthy else silence == pytest.approx(45, abs=1)
    m = run(root, "reconnection_backfill").metrics
    assert (m["unrecovered_disconnects"], m["unbackfilled_outages"]) == ((0, 0) if healthy else (1, 1))


def test_cost_and_cache(workspace):
    healthy, root, _ = workspace
    daily = run(root, "api_cost").metrics["daily_cost_max_usd"].value
    assert (daily < 8) if healthy else daily > 8
    assert 0 < run(root, "cache_efficiency").metrics["cache_hit_ratio"].value < 1
