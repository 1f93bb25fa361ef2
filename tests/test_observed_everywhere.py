"""No pass without evidence, engine-wide (issue 14.3): on the healthy and degraded demos every
requirement judged pass, fail or partial says what its verdict rests on (``Outcome.observed``:
events > 0 and what they were), and time-series checks date their period (first/newest) so
``min_period`` / ``max_age`` can be judged. A check that observed nothing is ``missing``, never
``pass`` (workspace-free cases at the end).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from golive.model import Requirement, Status
from golive.plugins.records.common import standalone_context

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.records_fixtures import write_records  # noqa: E402

# Checks whose observations are things read, not a time series: they report how many they read and
# what, but no period (min_period / max_age cannot apply to them). Each says why.
UNDATED = {
    "traceability.linked_tests": "recorded test outcomes: JUnit/JSON results carry no reliable run time",
    "monitoring.cli_arguments": "CLI options found in the code and exercised by test calls (ast)",
    "config_security.profiles_load": "profile files validated against the code's keys or a schema",
    "config_security.profile_switch": "switches read from the profiles",
    "config_security.env_references": "${ENV} references in configuration files",
    "config_security.source_toggles": "data-source toggles in configuration files",
    "config_security.secrets_at_rest": "files scanned for secrets",
    "config_security.credential_refresh": "credential inventory entries (each one's age is judged by the check)",
    "config_security.access_control": "access rules in configuration files",
    # the algorithm checks below judge a set of cases (setups, labelled or sized signals), not a
    # period: how well the rules classify them does not depend on when they happened
    "algorithm.edge_cases": "setups of the edge-case rules",
    "algorithm.pattern_recognition": "signals with a labelled pattern",
    "algorithm.quality_setups": "setups judged against the plan's rules",
    "algorithm.institutional_size": "institutional-flow signals judged against a notional floor",
    "algorithm.priority": "signals with a priority, in batches of simultaneous signals",
    "feed.live_connection": "connects and subscription acks counted in the feed log (dated when probed)",
}
# The feed-event checks (plugins/feed/feed_events.py), judged on their own below: each must report
# what it observed whenever it passes, fails or is partial.
FEED_EVENTS = {"feed.mbo_streaming", "feed.reconnection_backfill"}
DEFAULT_CHECK = "traceability.linked_tests"  # what the runner judges a requirement without a check block by


@pytest.fixture(scope="module", params=["healthy", "degraded"])
def outcomes(request, tmp_path_factory):
    from golive.demo import DEMO_NOW, build
    from golive.plan import load
    from golive.pluginmanager import create_host
    from golive.run.runner import RunOptions, run_plan
    from golive.run.target import load_target

    root = build(tmp_path_factory.mktemp("demo") / "ws", request.param).root
    report = run_plan(load(), load_target(root), create_host(), RunOptions(jobs=2, clock=lambda: DEMO_NOW))
    return report.outcomes


def _check(outcome) -> str:
    ref = outcome.requirement.check
    return f"{ref.plugin}.{ref.name}" if ref else DEFAULT_CHECK


def _blind(outcome) -> bool:
    seen = outcome.observed
    return not seen or not seen.get("what") or not int(seen.get("events") or 0) > 0


def test_the_demo_passes_enough_to_mean_something(outcomes):
    assert sum(o.status is Status.PASS for o in outcomes) >= 60


def test_every_judged_requirement_reports_what_it_observed(outcomes):
    judged = (Status.PASS, Status.FAIL, Status.PARTIAL)
    blind = [f"{o.requirement.id} {o.status} ({_check(o)}): {o.observed}" for o in outcomes
             if o.status in judged and _blind(o)]
    assert not blind, "verdicts without observations:\n" + "\n".join(blind)


def test_feed_event_checks_report_what_they_observed(outcomes):
    judged = [o for o in outcomes if _check(o) in FEED_EVENTS and o.status in (Status.PASS, Status.FAIL, Status.PARTIAL)]
    assert judged and not [o.requirement.id for o in judged if _blind(o)]


def test_time_series_checks_date_their_period(outcomes):
    undated = []
    for o in outcomes:
        check = _check(o)
        if o.status is not Status.PASS or check in UNDATED:
            continue
        first, newest = o.observed.get("first"), o.observed.get("newest")
        if not (first and newest and first <= newest):
            undated.append(f"{o.requirement.id} ({check}): {o.observed}")
    assert not undated, "time-series passes without a period:\n" + "\n".join(undated)


# ---- zero observations: missing, never pass (no workspace, no engine) --------------------------

def _req(rid="X-01"):
    return Requirement(id=rid, title="t", statement="", category="", priority="P1", plan_lines=(1, 1))


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    root = tmp_path_factory.mktemp("records")
    write_records(root, seed=7)
    return root


def _ctx(root, params=None, tests=()):
    import logging
    from datetime import datetime, timezone

    from golive.model import CheckContext, Target

    return CheckContext(target=Target(root=Path(root)), params=params or {}, settings={}, log=logging.getLogger("t"),
                        tests=list(tests), clock=lambda: datetime(2026, 11, 3, 21, 0, tzinfo=timezone.utc))


def _judge(result, thresholds=()):
    from golive.run.verdict import judge

    req = Requirement(id="X-01", title="t", statement="", category="", priority="P1", plan_lines=(1, 1),
                      thresholds=tuple(thresholds))
    return judge(req, result, [], [])


def _runs(root: Path, *runs: dict) -> None:
    import json

    (root / "logs").mkdir(exist_ok=True)
    (root / "logs" / "pipeline_runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in runs))


OK_RUN = {"run_id": "r1", "started": "2026-11-02T09:00:00Z", "finished": "2026-11-02T09:01:00Z", "status": "ok",
          "exit_code": 0, "stages": [{"name": "ingest", "status": "ok"}]}
FAILED_RUN = {"run_id": "r2", "started": "2026-11-02T10:00:00Z", "status": "error", "exit_code": 2,
              "stages": [{"name": "ingest", "status": "error"}], "error": {"stage": "ingest", "message": "boom"}}


def test_error_propagation_without_a_failure_is_not_exercised(tmp_path):
    from golive.model import Threshold
    from golive.plugins.monitoring.error_propagation import error_propagation

    swallowed_none = (Threshold("errors_swallowed", "==", 0),)
    _runs(tmp_path, OK_RUN)
    result = error_propagation(_req(), _ctx(tmp_path))
    assert result.observed["events"] == 0
    outcome = _judge(result, swallowed_none)
    assert outcome.status is Status.MISSING
    assert outcome.reason == "not exercised: no pipeline failures in the period"
    # the counterpart: one failure, propagated, is evidence, dated by its run
    _runs(tmp_path, OK_RUN, FAILED_RUN)
    result = error_propagation(_req(), _ctx(tmp_path))
    assert result.observed == {"events": 1, "first": "2026-11-02T10:00:00Z", "newest": "2026-11-02T10:00:00Z",
                               "what": "pipeline failures"}
    assert _judge(result, swallowed_none).status is Status.PASS


def test_entry_point_that_parses_but_never_ran_is_not_exercised(tmp_path):
    from golive.plugins.monitoring.entry_point import entry_point

    (tmp_path / "run_pipeline.py").write_text("def main():\n    pass\n\nif __name__ == '__main__':\n    main()\n")
    outcome = _judge(entry_point(_req(), _ctx(tmp_path)))
    assert (outcome.status, outcome.reason) == (Status.MISSING, "not exercised: no finished runs of the entry point "
                                                                "in the period")
    _runs(tmp_path, OK_RUN)
    assert _judge(entry_point(_req(), _ctx(tmp_path))).status is Status.PASS
    # a missing __main__ guard is seen in the script itself: fail, whatever the runs
    (tmp_path / "run_pipeline.py").write_text("def main():\n    pass\n")
    assert _judge(entry_point(_req(), _ctx(tmp_path))).status is Status.FAIL


def test_linked_tests_without_a_recorded_outcome_are_not_evidence(tmp_path):
    from golive.model import TestRecord as Record  # not collected by pytest
    from golive.plugins.traceability.check import linked_tests

    unrun = Record(id="tests/test_a.py::test_a", path="tests/test_a.py", kind="pytest", outcome=None)
    outcome = _judge(linked_tests(_req(), _ctx(tmp_path, tests=[unrun])))
    assert outcome.status is Status.MISSING
    assert outcome.reason == "not exercised: no recorded outcomes of linked tests in the period"
    passed = Record(id="tests/test_b.py::test_b", path="tests/test_b.py", kind="pytest", outcome="passed")
    outcome = _judge(linked_tests(_req(), _ctx(tmp_path, tests=[unrun, passed])))
    assert outcome.status is Status.PARTIAL and outcome.observed["events"] == 1  # one result, one test unproven


RECORDS_FAMILIES = ("risk", "broker", "business")


def _records_cases():
    """Each check of the records families with the first plan requirement that uses it (its params)."""
    import importlib

    from golive.plan import load

    users = {}
    for section in load().sections:
        for r in section.requirements:
            if r.check:
                users.setdefault((r.check.plugin, r.check.name), r)
    for family in RECORDS_FAMILIES:
        for spec in importlib.import_module(f"golive.plugins.{family}").golive_checks():
            if (family, spec.name) in users:
                yield pytest.param(spec, users[(family, spec.name)], id=f"{family}.{spec.name}")


@pytest.mark.parametrize("spec, requirement", list(_records_cases()))
def test_records_checks_count_and_date_what_they_read(records, spec, requirement):
    result = spec.func(requirement, standalone_context(records, dict(requirement.check.params)))
    if result.status is Status.MISSING:  # said why, and observed nothing it could pass on
        assert result.message and not int(result.observed.get("events") or 0)
        return
    seen = result.observed
    assert seen and seen["events"] > 0 and seen["what"], (spec.name, result.status, result.message)
    assert seen["first"] and seen["newest"] and seen["first"] <= seen["newest"]


def test_plan_format_lists_what_every_check_observes():
    """docs/plan-format.md "What each check observes" names every check of golive's plugins once,
    and says 'no' (undated) exactly for the UNDATED exemptions and the pending feed checks."""
    import re

    from golive.pluginmanager import create_host

    doc = (Path(__file__).resolve().parents[1] / "docs" / "plan-format.md").read_text(encoding="utf-8")
    section = doc.split("### What each check observes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([\w.]+)` \| [^|]+ \| ([^|]+?) \|$", section, re.M))
    ours = {name for name, spec in create_host().checks().items() if spec.func.__module__.startswith("golive.")}
    assert set(rows) == ours
    assert {k for k, dated in rows.items() if dated.startswith("no")} == set(UNDATED)


def test_a_feed_log_without_a_connect_is_not_exercised(tmp_path):
    import json

    from golive.plugins.feed.connection import check_live_connection

    def log(*events):
        (tmp_path / "logs").mkdir(exist_ok=True)
        (tmp_path / "logs" / "feed_events.jsonl").write_text(
            "".join(json.dumps({"ts": ts, "event": kind}) + "\n" for ts, kind in events))

    log(("2026-11-02T14:30:00Z", "error"))
    outcome = _judge(check_live_connection(_req(), _ctx(tmp_path, {"mode": "log"})))
    assert (outcome.status, outcome.reason) == (Status.MISSING, "not exercised: no connects and subscription acks "
                                                                "in the period")
    log(("2026-11-02T14:30:00Z", "connect"), ("2026-11-02T14:30:01Z", "subscribed"))
    result = check_live_connection(_req(), _ctx(tmp_path, {"mode": "log"}))
    assert result.observed["events"] == 2 and _judge(result).status is Status.PASS
