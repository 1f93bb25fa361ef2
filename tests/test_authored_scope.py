"""Attestations and waivers are bound to a target and a plan (issue 16.3): a waiver or an
attestation for target A is never applied to target B's runs in the same store; an entry
without a target is set aside and reported; a new plan version keeps an entry only while its
requirement is unchanged."""
from __future__ import annotations

import copy
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive.cli import cli
from people import PASSPHRASE, co_approve, enrol

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"
SOON = (date.today() + timedelta(days=30)).isoformat()
ONLY = ("--only", "LIVE-SHADOW-01,AUD-07,RISK-10")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _desk(tmp_path: Path, name: str) -> Path:
    """A copy of the reference workspace whose golive.toml names its own system."""
    ws = tmp_path / name
    shutil.copytree(WORKSPACE, ws)
    toml = ws / "golive.toml"
    toml.write_text(toml.read_text() + f'\n[settings]\nsystem_id = "{name}"\n')
    return ws


def _run(ws: Path, store: str, out: Path) -> dict:
    res = invoke("run", "--target", ws, "--store", store, "-q", "--json", out, *ONLY)
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    return doc | {"by_id": {r["requirement_id"]: r for r in doc["results"]}}


def test_a_waiver_and_an_attestation_for_target_a_never_apply_to_target_b(tmp_path):
    store = str(tmp_path / "store")
    desk_a, desk_b = _desk(tmp_path, "desk-a"), _desk(tmp_path, "desk-b")
    _run(desk_a, store, tmp_path / "first.json")  # creates the store and its ledger key
    enrol(invoke, "Ada Risk", "--store", store)
    waived = invoke("waive", "LIVE-SHADOW-01", "--approver", "Ada Risk", "--reason", "shadow week in Q1",
                    "--expires", SOON, "--store", store, "--target", desk_a)
    assert waived.exit_code == 0 and "for target system:desk-a" in waived.output, waived.output
    co_approve(invoke, waived.output, "LIVE-SHADOW-01", "--store", store, "--target", desk_a)  # P1: two people
    attested = invoke("attest", "AUD-07", "--by", "Ada Risk", "--note", "validation report reviewed",
                      "--store", store, "--target", desk_a)
    assert attested.exit_code == 0, attested.output

    a = _run(desk_a, store, tmp_path / "a.json")
    b = _run(desk_b, store, tmp_path / "b.json")
    assert a["by_id"]["LIVE-SHADOW-01"]["status"] == "waived" and a["by_id"]["AUD-07"]["status"] == "pass"
    assert b["by_id"]["LIVE-SHADOW-01"]["status"] == "missing" and b["by_id"]["AUD-07"]["status"] == "missing"
    assert b["waivers"] == [] and not any("not applied" in w for w in b["warnings"])  # not B's: not listed
    assert a["run"]["provenance"]["target_identity"] == "system:desk-a"

    # the ledger's own views (evidence show, ledger-bound reports) apply what each run applied
    from golive.ledger import Store
    from golive.ledger.bind import rebuild_document
    from golive.ledger.show import run_results

    ledger = Store(store)
    for doc, effective in ((a, "waived"), (b, "missing")):
        _, rows = run_results(ledger, doc["run"]["id"])
        assert next(r for r in rows if r["requirement_id"] == "LIVE-SHADOW-01")["effective"] == effective
        rebuilt = rebuild_document(ledger, doc, doc["run"]["id"])
        assert {r["requirement_id"]: r["status"] for r in rebuilt["results"]}["LIVE-SHADOW-01"] == effective
    shown = invoke("evidence", "show", b["run"]["id"][:8], "--store", store)
    assert "waived" not in shown.output.split("LIVE-SHADOW-01", 1)[1].split("\n", 1)[0], shown.output
    assert invoke("evidence", "verify", "--store", store).exit_code == 0


