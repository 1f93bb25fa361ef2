"""Go-live sign-off (issue 16.2): the plan's signoff policy keeps a run whose checks hold
INCOMPLETE until the required roles sign; the runner cannot be the only approver; a revoked key's
sign-off is reported; exported statements verify offline with `cryptography` alone. After every
command the store is scanned for people's private key material."""
from __future__ import annotations

import base64
import getpass
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from golive.cli import cli
from golive.run import readiness

from people import enrol, private_key_files

ROOT = Path(__file__).parents[1]
WORKSPACE = ROOT / "tests" / "fixtures" / "reference-workspace"
POLICY = "\nsignoff:\n  roles: [head-of-trading, risk, compliance]\n  quorum: 2\n"


def invoke(*args):
    res = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    store = next((Path(args[i + 1]) for i, a in enumerate(args[:-1]) if a == "--store"), None)
    if store is not None and store.exists():
        assert private_key_files(store) == [], f"private key material in the store after {args[:3]}"
    return res


@pytest.fixture(scope="module")
def signed_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("signoff")
    plan = tmp / "plan"
    shutil.copytree(ROOT / "requirements", plan)
    with open(plan / "plan.yaml", "a") as f:
        f.write(POLICY)
    store = tmp / "store"
    res = invoke("run", "-t", WORKSPACE, "--plan", plan, "--only", "PRE-PIPE-01", "--store", store, "-q",
                 "--json", tmp / "r.json")
    assert res.exit_code in (0, 1), res.output
    doc = json.loads((tmp / "r.json").read_text())
    enrol(invoke, "Ada Risk", "--store", store, role="risk")
    enrol(invoke, "Carl Comp", "--store", store, role="compliance")
    enrol(invoke, "Rita Runner", "--store", store, role="head-of-trading", login=getpass.getuser())
    return {"tmp": tmp, "store": store, "doc": doc, "run": doc["run"]["id"], "plan": plan}


@pytest.fixture(scope="module")
def signed_off(signed_run, tmp_path_factory):
    """A copy of the run's store signed go by Ada (risk) and Rita (head-of-trading, the runner)."""
    ctx = dict(signed_run, store=tmp_path_factory.mktemp("signed") / "store")
    shutil.copytree(signed_run["store"], ctx["store"])
    for by, note in (("Ada Risk", "risk limits reviewed"), ("Rita Runner", "ready to trade")):
        res = invoke("signoff", ctx["run"], "--decision", "go", "--note", note, "--by", by, "--store", ctx["store"])
        assert res.exit_code == 0, res.output
    return ctx


def _copy(ctx, tmp_path):
    copy = dict(ctx, store=tmp_path / "store")
    shutil.copytree(ctx["store"], copy["store"])
    return copy


def _status(ctx):
    res = invoke("signoff", "status", ctx["run"], "--store", ctx["store"], "--json")
    return res.exit_code, json.loads(res.output)


def test_policy_is_loaded_and_a_finished_run_awaits_the_roles(signed_run):
    verdict = signed_run["doc"]["summary"]["verdict"]
    assert verdict["policy"]["signoff"] == {"roles": ["head-of-trading", "risk", "compliance"], "quorum": 2}
    assert "awaiting sign-off: head-of-trading, risk, compliance" in verdict["reasons"]
    code, state = _status(signed_run)
    assert code == 1 and state["satisfied"] is False and state["signatures"] == []


def test_runner_alone_is_refused_then_counts_beside_an_independent_go(signed_run, tmp_path):
    ctx = _copy(signed_run, tmp_path)
    where = ("--store", ctx["store"])
    alone = invoke("signoff", ctx["run"], "--decision", "go", "--note", "checks reviewed", "--by", "Rita Runner", *where)
    assert alone.exit_code == 2 and "separation of duties" in alone.output and "ran the checks" in alone.output
    ada = invoke("signoff", ctx["run"], "--decision", "go", "--note", "risk limits reviewed", "--by", "Ada Risk", *where)
    assert ada.exit_code == 0, ada.output
    code, state = _status(ctx)
    assert code == 1 and state["missing"] == ["head-of-trading", "compliance"]
    assert state["reasons"][-1] == "awaiting sign-off: head-of-trading, compliance (1 more of them)"
    rita = invoke("signoff", ctx["run"], "--decision", "go", "--note", "ready to trade", "--by", "Rita Runner", *where)
    assert rita.exit_code == 0, rita.output
    code, state = _status(ctx)
    assert code == 0 and state["satisfied"] and state["missing"] == []
    assert [s["verified"] for s in state["signatures"]] == [True, True]
    assert state["signatures"][1]["conflicted"] and not state["signatures"][0]["conflicted"]
    assert not any(r.startswith("awaiting sign-off") for r in state["reasons"])
    verify = invoke("evidence", "verify", *where)
    assert verify.exit_code == 0, verify.output


