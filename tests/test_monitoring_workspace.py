"""End to end: the demo workspace through the engine, for every requirement the monitoring,
config_security and audit families verify.

A clean workspace (records + operations fixtures) passes all of them; with every fault of
``examples.ops_fixtures`` injected, exactly the requirements each fault affects turn red and
the others stay green; and no planted key reaches the results document or the evidence ledger.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/ is not an installed package
from examples.ops_fixtures import AFFECTS, FAULTS, write_ops  # noqa: E402
from examples.records_fixtures import write_records  # noqa: E402
from golive.ledger import attach  # noqa: E402
from golive.model import Status  # noqa: E402
from golive.plan import load  # noqa: E402
from golive.pluginmanager import create_host  # noqa: E402
from golive.plugins import audit, config_security, monitoring  # noqa: E402
from golive.results import build_document  # noqa: E402
from golive.run.runner import RunOptions, run_plan  # noqa: E402
from golive.run.target import load_target  # noqa: E402

FAMILIES = {"monitoring": monitoring, "config_security": config_security, "audit": audit}
MANUAL = {"RISK-09", "AUD-07"}
# PRE-PIPE-01 asks for passing tests of the entry point: the traceability check judges it.
BY_TESTS = {"PRE-PIPE-01"}


@pytest.fixture(scope="module")
def plan():
    return load()


@pytest.fixture(scope="module")
def host():
    return create_host(load_entry_points=False, extra=list(FAMILIES.items()))


def mine(plan):
    return [r for r in plan.requirements if r.check and r.check.plugin in FAMILIES]


def run_workspace(root: Path, plan, host):
    ids = tuple(r.id for r in mine(plan))
    # load_target reads the workspace's golive.toml [settings] (components, documents, parameter files)
    report = run_plan(plan, load_target(root), host, RunOptions(only=ids, jobs=2, timeout_s=120))
    return report, {o.requirement.id: o for o in report.outcomes}


def test_every_requirement_of_these_sections_has_a_check_or_is_manual(plan, host):
    checks = host.checks()
    sections = {"PRE-PIPE", "PRE-CONF", "LIVE-REL", "RISK", "AUD"}
    owned_elsewhere = {"LIVE-REL-02", "LIVE-REL-04", "RISK-01", "RISK-02", "RISK-03", "RISK-04", "AUD-06"}
    for req in plan.requirements:
        if req.section not in sections or req.id in owned_elsewhere:
            continue
        if req.id in MANUAL:
            assert req.manual and req.check is None, req.id
            continue
        if req.id in BY_TESTS:
            assert req.check is not None and f"{req.check.plugin}.{req.check.name}" == "traceability.linked_tests"
            continue
        assert req.check is not None and req.check.plugin in FAMILIES, f"{req.id} has no check block"
        spec = checks[f"{req.check.plugin}.{req.check.name}"]
        jsonschema.validate(dict(req.check.params), spec.params_schema)
        for t in req.thresholds:
            assert t.metric in spec.metrics, f"{req.id}: {spec.key} never reports {t.metric}"


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, plan, host):
    root = tmp_path_factory.mktemp("clean")
    write_records(root)
    write_ops(root)
    return run_workspace(root, plan, host)


def test_clean_workspace_passes_every_check(clean_run):
    _, outcomes = clean_run
    assert len(outcomes) >= 30
    failing = {rid: f"{o.status}: {o.reason}" for rid, o in outcomes.items() if o.status is not Status.PASS}
    assert not failing, json.dumps(failing, indent=1)
    assert all(o.artifacts for o in outcomes.values())


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory, plan):
    root = tmp_path_factory.mktemp("faulty")
    write_records(root)
    truth = write_ops(root, inject=FAULTS)
    host = create_host(load_entry_points=False, extra=list(FAMILIES.items()))
    store = tmp_path_factory.mktemp("evidence")
    attach(host, store_dir=store)  # the evidence ledger records every outcome and artifact
    return truth, store, *run_workspace(root, plan, host)


def test_each_injected_fault_is_reported_and_nothing_else(faulty_run):
    truth, _, _, outcomes = faulty_run
    expected_red = {rid for fault in FAULTS for rid in AFFECTS[fault]}
    red = {rid for rid, o in outcomes.items() if o.status in (Status.FAIL, Status.PARTIAL)}
    other = {rid: f"{o.status}: {o.reason}" for rid, o in outcomes.items()
             if rid not in expected_red and o.status is not Status.PASS}
    assert red == expected_red and not other, (sorted(red ^ expected_red), other)
    by_metric = {rid: {t.metric: t for t in outcomes[rid].thresholds} for rid in expected_red}
    assert not by_metric["PRE-PIPE-06"]["rss_growth_per_day_lower"].passed
    assert not by_metric["LIVE-REL-07"]["latency_p99"].passed
    assert by_metric["RISK-06"]["disk_max"].observed > 90 and by_metric["RISK-06"]["cpu_p95"].passed
    assert not by_metric["RISK-10"]["uptime"].passed
    assert 40 * 60 <= outcomes["RISK-10"].metrics["longest_outage"].value <= 60 * 60
    assert outcomes["PRE-CONF-05"].metrics["plaintext_secrets"] == 1
    assert outcomes["PRE-CONF-05"].metrics["plaintext_secrets_history"] == 1
    found = outcomes["PRE-CONF-05"].details["file_findings"][0]
    assert f"{found['path']}:{found['line']}" == truth.injected["plaintext_key"]["files"][0]
    assert outcomes["AUD-04"].details["undocumented"][0]["subject"] == "tweak"
    assert outcomes["AUD-03"].details["undocumented"][0]["parameter"] == truth.injected["undocumented_config_change"]["key"]


def test_no_planted_key_reaches_the_results_document_or_the_ledger(faulty_run):
    truth, store, report, _ = faulty_run
    text = json.dumps(build_document(report), default=str)
    evidence = b"".join(p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file())
    assert truth.planted_secrets and len(evidence) > 0
    for key in truth.planted_secrets:
        assert key not in text and key[4:] not in text
        assert key[4:].encode() not in evidence


def test_fixture_rejects_unknown_faults_and_git_faults_without_git(tmp_path):
    with pytest.raises(ValueError, match="unknown fault"):
        write_ops(tmp_path, inject=["disk_full"])
    with pytest.raises(ValueError, match="git=True"):
        write_ops(tmp_path, inject=["plaintext_key"], git=False)
    truth = write_ops(tmp_path / "plain", git=False)
    assert not truth.git and (tmp_path / "plain/config/strategy.yaml").is_file()
    assert not (tmp_path / "plain/.git").exists()


def test_fixture_can_leave_the_team_tests_alone(tmp_path):
    write_ops(tmp_path, git=False, cli_tests=False)
    assert (tmp_path / "run_pipeline.py").is_file() and not (tmp_path / "tests").exists()