def test_an_entry_without_a_target_is_set_aside_and_reported(tmp_path):
    """An attestation or waiver recorded before golive bound them applies to no run: the run
    names it and how to re-issue it."""
    from golive.ledger import Store
    from golive.ledger.keyring import append_authored
    from golive.ledger.people import load_person_key

    store = str(tmp_path / "store")
    _run(WORKSPACE, store, tmp_path / "first.json")
    key = enrol(invoke, "Ada Risk", "--store", store)
    person = load_person_key(key, PASSPHRASE)
    old = append_authored(Store(store), "waiver", {"requirement_id": "LIVE-SHADOW-01", "justification": "old",
                                                   "expires": SOON, "approver": "Ada Risk",
                                                   "plan": {"id": "live-trading-go-live", "version": "1.0"}}, person)
    doc = _run(WORKSPACE, store, tmp_path / "run.json")
    assert doc["by_id"]["LIVE-SHADOW-01"]["status"] == "missing"
    [warning] = [w for w in doc["warnings"] if "not applied" in w]
    assert f"waiver entry {old.seq} for LIVE-SHADOW-01 not applied: it is bound to no target" in warning
    assert "golive waive LIVE-SHADOW-01 --target DIR" in warning


def test_a_supporting_attestation_never_verifies_a_checked_requirement(tmp_path):
    store = str(tmp_path / "store")
    _run(WORKSPACE, store, tmp_path / "first.json")
    enrol(invoke, "Ada Risk", "--store", store)
    before = _run(WORKSPACE, store, tmp_path / "before.json")["by_id"]["RISK-10"]
    res = invoke("attest", "RISK-10", "--by", "Ada Risk", "--note", "dashboards reviewed", "--supporting",
                 "--store", store, "--target", WORKSPACE)
    assert res.exit_code == 0, res.output
    after = _run(WORKSPACE, store, tmp_path / "after.json")["by_id"]["RISK-10"]
    assert after["status"] == before["status"] and after.get("checker") != "attestation"


def test_the_target_is_required_and_must_exist(tmp_path):
    res = invoke("waive", "LIVE-SHADOW-01", "--approver", "Ada Risk", "--reason", "x", "--expires", SOON,
                 "--store", tmp_path / "store")
    assert res.exit_code == 2 and "--target" in res.output
    res = invoke("waive", "LIVE-SHADOW-01", "--approver", "Ada Risk", "--reason", "x", "--expires", SOON,
                 "--store", tmp_path / "store", "--target", tmp_path / "nowhere")
    assert res.exit_code == 2 and "nowhere does not exist" in res.output
    assert not (tmp_path / "store").exists()  # refused before the store is opened


@pytest.fixture(scope="module")
def plan():
    from golive.plan import load

    return load(None)


def _entry(scope_plan, rid: str, identity: str = "system:desk-a") -> dict:
    from golive.ledger.scope import binding

    req = next(r for r in scope_plan.requirements if r.id == rid)
    return {"seq": 7, "requirement_id": rid, **binding(identity, "/w", scope_plan, req)}


def test_a_new_plan_version_keeps_an_entry_only_while_its_requirement_is_unchanged(plan):
    from golive.ledger.scope import RunScope

    entry = _entry(plan, "LIVE-SHADOW-01")
    assert RunScope.of("system:desk-a", plan).judge(entry) is None
    assert RunScope.of("system:desk-b", plan).judge(entry) == "other-target"

    newer = copy.deepcopy(plan)
    newer.version = "1.1"
    assert RunScope.of("system:desk-a", newer).judge(entry) is None  # same requirement, new version

    changed = copy.deepcopy(newer)
    req = next(r for r in changed.requirements if r.id == "LIVE-SHADOW-01")
    req.statement += " Two weeks from now on."
    why = RunScope.of("system:desk-a", changed).judge(entry)
    assert why == "LIVE-SHADOW-01 changed between plan v1.0 (when it was issued) and v1.1"

    other = copy.deepcopy(plan)
    other.id = "another-plan"
    assert "issued under plan live-trading-go-live" in RunScope.of("system:desk-a", other).judge(entry)
    applies, aside = RunScope.of("system:desk-a", changed).split("waiver", [entry, _entry(plan, "AUD-07", "git:0")])
    assert applies == [] and [a.seq for a in aside] == [7]  # another target's entry is not listed
