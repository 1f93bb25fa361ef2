"""Tests of the compliance and audit checks on the demo workspace (records + ops fixtures),
each test breaking one thing the check must notice."""
from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/ is not an installed package
from examples.ops_fixtures import write_ops  # noqa: E402
from examples.records_fixtures import write_records  # noqa: E402
from golive.model import CheckContext, Requirement, Status
from golive.run.target import load_target
from golive.plugins.audit import (completeness, config_changes, documentation, parameter_changes,  # noqa: E402
                                  positions, reconstruction, regulatory)

END = datetime(2026, 11, 20, 18, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("audit-ws")
    write_records(root)
    write_ops(root, end=END)
    return root


@pytest.fixture
def ws(pristine, tmp_path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(pristine, target, symlinks=True)
    return target


def run(func, root: Path, params=None):
    req = Requirement(id="AUD-XX", title="t", statement="s", category="c", priority="P2", plan_lines=(1, 1))
    target = load_target(root)  # the workspace's golive.toml [settings] (required documents, parameter files)
    ctx = CheckContext(target=target, params=params or {}, settings=target.settings, log=logging.getLogger("t"),
                       clock=lambda: END)
    return func(req, ctx), ctx


def value(m):
    return getattr(m, "value", m)


def rewrite_jsonl(path: Path, edit) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in (edit(r) for r in rows) if r is not None]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def commit(root: Path, message: str, who: str = "alice", when: str = "2026-11-19T10:00:00+00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": f"{who}@desk.example", "GIT_COMMITTER_NAME": who,
           "GIT_COMMITTER_EMAIL": f"{who}@desk.example", "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (("add", "-A"), ("commit", "-q", "-m", message)):
        subprocess.run(["git", "-C", str(root), "-c", "commit.gpgsign=false", *args], check=True, env=env,
                       capture_output=True, timeout=30)


def test_clean_workspace_is_complete(pristine):
    for func in (completeness.audit_completeness, positions.position_records, reconstruction.trade_reconstruction,
                 config_changes.config_changes, parameter_changes.parameter_changes, regulatory.regulatory_reporting,
                 documentation.documentation_freshness):
        result, ctx = run(func, pristine)
        assert result.status is None, (func.__name__, result.message)
        assert ctx.artifacts, func.__name__
    result, _ = run(completeness.audit_completeness, pristine)
    assert value(result.metrics["audit_completeness"]) == 1.0 and result.metrics["audit_orphans"] == 0


def test_signals_without_audit_entries_are_listed(ws):
    signals = [r["signal_id"] for r in csv.DictReader(open(ws / "records/signals.csv"))]
    gone = set(signals[5:8])
    rewrite_jsonl(ws / "logs/audit.jsonl", lambda r: None if r["event"] == "signal" and r["id"] in gone else r)
    result, _ = run(completeness.audit_completeness, ws)
    assert result.metrics["audit_missing"] == 3 and result.metrics["signals_missing_audit"] == 3
    assert set(result.details["streams"][0]["missing_ids"]) == gone
    assert value(result.metrics["audit_completeness"]) == pytest.approx(1 - 3 / (len(signals) + result.details["streams"][1]["recorded"]))


def test_position_changes_need_an_audit_entry_and_must_replay(ws):
    rows = list(csv.DictReader(open(ws / "records/positions.csv")))
    rows[10]["qty"] = str(int(rows[10]["qty"]) + 1)  # a snapshot the fills cannot explain
    with open(ws / "records/positions.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    result, _ = run(positions.position_records, ws)
    assert result.metrics["replay_mismatches"] >= 1
    assert result.details["replay_mismatches"][0]["row"] == 11
    assert result.metrics["position_changes_unaudited"] == 1  # no audit entry has that quantity


def test_trade_reconstruction_names_the_fill_that_differs(ws):
    fill_ids = [r["fill_id"] for r in csv.DictReader(open(ws / "records/fills.csv"))]
    order_ids = [r["order_id"] for r in csv.DictReader(open(ws / "records/orders.csv"))]
    target, lost_order = fill_ids[3], order_ids[1]

    def edit(r):
        if r["event"] == "fill" and r["id"] == target:
            r["payload"]["price"] = str(float(r["payload"]["price"]) + 0.25)
        if r["event"] == "order_new" and r["id"] == lost_order:
            return None
        return r
    rewrite_jsonl(ws / "logs/audit.jsonl", edit)
    result, _ = run(reconstruction.trade_reconstruction, ws)
    assert result.metrics["reconstruction_mismatches"] == 1 and result.details["mismatches"][0]["fill_id"] == target
    assert result.details["mismatches"][0]["fields"] == ["price"]
    assert result.metrics["orders_not_in_audit"] == 1 and result.details["orders_not_in_audit"] == [lost_order]
    assert value(result.metrics["fills_reconstructed_ratio"]) == pytest.approx(1 - 1 / len(fill_ids))


def test_an_unapproved_configuration_commit_is_undocumented(ws):
    strategy = ws / "config/strategy.yaml"
    strategy.write_text(strategy.read_text().replace("max_risk: 150", "max_risk: 200"))
    commit(ws, "tweak")
    result, _ = run(config_changes.config_changes, ws)
    assert result.metrics["config_changes_undocumented"] == 1
    bad = result.details["undocumented"][0]
    assert bad["subject"] == "tweak" and any("approval id" in p for p in bad["problems"])
    params, _ = run(parameter_changes.parameter_changes, ws)
    assert params.metrics["parameter_changes_undocumented"] == 1
    assert params.details["undocumented"][0]["parameter"] == "ev.max_risk"
    assert "200" not in json.dumps(params.details)  # values stay in git, not in evidence


def test_self_approval_and_approval_not_covering_the_parameter(ws):
    strategy = ws / "config/strategy.yaml"
    strategy.write_text(strategy.read_text().replace("min_probability: 0.60", "min_probability: 0.55"))
    commit(ws, "CHG-0002: lower min_probability for the open auction", who="carol")
    result, _ = run(config_changes.config_changes, ws)
    assert result.metrics["self_approved_changes"] == 1
    params, _ = run(parameter_changes.parameter_changes, ws)
    why = params.details["undocumented"][0]["problems"]
    assert "the linked approval does not list this parameter" in why


def test_uncommitted_configuration_change_and_missing_git(ws, tmp_path):
    (ws / "config/sources.yaml").write_text("sources: {}\n")
    result, _ = run(config_changes.config_changes, ws)
    assert result.metrics["uncommitted_config_changes"] == 1
    plain = tmp_path / "plain"
    shutil.copytree(ws / "config", plain / "config")
    not_tracked, _ = run(config_changes.config_changes, plain)
    assert not_tracked.status is Status.MISSING and "not the top of a git repository" in not_tracked.message


def test_regulatory_reports_missing_late_incomplete_and_altered(ws):
    manifest = ws / "logs/regulatory_reports.jsonl"
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    altered, truncated, same_day, late, dropped = rows[:5]
    (ws / altered["path"]).write_text((ws / altered["path"]).read_text() + "\n")  # differs from its sha256
    report = ws / truncated["path"]
    report.write_text(report.read_text().rsplit("\n", 2)[0] + "\n")  # one trade missing
    truncated["sha256"] = hashlib.sha256(report.read_bytes()).hexdigest()
    same_day["generated_at"] = same_day["period"] + "T23:00:00Z"  # inside the deadline
    late["generated_at"] = "2099-01-01T00:00:00Z"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows if r is not dropped))
    result, _ = run(regulatory.regulatory_reporting, ws)
    defects = {d["period"]: d["problems"] for d in result.details["defective"]}
    assert result.metrics["reports_missing"] == 1 and result.details["missing"][0]["period"] == dropped["period"]
    assert any("sha256" in p for p in defects[altered["period"]])
    assert any("incomplete: 1 record(s) missing" in p for p in defects[truncated["period"]])
    assert any("deadline" in p for p in defects[late["period"]])
    assert same_day["period"] not in defects and result.metrics["reports_late"] == 1
    assert value(result.metrics["reports_on_time_ratio"]) == pytest.approx((len(rows) - 4) / len(rows))


def test_documentation_goes_stale_when_what_it_describes_changes(ws):
    strategy = ws / "config/strategy.yaml"
    strategy.write_text(strategy.read_text().replace("min_ev: 15", "min_ev: 16"))
    commit(ws, "CHG-0002: min_ev to 16 after review of the baseline", who="bob", when="2026-11-20T17:30:00+00:00")
    doc = ws / "docs/runbook.md"
    doc.write_text(doc.read_text().replace("owner: alice\n", ""))
    result, _ = run(documentation.documentation_freshness, ws, {"required": ["docs/architecture.md", "docs/security.md"]})
    assert [s["document"] for s in result.details["stale"]] == ["docs/parameters.md"]
    assert result.details["without_owner"] == ["docs/runbook.md"] and result.details["missing"] == ["docs/security.md"]
    assert value(result.metrics["doc_review_lag_max"]) > 0
