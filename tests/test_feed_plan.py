"""End to end: the plan's data-ingestion section, validated with the feed family registered and
run by the engine on the demo feed workspace (healthy and with every fault)."""
from __future__ import annotations

from datetime import datetime, timezone
import shutil
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.feed_workspace import write_feed_workspace  # noqa: E402

import golive.plugins.feed as feed  # noqa: E402
from golive.model import Status, Target  # noqa: E402
from golive.pluginmanager import create_host  # noqa: E402
from golive.run.runner import RunOptions, run_plan  # noqa: E402
from golive.plan.validate import format_problems, validate_plan  # noqa: E402

PLAN = Path(__file__).resolve().parents[1] / "requirements"
SECTION = "1-pre-live/data-ingestion.yaml"


@pytest.fixture(scope="module")
def host():
    h = create_host(load_entry_points=False)
    h.register(feed, "feed")
    return h


@pytest.fixture(scope="module")
def plan(host, tmp_path_factory):
    """The real plan file restricted to this section, so other families need not be installed."""
    root = tmp_path_factory.mktemp("plan")
    data = yaml.safe_load((PLAN / "plan.yaml").read_text())
    data["sections"] = [SECTION]
    (root / "plan.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (root / SECTION).parent.mkdir(parents=True)
    shutil.copy(PLAN / SECTION, root / SECTION)
    plan, problems = validate_plan(root / "plan.yaml", host.checks())
    assert not problems, format_problems(problems)
    return plan


def test_every_requirement_of_the_section_has_a_feed_check(plan):
    reqs = plan.section("PRE-FEED").requirements
    assert [r.id for r in reqs] == [f"PRE-FEED-0{i}" for i in range(1, 8)]
    assert all(r.check is not None and r.check.plugin == "feed" and r.thresholds for r in reqs)


def run(plan, host, root: Path, monkeypatch) -> dict:
    monkeypatch.delenv("DATABENTO_API_KEY", raising=False)
    report = run_plan(plan, Target(root=root), host, RunOptions(jobs=2, clock=lambda: datetime(2026, 11, 16, 18, tzinfo=timezone.utc)))
    return {o.requirement.id: o for o in report.outcomes}


def test_healthy_workspace_passes(plan, host, tmp_path, monkeypatch):
    write_feed_workspace(tmp_path, healthy=True, n_records=20_000)
    outcomes = run(plan, host, tmp_path, monkeypatch)
    assert outcomes["PRE-FEED-02"].status is Status.SKIPPED  # no key in the environment
    assert "DATABENTO_API_KEY" in outcomes["PRE-FEED-02"].reason
    for rid, o in outcomes.items():
        if rid != "PRE-FEED-02":
            assert o.status is Status.PASS, (rid, o.reason)


def test_faulty_workspace_fails_where_the_faults_are(plan, host, tmp_path, monkeypatch):
    write_feed_workspace(tmp_path, healthy=False, n_records=20_000)
    outcomes = run(plan, host, tmp_path, monkeypatch)
    failed = {rid: sorted(t.metric for t in o.thresholds if not t.passed) for rid, o in outcomes.items()}
    assert failed["PRE-FEED-01"] == [] and failed["PRE-FEED-05"] == []
    assert failed["PRE-FEED-03"] == ["max_silence_market_hours_s", "sequence_gaps"]
    assert set(failed["PRE-FEED-04"]) >= {"sequence_gaps", "duplicates", "non_positive_prices",
                                          "price_jumps", "crossed_episodes", "ts_recv_regressions"}
    assert failed["PRE-FEED-06"] == ["unbackfilled_outages", "unrecovered_disconnects"]
    assert failed["PRE-FEED-07"] == ["daily_cost_max_usd"]
