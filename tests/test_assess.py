"""golive assess (issue 18.3): a framework's self-assessment written from the verified ledger.

One store, built once for the module from the degraded demo workspace (only the requirements
the catalogs map are run, at the demo's clock): a first run of RISK-04 alone, then a waiver for
RISK-01 and an attestation of AUD-07 by Ada Risk, then the mapped requirements, signed off GO by
Carl (independent of the waiver Ada approved). The assessment must use the second run (the latest of the target) and list the first;
every item gets a conclusion, none without evidence is met, every cited entry is in the ledger
with that hash, and `golive evidence verify` accepts the store.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import date, timedelta, timezone, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

import golive.cli  # noqa: F401  (loads the command modules before cli_run is imported)
from golive import demo as demo_ws
from golive.cli import cli
from golive.cli_run import execute_run
from golive.ledger.cli_authored import waive
from golive.plan import load
from golive.plan.catalog import load_catalogs
from golive.plan.framework_coverage import CONCLUSIONS, MET, NO_EVIDENCE, SATISFIED
from ledger_guard import unguard_sqlite
from people import co_approve, enrol
from test_demo_verdict_covers import pdf_text

ROOT = Path(__file__).parents[1]
FRAMEWORKS = {"rts6": "rts6", "15c3-5": "sec-15c3-5", "finra-15-09": "finra-15-09"}
TODAY = datetime.now(timezone.utc).date()
PERIOD = f"{TODAY - timedelta(days=1)}..{TODAY + timedelta(days=1)}"  # runs start on the real clock
WAIVER_EXPIRES = (date.today() + timedelta(days=30)).isoformat()
# waivers and attestations are bound to a target where `golive waive` takes --target (issue 16.3)
TARGET_BOUND = any(p.name == "target" for p in waive.params)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def ok(*args):
    res = invoke(*args)
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("assess")
    ws, store = root / "ws", root / "store"
    demo_ws.build(ws, "degraded", 7)
    plan = load(None)
    mapped = tuple(sorted({rid for fw in load_catalogs(None, plan) for item in fw.items for rid in item.requirements}))
    clock = lambda: demo_ws.DEMO_NOW  # noqa: E731
    execute_run(ws, None, ("RISK-04",), 1, None, None, 300.0, quiet=True, store_dir=store, clock=clock)
    enrol(invoke, "Ada Risk", "--store", store)
    target = ("--target", ws) if TARGET_BOUND else ()
    waived = ok("waive", "RISK-01", "--approver", "Ada Risk", "--reason", "limit raised after review", "--expires",
                WAIVER_EXPIRES, "--store", store, *target)
    co_approve(invoke, waived.output, "RISK-01", "--store", store, *target)  # P1: a second person
    ok("attest", "AUD-07", "--by", "Ada Risk", "--note", "independent review of the go-live evidence done",
       "--store", store, *target)
    doc, _ = execute_run(ws, None, mapped, 1, None, None, 300.0, quiet=True, store_dir=store, clock=clock)
    enrol(invoke, "Carl Comp", "--store", store, role="compliance")  # independent of the waiver Ada approved
    ok("signoff", doc["run"]["id"], "--decision", "go", "--note", "controls reviewed", "--by", "Carl Comp",
       "--store", store)
    return store


@pytest.fixture(scope="module")
def assessments(store, tmp_path_factory):
    """Per framework name: the assessment's JSON (from the PDF's build) and its Markdown text."""
    from golive.assess.build import build_assessment
    from golive.assess.cli import resolve_framework
    from golive.assess.period import parse_period
    from golive.ledger import open_store

    out = tmp_path_factory.mktemp("assess-out")
    plan = load(None)
    frameworks = load_catalogs(None, plan)
    found = {}
    for name in FRAMEWORKS:
        res = ok("assess", "--framework", name, "--period", PERIOD, "--store", store, "--out", out, "--format", "md")
        md_path = Path(res.stdout.strip().splitlines()[-1])
        opened = open_store(store)
        try:
            model = build_assessment(opened, plan, resolve_framework(frameworks, name), parse_period(PERIOD))
        finally:
            opened.close()
        found[name] = (model, md_path.read_text(encoding="utf-8"))
    return found


def ledger_hashes(store: Path) -> dict[int, str]:
    with sqlite3.connect(store / "ledger.db") as conn:
        return dict(conn.execute("SELECT seq, entry_hash FROM ledger_entries"))


@pytest.mark.parametrize("name", list(FRAMEWORKS))
def test_every_item_is_concluded_and_none_without_evidence_is_met(assessments, name):
    model, text = assessments[name]
    catalog = next(fw for fw in load_catalogs(None, load(None)) if fw.id == FRAMEWORKS[name])
    assert [i.id for i in model.items] == [i.id for i in catalog.items]
    for item in model.items:
        assert item.conclusion in CONCLUSIONS, item.id
        assert f"({item.id})" in text and f"Conclusion: {item.conclusion}" in text
        if item.gap:
            assert item.conclusion == NO_EVIDENCE and item.needs_people, item.id
        if item.conclusion == MET:
            assert item.requirements and all(l.state == SATISFIED and l.citation for l in item.requirements), item.id
            assert not item.uncovered, item.id
        if not any(l.state == SATISFIED for l in item.requirements):
            assert item.conclusion in ("not met", NO_EVIDENCE), item.id
    assert sum(model.counts.values()) == len(model.items)


def test_the_latest_run_of_the_target_is_used_and_the_earlier_one_listed(assessments):
    model, text = assessments["rts6"]
    used, other = model.used_runs, model.other_runs
    assert len(used) == 1 and len(other) == 1
    assert other[0].selection == ("RISK-04",) and "superseded by run " + used[0].run_id in other[0].note
    assert {l.run_id for i in model.items for l in i.requirements} == {used[0].run_id}
    assert used[0].run_id in text and other[0].run_id in text


def test_cited_entries_exist_in_the_ledger_and_it_verifies(store, assessments):
    hashes = ledger_hashes(store)
    cited = 0
    for model, text in assessments.values():
        from golive.assess.render import cited_entries

        for c in cited_entries(model):
            assert hashes[c.seq] == c.digest, c
            assert f"| {c.seq} | {c.kind} | {c.digest} |" in text
            cited += 1
    assert cited > 20
    res = invoke("evidence", "verify", "--store", store)
    assert res.exit_code == 0 and "OK" in res.output, res.output


def test_waiver_attestation_actions_and_signoff_are_reported(assessments, store):
    model, text = assessments["rts6"]
    hashes = ledger_hashes(store)
    lines = {(l.requirement_id, l.status) for i in model.items for l in i.requirements}
    assert ("RISK-01", "waived") in lines
    waiver = next(w for i in model.items for w in i.waivers if w.requirement_id == "RISK-01")
    assert waiver.approver == "Ada Risk" and waiver.expires == WAIVER_EXPIRES
    assert hashes[waiver.citation.seq] == waiver.citation.digest and waiver.citation.kind == "waiver"
    action = next(a for a in model.actions if a.requirement_id == "RISK-01")
    assert action.due == WAIVER_EXPIRES and action.owner == "risk"  # the RISK section's owner role in the plan
    # every action names the plan's owner role (each packaged section has one), in the document too
    plan_owner = {r.id: r.owner for r in load(None).requirements}
    assert model.actions and all(a.owner == plan_owner[a.requirement_id] != "unassigned" for a in model.actions)
    assert "operations" in {a.owner for a in model.actions}  # e.g. OPS-01, RISK-06 (overrides its section)
    assert f"| RISK-01 | {action.what} | {', '.join(action.item_ids)} | risk | {WAIVER_EXPIRES} |" in text
    att = next(t for i in model.items for t in i.attestations if t.requirement_id == "AUD-07")
    assert att.attested_by == "Ada Risk" and att.used_by_run and hashes[att.citation.seq] == att.citation.digest
    failing = [a for a in model.actions if a.what.startswith("make ")]
    assert failing and all(a.citation and a.due == "none" for a in failing)
    page = model.signoffs[0]
    assert [(r.name, r.decision, r.ok) for r in page.view.rows] == [("Carl Comp", "GO", True)]
    assert hashes[page.entries[0].seq] == page.entries[0].digest
    assert "Carl Comp" in text.split("## Sign-off", 1)[1]


def test_pdf_holds_the_items_and_their_citations_and_15c3_5_is_the_review_pack(store, assessments, tmp_path):
    res = ok("assess", "--framework", "15c3-5", "--period", PERIOD, "--store", store, "--out", tmp_path,
             "--format", "pdf")
    pdf = Path(res.stdout.strip())
    text = pdf_text(pdf)
    flat = text.replace(" ", "")
    model, _ = assessments["15c3-5"]
    assert "annual review pack" in text and "certifies nothing" in text
    for item in model.items:
        assert item.id in flat, item.id
        for line in item.requirements:
            assert f"#{line.citation.seq}" in flat and line.citation.digest[:16] in flat, line
    from golive.assess.render import cited_entries

    for c in cited_entries(model):
        assert c.digest in flat, c
    from pypdf import PdfReader

    embedded = json.loads(PdfReader(pdf).attachments["assessment.json"][0])  # machine-readable twin
    assert [(i["id"], i["conclusion"]) for i in embedded["items"]] == [(i.id, i.conclusion) for i in model.items]


def test_markdown_escapes_a_malicious_requirement_and_item_title(store, tmp_path):
    plan_dir = tmp_path / "plan"
    shutil.copytree(ROOT / "requirements", plan_dir)
    evil = '<script>alert(1)</script> [click](https://evil.example) | cell ![x](x.png)'
    section = next(p for p in plan_dir.rglob("*.yaml") if re.search(r"^\s*- id: RISK-04\s*$", p.read_text(), re.M))
    body = section.read_text()
    start = re.search(r"^(\s*)- id: RISK-04\s*$", body, re.M)
    title = re.compile(r"^(\s*)title: .*$", re.M).search(body, start.end())
    section.write_text(body[:title.start()] + f"{title.group(1)}title: {json.dumps(evil)}" + body[title.end():])
    catalog = plan_dir / "frameworks" / "rts6.yaml"
    catalog.write_text(catalog.read_text().replace("title: Kill functionality", f"title: {json.dumps(evil)}", 1))
    res = ok("assess", "--framework", "rts6", "--period", PERIOD, "--store", store, "--out", tmp_path,
             "--format", "md,pdf", "--plan", plan_dir)
    md_path = next(Path(p) for p in res.stdout.split() if p.endswith(".md"))
    text = md_path.read_text()
    assert text.count("&lt;script>alert(1)&lt;/script>") >= 2  # the item heading and the requirement line
    assert "<script" not in text
    evil_lines = [line for line in text.splitlines() if "evil" in line]
    assert len(evil_lines) >= 2
    for line in evil_lines:  # no bracket opens a link or image, no bar splits a cell, no bare URL links
        assert not re.search(r"(?<!\\)[\[\]|]", line.strip().strip("|").replace(" | ", " ")), line
        assert "https://" not in line
    assert r"\[click\](https\://evil" in text
    pdf_path = next(Path(p) for p in res.stdout.split() if p.endswith(".pdf"))
    assert "<script>alert(1)</script>" in pdf_text(pdf_path)  # shown as text, never run


def test_input_errors_exit_2_with_a_message(store, tmp_path):
    res = invoke("assess", "--framework", "mifid9", "--period", PERIOD, "--store", store, "--out", tmp_path)
    assert res.exit_code == 2 and "unknown framework 'mifid9'" in res.output
    assert all(n in res.output for n in ("rts6", "15c3-5", "finra-15-09"))
    for bad in ("2026-01-01", "2026-13-01..2026-12-31", "2026-12-31..2026-01-01"):
        res = invoke("assess", "--framework", "rts6", "--period", bad, "--store", store, "--out", tmp_path)
        assert res.exit_code == 2 and "period" in res.output, (bad, res.output)
    res = invoke("assess", "--framework", "rts6", "--period", "2020-01-01..2020-12-31", "--store", store,
                 "--out", tmp_path)
    assert res.exit_code == 2 and "no finished, checkpointed run started in 2020-01-01..2020-12-31" in res.output
    assert "the ledger holds 2 finished run(s)" in res.output
    res = invoke("assess", "--framework", "rts6", "--period", PERIOD, "--store", tmp_path / "none", "--out", tmp_path)
    assert res.exit_code == 2 and "no evidence store" in res.output
    assert not list(tmp_path.glob("golive-assess-*"))


def test_a_tampered_ledger_is_refused_and_nothing_is_written(store, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    db = copy / "ledger.db"
    unguard_sqlite(db)
    with sqlite3.connect(db) as conn:
        seq, payload = next((seq, bytes(p)) for seq, p in conn.execute(
            "SELECT seq, payload FROM ledger_entries WHERE kind = 'result' ORDER BY seq") if b'"status":"fail"' in bytes(p))
        conn.execute("UPDATE ledger_entries SET payload = ? WHERE seq = ?",
                     (bytes(payload).replace(b'"status":"fail"', b'"status":"pass"'), seq))
    out = tmp_path / "out"
    res = invoke("assess", "--framework", "rts6", "--period", PERIOD, "--store", copy, "--out", out)
    assert res.exit_code == 1, res.output
    assert f"entry {seq}" in res.output and "does not verify" in res.output
    assert not out.exists()
    assert invoke("evidence", "verify", "--store", copy).exit_code == 1


@given(st.text(max_size=40) | st.builds(lambda a, b: f"{a}..{b}", st.dates(), st.dates()))
def test_a_period_parses_or_is_refused_with_a_message(text):
    from golive.assess.period import PeriodError, parse_period

    try:
        period = parse_period(text)
    except PeriodError as exc:
        assert "period" in str(exc)
    else:
        assert period.start <= period.end and parse_period(str(period)) == period
        assert period.holds(period.first_moment) and period.holds(period.last_moment)


def _evidence(run_id: str, target: str, results: list[dict]):
    from golive.assess.ledger import RecordedRun, RunEvidence
    from golive.assess.model import Citation

    run = RecordedRun(run_id, "2026-12-01T10:00:00+00:00", target, "plan 1", (), "2026-12-01T10:05:00+00:00")
    document = {"run": {"id": run_id, "started": run.started, "finished": run.finished}, "results": results}
    cites = {r["requirement_id"]: Citation(10 + n, f"{n:064x}", "result") for n, r in enumerate(results)}
    return RunEvidence(run, document, cites, {}, set())


def test_an_item_met_on_one_target_and_unobserved_on_another_is_partly_met_and_a_failure_anywhere_is_not_met():
    from golive.assess.conclude import assess_item
    from golive.plan.catalog import CatalogItem

    plan = load(None)
    item = CatalogItem("X-1", "X 1", "kill switch", "text", requirements=("RISK-04",))
    one = _evidence("r1", "system:a", [{"requirement_id": "RISK-04", "status": "pass"}])
    other = _evidence("r2", "system:b", [])
    failing = _evidence("r3", "system:c", [{"requirement_id": "RISK-04", "status": "fail", "reason": "slow"}])
    assert assess_item(item, plan, [one], []).conclusion == MET
    both = assess_item(item, plan, [one, other], [])
    assert both.conclusion == "partly met" and [l.citation is None for l in both.requirements] == [False, True]
    worst = assess_item(item, plan, [one, failing], [])
    assert worst.conclusion == "not met" and worst.actions[0].what.startswith("make RISK-04 pass on system:c")
    gap = CatalogItem("X-2", "X 2", "staffing", "text", gap="no requirement")
    assert assess_item(gap, plan, [one], []).conclusion == NO_EVIDENCE


def test_every_failing_mapped_result_is_reported_as_not_met_with_an_action_citing_it(store, assessments):
    """What the degraded demo breaks (a P1 limit breach, a missing attestation, and whatever
    faults the demo injects for the catalogs' requirements) reaches the document: the item is
    not met and an open action cites the failing result's entry."""
    hashes = ledger_hashes(store)
    seen = {}
    for name, (model, text) in assessments.items():
        failing = [(item, line) for item in model.items for line in item.requirements if line.state == "failing"]
        seen[name] = {line.requirement_id for _, line in failing}
        for item, line in failing:
            assert item.conclusion == "not met", (item.id, line.requirement_id)
            action = next(a for a in item.actions if a.requirement_id == line.requirement_id)
            assert action.citation == line.citation and hashes[line.citation.seq] == line.citation.digest
            assert f"make {line.requirement_id} pass" in text
    assert "OPS-01" in seen["rts6"], seen  # the degraded demo's failing operations check (RTS 6 Art. 8)


def test_a_target_reads_with_its_workspace_and_an_attestation_without_expiry_says_so(assessments):
    """Seen on freqtrade and nautilus_trader in one store: rows and actions named only
    'git:<root commit>', and AUD-07's attestation read 'valid until none'."""
    from golive.assess.ledger import RecordedRun

    run = RecordedRun("r1", "2026-12-01T10:00:00+00:00", "/work/real/freqtrade", "plan 1", (),
                      stored={"run": {"provenance": {"target_identity": "git:e5d693ed"}}})
    assert run.target_key == "git:e5d693ed" and run.target_label == "git:e5d693ed (/work/real/freqtrade)"
    bare = RecordedRun("r2", "2026-12-01T10:00:00+00:00", "system:desk", "plan 1", ())
    assert bare.target_label == "system:desk"  # the path is the identity: said once
    _model, text = assessments["rts6"]
    assert "valid until none" not in text
    assert re.search(r"AUD-07: Ada Risk on \d{4}-\d\d-\d\d, no expiry", text)
    assert "it is not a finding of this period's runs" in text  # the catalog's note is not read as a result


def test_a_later_run_of_a_few_requirements_does_not_hide_the_earlier_evidence():
    """Seen on freqtrade: `golive run --only RISK-09,AUD-07,RISK-01` after the whole-plan runs made
    every other requirement 'not run' for that target, and 'not run' lines had no open action
    (74 actions fell to 39). Each requirement is read from the newest run that recorded it."""
    from golive.assess.conclude import assess_item
    from golive.assess.ledger import TargetRuns
    from golive.plan.catalog import CatalogItem

    plan = load(None)
    full = _evidence("full", "system:a", [{"requirement_id": "RISK-04", "status": "pass"},
                                          {"requirement_id": "RISK-01", "status": "fail", "reason": "limit"}])
    slice_ = _evidence("slice", "system:a", [{"requirement_id": "RISK-01", "status": "pass"}])
    slice_.run.started = "2026-12-02T10:00:00+00:00"  # the newer run, of one requirement
    slice_.run.selection = ("RISK-01",)
    item = CatalogItem("X-1", "X 1", "limits", "text", requirements=("RISK-04", "RISK-01", "RISK-02"))
    done = assess_item(item, plan, [full, slice_], [])
    by_req = {l.requirement_id: l for l in done.requirements}
    assert (by_req["RISK-01"].run_id, by_req["RISK-01"].status) == ("slice", "pass")  # the newest record
    assert (by_req["RISK-04"].run_id, by_req["RISK-04"].status) == ("full", "pass")   # not hidden by the slice
    assert by_req["RISK-02"].status == "not run" and by_req["RISK-02"].citation is None
    assert done.conclusion == "partly met" and "over 2 run(s)" in done.basis
    assert [a.what for a in done.actions] == ["run RISK-02 on system:a (no run of the period recorded it)"]
    # the same through TargetRuns, reading a run only when a requirement needs it
    read = []
    group = TargetRuns([slice_.run, full.run], lambda run: read.append(run.run_id) or {"slice": slice_, "full": full}[run.run_id])
    assert group.for_requirement("RISK-01") is slice_ and read == ["slice"]
    assert group.for_requirement("RISK-04") is full and read == ["slice", "full"]
    older = _evidence("older", "system:a", [{"requirement_id": "RISK-02", "status": "pass"}])
    older.run.started = "2026-11-30T10:00:00+00:00"
    behind_full = TargetRuns.of_evidence([older, full, slice_])[0]
    # a whole-plan run that did not record RISK-02 ends the walk: older evidence does not stand for it
    assert behind_full.for_requirement("RISK-02") is slice_
