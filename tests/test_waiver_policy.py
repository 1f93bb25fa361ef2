"""The plan's waiver policy (issue 16.3): the longest a waiver may run per priority, the roles
that may approve one, two distinct approvers for P1; files stored with a waiver are listed with
their digests in the report."""
from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive.cli import cli
from people import co_approve, enrol

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = str(ROOT / "tests" / "fixtures" / "reference-workspace")
SOON = (date.today() + timedelta(days=30)).isoformat()


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _run(store, out: Path, *extra) -> dict:
    res = invoke("run", "-t", WORKSPACE, "--store", store, "--json", out, "-q", "--only", "LIVE-SHADOW-01,OPS-01", *extra)
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    doc["by_id"] = {r["requirement_id"]: r for r in doc["results"]}
    return doc


@pytest.fixture()
def store(tmp_path):
    where = str(tmp_path / "store")
    _run(where, tmp_path / "first.json")  # creates the store and its ledger key
    enrol(invoke, "Ada Risk", "--store", where)
    return where


def _plan_copy(tmp_path: Path, policy: str | None) -> Path:
    """The shipped plan with its waivers block replaced by ``policy`` (None: left out)."""
    plan = tmp_path / "plan"
    shutil.copytree(ROOT / "requirements", plan)
    text = (plan / "plan.yaml").read_text()
    head, rest = text.split("\nwaivers:\n", 1)
    rest = rest.split("\n\n", 1)[1]  # the block ends at the first blank line
    (plan / "plan.yaml").write_text(head + "\n" + (policy or "") + "\n" + rest)
    return plan


def test_the_shipped_plan_holds_the_policy():
    from golive.ledger.waiver_policy import WaiverPolicy
    from golive.plan import load

    policy = WaiverPolicy.of(load(None))
    assert (policy.limit("P1"), policy.limit("P2"), policy.limit("P3")) == (90, 180, 365)
    assert policy.approver_roles == ("head-of-trading", "risk", "compliance")
    assert (policy.needed("P1"), policy.needed("P2"), policy.needed("P3")) == (2, 1, 1)


def test_an_approver_whose_role_is_not_allowed_is_refused(store):
    enrol(invoke, "Olly Ops", "--store", store, role="operations")
    res = invoke("waive", "OPS-01", "--approver", "Olly Ops", "--reason", "x", "--expires", SOON,
                 "--store", store, "--target", WORKSPACE)
    assert res.exit_code == 2
    assert "Olly Ops is registered with role 'operations'" in res.output
    assert "lets only head-of-trading, risk, compliance approve waivers" in res.output


def test_a_waiver_longer_than_the_plans_limit_is_refused(store, tmp_path):
    plan = _plan_copy(tmp_path, "waivers:\n  max_days: {P2: 10}\n")
    res = invoke("waive", "OPS-01", "--approver", "Ada Risk", "--reason", "x", "--expires", SOON,
                 "--store", store, "--target", WORKSPACE, "--plan", plan)
    assert res.exit_code == 2 and "a waiver of a P2 requirement runs at most 10 days" in res.output
    ok = invoke("waive", "OPS-01", "--approver", "Ada Risk", "--reason", "x", "--store", store, "--target", WORKSPACE,
                "--plan", plan, "--expires", (date.today() + timedelta(days=10)).isoformat())
    assert ok.exit_code == 0, ok.output


def test_a_p1_waiver_applies_only_with_a_second_distinct_approver(store, tmp_path):
    from golive.ledger import Store
    from golive.ledger.bind import rebuild_document
    from golive.ledger.show import run_results

    first = invoke("waive", "LIVE-SHADOW-01", "--approver", "Ada Risk", "--reason", "shadow week in Q1",
                   "--expires", SOON, "--store", store, "--target", WORKSPACE)
    assert first.exit_code == 0 and "needs 2 distinct approvers" in first.output and "--second-to" in first.output

    alone = _run(store, tmp_path / "alone.json")
    assert alone["by_id"]["LIVE-SHADOW-01"]["status"] == "missing" and alone["waivers"] == []
    [warning] = [w for w in alone["warnings"] if "awaits" in w]
    assert warning.startswith("waiver for LIVE-SHADOW-01 awaits a second approver")
    assert "golive waive LIVE-SHADOW-01 --target DIR --approver NAME --second-to" in warning

    again = invoke("waive", "LIVE-SHADOW-01", "--approver", "Ada Risk", "--second-to",
                   first.output.split("recorded as entry ")[1].split(",")[0], "--store", store, "--target", WORKSPACE)
    assert again.exit_code == 2 and "Ada Risk already approved waiver entry" in again.output
    assert _run(store, tmp_path / "still.json")["by_id"]["LIVE-SHADOW-01"]["status"] == "missing"

    co_approve(invoke, first.output, "LIVE-SHADOW-01", "--store", store, "--target", WORKSPACE)
    both = _run(store, tmp_path / "both.json")
    assert both["by_id"]["LIVE-SHADOW-01"]["status"] == "waived"
    assert [w["requirement_id"] for w in both["waivers"]] == ["LIVE-SHADOW-01"]
    assert not any("awaits" in w for w in both["warnings"])

    # the ledger's views apply what each run applied: pending before, waived after
    ledger = Store(store)

    def ledger_views(doc: dict) -> tuple[str, str]:  # (evidence show's effective status, the rebuilt report's)
        shown = {r["requirement_id"]: r["effective"] for r in run_results(ledger, doc["run"]["id"])[1]}
        rebuilt = {r["requirement_id"]: r["status"] for r in rebuild_document(ledger, doc, doc["run"]["id"])["results"]}
        return shown["LIVE-SHADOW-01"], rebuilt["LIVE-SHADOW-01"]

    assert ledger_views(alone) == ("missing", "missing") and ledger_views(both) == ("waived", "waived")

    # both approvers are named wherever the waiver is: the document, every report, evidence show
    assert both["waivers"][0]["approver"] == "Ada Risk" and both["waivers"][0]["co_approvers"] == ["Bea Compliance"]
    assert both["by_id"]["LIVE-SHADOW-01"]["waiver"]["co_approvers"] == ["Bea Compliance"]
    assert rebuild_document(ledger, both, both["run"]["id"])["waivers"] == both["waivers"]
    report = invoke("report", both["run"]["id"], "--store", store, "-f", "md", "-f", "junit", "-f", "html",
                    "-o", tmp_path / "r")
    assert report.exit_code in (0, 1), report.output
    for ext in (".md", ".xml", ".html"):
        assert "Ada Risk, co-approved by Bea Compliance" in (tmp_path / "r").with_suffix(ext).read_text(), ext
    shown = invoke("evidence", "show", both["run"]["id"], "LIVE-SHADOW-01", "--store", store)
    assert "approved by Ada Risk, co-approved by Bea Compliance" in shown.output, shown.output

    # separation of duties: the co-approver approved a waiver of the run, so cannot sign it off alone
    signed = invoke("signoff", both["run"]["id"], "--decision", "go", "--note", "ok", "--by", "Bea Compliance",
                    "--store", store)
    assert signed.exit_code == 2 and "cannot be the only approver" in signed.output, signed.output
    assert invoke("evidence", "verify", "--store", store).exit_code == 0


