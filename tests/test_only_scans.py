"""``--only X`` does not scan what X does not need: the secret scanner and the git history run
only when a requirement whose check reads them is selected."""
from __future__ import annotations

import subprocess

import pytest

from golive.plan import load
from golive.pluginmanager import create_host
from golive.plugins.config_security import secret_scan
from golive.run.runner import RunOptions, run_plan
from golive.run.target import load_target


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_ev.py").write_text(
        '"""Expected value analysis."""\n\ndef test_expected_value_of_a_setup():\n    assert round(0.6 * 30 - 0.4 * 20, 2) == 10.0\n',
        encoding="utf-8")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "prod.yaml").write_text("databento:\n  api_key: ${DATABENTO_API_KEY}\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


@pytest.fixture
def calls(monkeypatch):
    seen: list[str] = []
    for name in ("scan_files", "scan_history"):
        real = getattr(secret_scan, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            seen.append(_name)
            return _real(*args, **kwargs)
        monkeypatch.setattr(secret_scan, name, spy)
    return seen


def _run(workspace, only):
    host = create_host()
    plan = load()
    return run_plan(plan, load_target(workspace), host, RunOptions(only=only, jobs=2))


def test_an_unrelated_selection_never_runs_the_secret_scan(workspace, calls):
    report = _run(workspace, ("PRE-ALGO-01", "plugin:feed"))
    assert {o.requirement.id for o in report.outcomes} >= {"PRE-ALGO-01", "PRE-FEED-03"}
    assert calls == []


def test_selecting_the_secret_requirement_runs_both_scans(workspace, calls):
    report = _run(workspace, ("PRE-CONF-05",))
    assert [o.requirement.id for o in report.outcomes] == ["PRE-CONF-05"]
    assert sorted(calls) == ["scan_files", "scan_history"]