def test_exported_statements_verify_offline_with_cryptography_only(signed_off):
    signed_run = signed_off
    out = signed_run["tmp"] / "signoff.json"
    res = invoke("signoff", "export", signed_run["run"], "--store", signed_run["store"], "-o", out)
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert len(data["statements"]) == 2
    stored = next((signed_run["store"] / "runs").glob(f"*_{signed_run['run']}.json"))
    for item in data["statements"]:
        statement = item["statement"]
        message = json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(item["public_key"]))
        key.verify(base64.b64decode(item["signature"]), message)  # raises if it does not verify
        assert hashlib.sha256(base64.b64decode(item["public_key"])).hexdigest() == item["key_id"]
        assert statement["run_id"] == signed_run["run"]
        assert statement["results"]["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()
        assert statement["plan"]["digest"] == signed_run["doc"]["run"]["plan"]["digest"]
        assert statement["target"]["identity"].startswith(("git:", "system:", "path:"))
        forged = dict(statement, decision="no-go" if statement["decision"] == "go" else "go")
        with pytest.raises(InvalidSignature):
            key.verify(base64.b64decode(item["signature"]),
                       json.dumps(forged, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


def test_no_go_by_a_required_role_makes_the_run_not_ready(signed_off, tmp_path):
    ctx = _copy(signed_off, tmp_path)
    res = invoke("signoff", ctx["run"], "--decision", "no-go", "--note", "shadow week not done", "--by", "Carl Comp",
                 "--store", ctx["store"])
    assert res.exit_code == 0, res.output
    code, state = _status(ctx)
    assert code == 1 and state["verdict"] == "NOT READY"
    assert "signed NO-GO by Carl Comp (compliance): shadow week not done" in state["reasons"]


def test_a_revoked_keys_signoff_is_reported(signed_off, tmp_path, monkeypatch):
    from golive.ledger import Store
    from golive.ledger.chain import NO_RUN, Ledger
    from golive.ledger.people import load_person_key, find_private_for, select_person
    from golive.ledger.signoff import run_facts, sign
    from people import PASSPHRASE

    ctx = _copy(signed_off, tmp_path)
    store = Store(ctx["store"])
    key_id, _info = select_person(store, "Carl Comp")
    res = invoke("keys", "revoke", key_id[:12], "--reason", "laptop stolen", "--store", ctx["store"])
    assert res.exit_code == 0, res.output
    refused = invoke("signoff", ctx["run"], "--decision", "go", "--note", "x", "--by", "Carl Comp", "--store", ctx["store"])
    assert refused.exit_code == 2 and "revoked" in refused.output
    # whoever holds the stolen key signs anyway, bypassing the CLI's and the library's checks
    monkeypatch.setattr("golive.ledger.signoff.append_authored", lambda st, kind, payload, author: Ledger(st).append(
        NO_RUN, kind, {**payload, "author_key_id": author.key_id}, [(author, "author")]))
    thief = load_person_key(find_private_for(key_id), PASSPHRASE)
    sign(store, run_facts(store, ctx["run"]), thief, "go", "all fine")
    verify = invoke("evidence", "verify", "--store", ctx["store"])
    assert verify.exit_code == 1 and "revoked before this entry" in verify.output
    code, state = _status(ctx)
    forged = state["signatures"][-1]
    assert code == 1 and forged["name"] == "Carl Comp" and not forged["verified"]
    assert forged["problem"].startswith("key revoked")


def test_verdict_needs_the_signoff_when_the_plan_asks_for_one():
    rows = [{"requirement_id": "A-1", "priority": "P1", "status": "pass", "reason": "", "covered": True}]
    policy = readiness.Policy.from_plan({}, {"roles": {"risk": 1, "compliance": 1}})
    awaiting = readiness.verdict(rows, policy, signed=True)
    assert awaiting["state"] == "INCOMPLETE" and awaiting["reasons"] == ["awaiting sign-off: risk, compliance"]
    assert awaiting["pending"] == []  # the sign-off is no requirement
    from golive.ledger.signoff import Signature, evaluate

    def sig(name, role, decision="go", conflicted=()):
        return Signature(1, name, role, name, decision, "n", "t", True, "", list(conflicted))

    half = evaluate(policy.signoff, [sig("ada", "risk")])
    assert readiness.verdict(rows, policy, signed=True, signoff=half)["reasons"] == ["awaiting sign-off: compliance"]
    done = evaluate(policy.signoff, [sig("ada", "risk"), sig("carl", "compliance")])
    assert readiness.verdict(rows, policy, signed=True, signoff=done)["state"] == "READY"
    only_runner = evaluate(policy.signoff, [sig("rita", "risk", conflicted=["ran"]), sig("ron", "compliance",
                                                                                          conflicted=["waiver"])])
    assert not only_runner["satisfied"] and "independent" in only_runner["reason"]
    assert readiness.verdict(rows, Policy_without := readiness.Policy(), signed=True)["state"] == "READY"
    assert "signoff" not in Policy_without.as_dict()  # no policy: behaviour as before


def test_plan_signoff_block_is_validated(tmp_path):
    from golive.plan import PlanError, load

    plan = tmp_path / "plan"
    shutil.copytree(ROOT / "requirements", plan)
    text = (plan / "plan.yaml").read_text()
    (plan / "plan.yaml").write_text(text + "\nsignoff:\n  roles: [risk, compliance]\n  quorum: 3\n")
    with pytest.raises(PlanError, match="quorum 3 exceeds the 2 roles"):
        load(plan)
    (plan / "plan.yaml").write_text(text + "\nsignoff:\n  roles: [Risk Officer]\n")
    with pytest.raises(PlanError, match="signoff"):
        load(plan)


def test_report_sign_off_page_shows_each_signature_and_its_verification(signed_off, tmp_path):
    signed_run = signed_off
    html = tmp_path / "report.html"
    res = invoke("report", signed_run["run"], "--store", signed_run["store"], "-f", "html", "-f", "md", "-o", tmp_path / "report")
    assert res.exit_code == 0, res.output
    page = (tmp_path / "report.html").read_text()
    sign_off = page[page.index('id="sign-off"'):]
    assert "Required by the plan: <strong>2 of head-of-trading, risk, compliance</strong>" in sign_off  # not a tailoring
    assert sign_off.count(">verified<") >= 2 and "Ada Risk" in sign_off and "Rita Runner" in sign_off
    md = (tmp_path / "report.md").read_text()
    assert "| Ada Risk | risk | GO |" in md and "| verified | yes |" in md
    assert html.exists()


def test_a_signoff_block_in_a_results_file_is_not_trusted(signed_off, tmp_path):
    stored = next((signed_off["store"] / "runs").glob(f"*_{signed_off['run']}.json"))
    doc = json.loads(stored.read_text())
    doc["signoff"] = {"required": {"roles": {"risk": 1}, "quorum": 1}, "satisfied": True, "missing": [],
                      "no_go": [], "reason": "", "signatures": [{"name": "Mallory", "role": "risk", "decision": "go",
                                                                 "verified": True, "seq": 1}]}
    doc["run"].pop("ledger", None)  # not bound to a store: nothing to read sign-offs from
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    res = invoke("report", forged, "-f", "md", "-o", tmp_path / "out.md")
    assert res.exit_code == 0, res.output
    md = (tmp_path / "out.md").read_text()
    assert "Mallory" not in md and "awaiting sign-off" in md


def test_names_and_notes_print_as_text_and_a_go_over_a_gap_is_noted(signed_run, tmp_path):
    """Seen on freqtrade: `signoff status` printed 'golive.toml  profiles' for a reason reading
    'golive.toml [settings] profiles' (console markup ate it), and a GO over a NOT READY run said
    nothing of the verdict."""
    ctx = _copy(signed_run, tmp_path)
    enrol(invoke, "Eve [b]Ops[/b]", "--store", ctx["store"], role="compliance")
    go = invoke("signoff", ctx["run"], "--decision", "go", "--note", "ok", "--by", "Ada Risk", "--store", ctx["store"])
    assert go.exit_code == 0, go.output
    state = signed_run["doc"]["summary"]["verdict"]["state"]
    assert state != "READY" and f"note: the run's verdict is {state} (" in go.output
    assert "this GO does not change it" in go.output
    no_go = invoke("signoff", ctx["run"], "--decision", "no-go", "--note", "[red]shadow[/red] week <b>", "--by",
                   "Eve [b]Ops[/b]", "--store", ctx["store"])
    assert no_go.exit_code == 0, no_go.output
    assert "note: the run's verdict" not in no_go.output  # only a GO is noted
    res = invoke("signoff", "status", ctx["run"], "--store", ctx["store"])
    assert res.exit_code == 1
    assert "NO-GO: signed NO-GO by Eve [b]Ops[/b] (compliance): [red]shadow[/red] week <b>" in res.output


def test_without_a_policy_or_signatures_the_sign_off_page_says_none_is_recorded():
    """Seen in an assessment of nautilus_trader: 'the signatures below are on record' above
    'No sign-off is recorded for this run'."""
    from golive.report.signoff_view import signoff_view

    empty = signoff_view({"signoff": {"required": None, "signatures": [], "no_go": []}})
    assert empty.state == "the plan asks for no sign-off; none is recorded" and not empty.rows
    signed = signoff_view({"signoff": {"required": None, "no_go": [], "signatures": [
        {"name": "Ada Risk", "role": "risk", "decision": "go", "time": "2026-12-03T07:00:00Z", "verified": True,
         "conflicted": [], "key_id": "ab" * 32, "seq": 9}]}})
    assert signed.state == "the plan asks for no sign-off; the signatures below are on record" and signed.rows


def test_sign_off_page_names_where_its_policy_comes_from():
    from golive.report.signoff_view import signoff_view

    policy = {"summary": {"verdict": {"policy": {"signoff": {"roles": ["risk", "compliance"]}}}}}
    assert signoff_view(policy).source == "the plan"
    tailored = {**policy, "tailoring": {"changes": [
        {"requirement": "(plan)", "kind": "signoff", "reason": "desk approvers sign UAT off"}]}}
    view = signoff_view(tailored)
    assert view.source == "the tailoring file (desk approvers sign UAT off)"
    assert view.required == "all of risk, compliance"
