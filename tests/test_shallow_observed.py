"""Every algorithm check says what its verdict rests on (CheckResult.observed, issue 14.3)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import golive.plugins.algorithm as algorithm
from golive.model import Requirement
from golive.plugins.records.common import standalone_context

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.records_fixtures import write_records  # noqa: E402

# checks whose events carry times: their period can be judged (min_period / max_age)
DATED = {"accuracy", "confidence_calibration", "shadow_agreement", "shadow_duration", "backtest", "ev_thresholds",
         "signal_timing", "risk_reward"}
PARAMS = {"priority": {"rules": [{"priority": 1, "min_confidence": 0.0, "min_notional": 0}]},
          "quality_setups": {"rules": {"min_ev": 15, "min_probability": 0.6, "max_risk": 150}}}


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    root = tmp_path_factory.mktemp("records")
    write_records(root, seed=7)
    return root


@pytest.mark.parametrize("spec", [s for s in algorithm.golive_checks() if s.name not in ("mbo_pressure", "volume_ratio")],
                         ids=lambda s: s.name)
def test_algorithm_check_reports_what_it_observed(records, spec):
    req = Requirement(id="PRE-ALGO-X", title="t", statement="", category="", priority="P1", plan_lines=(1, 1))
    result = spec.func(req, standalone_context(records, PARAMS.get(spec.name, {})))
    assert result.status is None, result.message
    seen = result.observed
    assert seen["events"] > 0 and seen["what"]
    if spec.name in DATED:
        assert seen["first"] and seen["newest"] and seen["first"] <= seen["newest"]
