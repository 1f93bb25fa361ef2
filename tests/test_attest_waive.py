"""Signed attestations verify manual requirements; signed waivers make failing ones `waived`
(never counted as pass); both live in the ledger, which still verifies afterwards."""
from __future__ import annotations

import json
from datetime import date as _date, datetime, timezone, timedelta as _timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive.cli import cli
from golive.model import Status
from golive.run.runner import manual_outcome

from enginehelpers import req
from people import co_approve, enrol

SOON = (_date.today() + _timedelta(days=30)).isoformat()  # waivers run at most 90 days (P1)

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"


def invoke(*args):
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return res


def test_attest_and_waive_end_to_end(tmp_path):
    store = str(tmp_path / "store")
    first_json = tmp_path / "first.json"
    first = invoke("run", "--target", str(WORKSPACE), "--store", store, "-q", "--json", str(first_json))
    assert first.exit_code == 1
    enrol(invoke, "Ada Risk", "--store", store)
    proof = tmp_path / "validation-report.txt"
    proof.write_text("independent validation performed by Example Audit LLP")
    res = invoke("attest", "AUD-07", "--by", "Ada Risk", "--role", "Head of Model Validation",
                 "--note", "independent validation report reviewed", "--file", str(proof), "--store", store,
                 "--target", str(WORKSPACE))
    assert res.exit_code == 0, res.output
    res = invoke("waive", "LIVE-SHADOW-01", "--approver", "Ada Risk", "--reason", "shadow week scheduled for Q1",
                 "--expires", SOON, "--store", store, "--target", str(WORKSPACE))
    assert res.exit_code == 0, res.output
    co_approve(invoke, res.output, "LIVE-SHADOW-01", "--store", store, "--target", str(WORKSPACE))  # P1: two people
    assert invoke("waive", "OPS-01", "--approver", "Nobody", "--reason", "x", "--expires", SOON,
                  "--store", store, "--target", str(WORKSPACE)).exit_code == 2

    out = tmp_path / "r.json"
    md = tmp_path / "report.md"
    second = invoke("run", "--target", str(WORKSPACE), "--store", store, "--json", str(out), "--report", str(md), "-q")
    assert second.exit_code == 1
    doc = json.loads(out.read_text())
    res = {r["requirement_id"]: r for r in doc["results"]}
    aud7 = res["AUD-07"]
    assert aud7["status"] == "pass" and aud7["implemented"]
    assert "attested by Ada Risk (Head of Model Validation)" in aud7["reason"]
    shadow = res["LIVE-SHADOW-01"]
    assert shadow["status"] == "waived" and shadow["recorded_status"] == "missing"
    assert shadow["waiver"]["approver"] == "Ada Risk"
    assert doc["summary"]["by_status"]["waived"] == 1
    before = json.loads(first_json.read_text())["summary"]["verified"]
    assert doc["summary"]["verified"] == before + 1  # the attestation counts; the waiver is not a pass
    assert [w["state"] for w in doc["waivers"]] == ["applied"]

    text = md.read_text()
    attest_part = text.split("## Attestations")[1].split("## ")[0]
    assert "AUD-07" in attest_part and "Ada Risk (Head of Model Validation)" in attest_part
    waiver_part = text.split("## Waivers")[1].split("## ")[0]
    assert "LIVE-SHADOW-01" in waiver_part and "shadow week scheduled for Q1" in waiver_part

    verified = invoke("evidence", "verify", "--store", store)
    assert verified.exit_code == 0, verified.output

    # the ledger view says what the report says: recorded missing, effective waived -- for the
    # run after the waiver, not for the run before it
    from golive.ledger import Store
    from golive.ledger.show import requirement_history, run_results

    ledger = Store(store)
    _, rows = run_results(ledger, doc["run"]["id"])
    row = next(r for r in rows if r["requirement_id"] == "LIVE-SHADOW-01")
    assert (row["status"], row["effective"], row["waiver"]["approver"]) == ("missing", "waived", "Ada Risk")
    _, rows = run_results(ledger, json.loads(first_json.read_text())["run"]["id"])
    assert next(r for r in rows if r["requirement_id"] == "LIVE-SHADOW-01")["effective"] == "missing"
    assert [h["effective"] for h in requirement_history(ledger, "LIVE-SHADOW-01")] == ["missing", "waived"]


def test_manual_outcome_expiry():
    r = req("AUD-07", manual=True)
    now = datetime(2026, 11, 25, tzinfo=timezone.utc)
    fresh = {"attested_by": "Ada", "statement": "ok", "expires": "2026-12-31", "time": "2026-11-01T10:00:00Z"}
    stale = {"attested_by": "Bob", "statement": "ok", "expires": "2026-11-24", "time": "2025-11-01T10:00:00Z"}
    assert manual_outcome(r, [fresh], now, []).status is Status.PASS
    expired = manual_outcome(r, [stale], now, [])
    assert expired.status is Status.MISSING and "expired on 2026-11-24" in expired.reason
    assert manual_outcome(r, [], now, []).status is Status.MISSING
    no_expiry = manual_outcome(r, [{"attested_by": "Cy", "statement": "done"}], now, [])
    assert no_expiry.status is Status.PASS and not no_expiry.details["attestation"]["expires"]


@pytest.fixture()
def store_with_person(tmp_path):
    store = str(tmp_path / "store")
    assert invoke("run", "--target", str(WORKSPACE), "--store", store, "-q",
                  "--only", "PRE-PIPE-01").exit_code in (0, 1)
    enrol(invoke, "Ada Risk", "--store", store)
    return store


def test_waivers_and_attestations_only_for_requirements_of_the_plan(store_with_person):
    res = invoke("waive", "RISK-99", "--approver", "Ada Risk", "--reason", "x", "--expires", SOON,
                 "--store", store_with_person, "--target", str(WORKSPACE))
    assert res.exit_code == 2 and "RISK-99 is not a requirement of plan" in res.output
    assert "did you mean" in res.output and "RISK-09" in res.output
    res = invoke("attest", "AUD-99", "--by", "Ada Risk", "--note", "x", "--store", store_with_person, "--target", str(WORKSPACE))
    assert res.exit_code == 2 and "AUD-99 is not a requirement" in res.output


def test_a_waiver_is_dated_within_its_priority_limit(store_with_person):
    far = invoke("waive", "LIVE-SHADOW-01", "--approver", "Ada Risk", "--reason", "x", "--expires", "2099-01-01",
                 "--store", store_with_person, "--target", str(WORKSPACE))
    assert far.exit_code == 2 and "runs at most 90 days" in far.output


def test_attesting_a_checked_requirement_needs_supporting(store_with_person):
    res = invoke("attest", "RISK-10", "--by", "Ada Risk", "--note", "dashboards reviewed", "--store", store_with_person, "--target", str(WORKSPACE))
    assert res.exit_code == 2 and "verified by its check" in res.output and "--supporting" in res.output
    res = invoke("attest", "RISK-10", "--by", "Ada Risk", "--note", "dashboards reviewed", "--supporting",
                 "--store", store_with_person, "--target", str(WORKSPACE))
    assert res.exit_code == 0 and "supporting attestation for RISK-10" in res.output
    res = invoke("attest", "AUD-07", "--by", "Ada Risk", "--note", "x", "--supporting", "--store", store_with_person, "--target", str(WORKSPACE))
    assert res.exit_code == 2 and "manual requirement" in res.output