def test_the_same_person_with_two_keys_counts_once():
    from golive.ledger.waiver_policy import WaiverPolicy, settle

    keys = {"k1": {"role": "person", "status": "active", "name": "Ada Risk", "person_role": "risk"},
            "k2": {"role": "person", "status": "active", "name": "Ada Risk", "person_role": "risk"},
            "k3": {"role": "person", "status": "revoked", "revoked_seq": 2, "name": "Bea", "person_role": "risk"}}
    entries = [{"seq": 5, "requirement_id": "R", "author_key_id": "k1", "approver": "Ada Risk", "time": "2026-12-01"},
               {"seq": 6, "requirement_id": "R", "author_key_id": "k2", "approver": "Ada Risk", "second_to": 5,
                "time": "2026-12-01"},
               {"seq": 7, "requirement_id": "R", "author_key_id": "k3", "approver": "Bea", "second_to": 5,
                "time": "2026-12-01"}]
    policy = WaiverPolicy(approvers={"P1": 2}, approver_roles=("risk",))
    applied, used, pending = settle(entries, keys, policy, {"R": "P1"})
    assert applied == [] and used == []
    [waiting] = pending
    assert "awaits a second approver" in waiting.why and "Bea's key was not valid" in waiting.why
    keys["k3"]["status"] = "active"
    applied, used, pending = settle(entries, keys, policy, {"R": "P1"})
    assert [a["seq"] for a in applied] == [5] and used == [7] and applied[0]["co_approvers"] == ["Bea"]


def test_without_a_policy_block_the_defaults_apply(store, tmp_path):
    plan = _plan_copy(tmp_path, None)
    enrol(invoke, "Olly Ops", "--store", store, role="operations")
    far = invoke("waive", "LIVE-SHADOW-01", "--approver", "Olly Ops", "--reason", "x", "--expires",
                 (date.today() + timedelta(days=91)).isoformat(), "--store", store, "--target", WORKSPACE, "--plan", plan)
    assert far.exit_code == 2 and "runs at most 90 days" in far.output
    res = invoke("waive", "LIVE-SHADOW-01", "--approver", "Olly Ops", "--reason", "shadow week in Q1",
                 "--expires", SOON, "--store", store, "--target", WORKSPACE, "--plan", plan)
    assert res.exit_code == 0 and "distinct approvers" not in res.output, res.output
    doc = _run(store, tmp_path / "run.json", "--plan", plan)
    assert doc["by_id"]["LIVE-SHADOW-01"]["status"] == "waived"  # any role, one approver


def test_the_plan_block_is_validated(tmp_path):
    from golive.plan import PlanError, load

    with pytest.raises(PlanError, match="approver_roles"):
        load(_plan_copy(tmp_path / "a", "waivers:\n  approver_roles: [Risk Officer]\n"))
    with pytest.raises(PlanError, match="unknown priority 'P7'"):
        load(_plan_copy(tmp_path / "b", "waivers:\n  approvers: {P7: 2}\n"))


def test_waiver_files_appear_in_the_report_with_their_digest(store, tmp_path):
    memo = tmp_path / "risk-acceptance.txt"
    memo.write_text("the desk accepts the risk of OPS-01 until the runbook is written\n")
    res = invoke("waive", "OPS-01", "--approver", "Ada Risk", "--reason", "runbook next sprint", "--expires", SOON,
                 "--file", memo, "--store", store, "--target", WORKSPACE)
    assert res.exit_code == 0, res.output
    md = tmp_path / "report.md"
    doc = _run(store, tmp_path / "run.json", "--report", md)
    [waiver] = doc["waivers"]
    digest = hashlib.sha256(memo.read_bytes()).hexdigest()
    assert [f["sha256"] for f in waiver["files"]] == [digest]
    assert f"OPS-01, waiver approved by Ada Risk: risk-acceptance.txt — sha256 {digest}" in md.read_text()
    rendered = tmp_path / "again.md"  # `golive report` of the recorded run keeps the files too
    again = invoke("report", tmp_path / "run.json", "--format", "md", "--out", rendered, "--store", store)
    assert again.exit_code == 0, again.output
    assert f"risk-acceptance.txt — sha256 {digest}" in rendered.read_text()
