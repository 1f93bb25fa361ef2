"""Reports are rendered from ledger-verified results (issue 15.4): `golive report RUN` and a
results file carrying run.ledger are checked against the ledger before rendering.

One real run of the reference workspace is recorded (with a signed waiver for RISK-02, which
the workspace leaves missing); each test works on its own copy of that store and changes the
derived document the way a forger would, keeping its summary consistent.
"""
from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from golive.cli import cli
from golive.ledger import bind
from golive.ledger.store import open_store

from ledger_guard import unguard_sqlite
from people import co_approve, enrol

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"
EXPIRES = (date.today() + timedelta(days=30)).isoformat()


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("bound") / "evidence"
    store.mkdir()
    assert invoke("keys", "init", "--store", store).exit_code in (0, 2)  # created, or created by add-person
    enrol(invoke, "Ada Risk", "--store", store)
    res = invoke("waive", "RISK-02", "--approver", "Ada Risk", "--reason", "limits reviewed by hand this quarter",
                 "--expires", EXPIRES, "--store", store, "--target", WORKSPACE)
    assert res.exit_code == 0, res.output
    co_approve(invoke, res.output, "RISK-02", "--store", store, "--target", WORKSPACE)  # P1: a second person
    res = invoke("run", "--target", WORKSPACE, "--store", store, "-q")
    assert res.exit_code == 1, res.output  # the reference workspace has gaps
    return store


@pytest.fixture
def store(recorded, tmp_path) -> Path:
    copy = tmp_path / "evidence"
    shutil.copytree(recorded, copy)
    return copy


def run_file(store: Path) -> Path:
    (path,) = (store / "runs").glob("*.json")
    return path


def edit(path: Path, change) -> dict:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return doc


def result(doc: dict, rid: str) -> dict:
    return next(r for r in doc["results"] if r["requirement_id"] == rid)


def flip_status(doc: dict, rid: str, to: str) -> None:
    """Change a status and keep the summary consistent, as a careful forger would."""
    r = result(doc, rid)
    counts = doc["summary"]["by_status"]
    counts[r["status"]] -= 1
    counts[to] = counts.get(to, 0) + 1
    r["status"] = to


def report(store: Path, what, *extra):
    return invoke("report", what, "--store", store, "-f", "json", "-o", store.parent / "out.json", *extra)


def test_unchanged_run_renders_and_says_it_was_verified(store):
    doc = json.loads(run_file(store).read_text())
    assert result(doc, "RISK-02")["status"] == "waived"  # the signed waiver was applied by the run
    res = invoke("report", doc["run"]["id"][:8], "--store", store, "-f", "html", "-o", store.parent / "r.html")
    assert res.exit_code == 0, res.output
    html = (store.parent / "r.html").read_text()
    assert "Ledger check</th><td>verified against the ledger at" in html
    assert f"the {len(doc['results'])} results match" in html


def test_a_flipped_status_is_refused_naming_the_requirement_and_entry(store):
    path = run_file(store)
    doc = edit(path, lambda d: flip_status(d, "RISK-01", "pass"))
    res = report(store, doc["run"]["id"])
    assert res.exit_code == bind_exit()
    assert f"runs/{path.name} says RISK-01 pass; the ledger's entry" in res.output
    assert "says missing: the derived file was changed" in res.output and "--from-ledger" in res.output
    assert not (store.parent / "out.json").exists()


def test_a_flipped_metric_is_refused(store):
    doc = edit(run_file(store), lambda d: result(d, "PRE-ALGO-01")["metrics"].update(passed=10))
    res = report(store, doc["run"]["id"])
    assert res.exit_code == bind_exit()
    assert "PRE-ALGO-01 metrics" in res.output and '"passed": 10' in res.output


def test_a_forged_waiver_is_refused_and_a_signed_one_is_not_an_alarm(store):
    def forge(d):
        r = result(d, "RISK-03")
        flip_status(d, "RISK-03", "waived")
        r["recorded_status"] = "missing"
    doc = edit(run_file(store), forge)
    res = report(store, doc["run"]["id"])
    assert res.exit_code == bind_exit()
    assert "RISK-03 waived" in res.output and "no signed waiver in force" in res.output


def test_changed_counts_or_head_are_refused(store):
    path = run_file(store)
    doc = edit(path, lambda d: d["run"]["ledger"].update(size=d["run"]["ledger"]["size"] - 1))
    res = report(store, doc["run"]["id"])
    assert res.exit_code == bind_exit() and "run.ledger.size" in res.output
    doc["run"]["ledger"]["size"] += 1
    doc["coverage"]["by_section"][0]["verified"] += 1
    path.write_text(json.dumps(doc))
    res = report(store, doc["run"]["id"])
    assert res.exit_code == bind_exit() and f"coverage.by_section {doc['coverage']['by_section'][0]['id']} verified" \
        in res.output
    doc["coverage"]["by_section"][0]["verified"] -= 1
    doc["summary"]["by_status"]["pass"] += 6  # only the headline counts changed
    path.write_text(json.dumps(doc))
    res = report(store, doc["run"]["id"])
    assert res.exit_code == bind_exit()
    assert f"says summary.by_status pass {doc['summary']['by_status']['pass']}; the ledger's run-finished entry" \
        in res.output


def test_from_ledger_renders_the_ledgers_truth(store):
    original = json.loads(run_file(store).read_text())
    doc = edit(run_file(store), lambda d: [flip_status(d, rid, "pass") for rid in ("RISK-01", "RISK-04", "AUD-03")])
    res = report(store, doc["run"]["id"], "--from-ledger")
    assert res.exit_code == 0, res.output
    rendered = json.loads((store.parent / "out.json").read_text())
    with open_store(store).read() as conn:
        from sqlalchemy import text
        (finished,) = conn.execute(text("SELECT payload FROM ledger_entries WHERE run_id = :r AND "
                                        "kind = 'run-finished'"), {"r": doc["run"]["id"]}).one()
    ledger_counts = {k: v for k, v in json.loads(bytes(finished))["by_status"].items() if v}
    shown = {s: n for s, n in _by_status(rendered).items() if n}
    waived = shown.pop("waived")
    assert waived == 1 and shown.get("missing", 0) + waived == ledger_counts["missing"]
    assert {**shown, "missing": shown["missing"] + waived} == ledger_counts
    assert shown == {k: v for k, v in original["summary"]["by_status"].items() if v and k != "waived"}


def _by_status(rendered: dict) -> dict:
    """The status counts a json report prints (its results document's summary)."""
    summary = rendered.get("summary") or rendered.get("document", {}).get("summary")
    return dict(summary["by_status"])


def test_a_results_file_is_checked_when_a_store_is_given_and_marked_when_none_is(store, tmp_path, monkeypatch):
    copy = tmp_path / "results.json"
    shutil.copy(run_file(store), copy)
    edit(copy, lambda d: flip_status(d, "RISK-05", "fail"))
    res = invoke("report", copy, "--store", store, "-f", "md", "-o", tmp_path / "r.md")
    assert res.exit_code == bind_exit() and "RISK-05 fail; the ledger's entry" in res.output
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # no ./evidence here
    monkeypatch.delenv("GOLIVE_STORE", raising=False)
    monkeypatch.delenv("GOLIVE_DB", raising=False)
    res = invoke("report", copy, "-f", "md", "-o", tmp_path / "r.md")
    assert res.exit_code == 0, res.output
    assert "# ledger check: NOT verified against a ledger" in (tmp_path / "r.md").read_text()


def test_a_tampered_ledger_is_refused_before_rendering(store):
    """The document matches an entry whose payload was edited in the database: the ledger no
    longer verifies, and that is what the refusal says."""
    import sqlite3

    doc = edit(run_file(store), lambda d: flip_status(d, "RISK-01", "pass"))
    with sqlite3.connect(store / "ledger.db") as conn:
        unguard_sqlite(conn)  # as an attacker who owns the database does
        seq, payload = next((s, bytes(p)) for s, p in conn.execute(
            "SELECT seq, payload FROM ledger_entries WHERE kind = 'result' ORDER BY seq") if b'"RISK-01"' in bytes(p))
        conn.execute("UPDATE ledger_entries SET payload = ? WHERE seq = ?",
                     (payload.replace(b'"status":"missing"', b'"status":"pass"'), seq))
    res = report(store, doc["run"]["id"])
    assert res.exit_code == bind_exit()
    assert "does not verify" in res.output and f"entry {seq}" in res.output


def bind_exit() -> int:
    from golive.report.cli import EXIT_MISMATCH
    return EXIT_MISMATCH


def test_check_document_accepts_the_run_and_rebuild_equals_it(store):
    doc = json.loads(run_file(store).read_text())
    ledger = open_store(store)
    binding = bind.check_document(ledger, doc)
    assert binding.results == len(doc["results"]) and binding.checkpoint_seq == doc["run"]["ledger"]["size"]
    assert bind.rebuild_document(ledger, doc, doc["run"]["id"]) == doc


def test_waivers_given_by_hand_are_said_to_be_unchecked(store, tmp_path):
    doc = json.loads(run_file(store).read_text())
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(f"- {{requirement_id: RISK-06, approver: Bob, reason: later, expires: '{EXPIRES}'}}\n")
    res = invoke("report", doc["run"]["id"], "--store", store, "--waivers", waivers, "-f", "md", "-o", tmp_path / "r.md")
    assert res.exit_code == 0, res.output
    line = next(x for x in (tmp_path / "r.md").read_text().splitlines() if x.startswith("# ledger check:"))
    assert "verified against the ledger" in line and "waivers from waivers.yaml (not checked" in line


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_changed_result_field_is_refused(recorded, data):
    """Whatever field of whatever result a forger changes, the check names that requirement."""
    doc = json.loads(run_file(recorded).read_text())
    ledger = open_store(recorded)
    compared = sorted(k for k in doc["results"][0] if k not in bind.NOT_COMPARED)
    i = data.draw(st.integers(0, len(doc["results"]) - 1), label="result")
    key = data.draw(st.sampled_from(["status", *compared]), label="field")
    target = doc["results"][i]
    rid = target["requirement_id"]
    if key == "status":
        target["status"] = data.draw(st.sampled_from([s for s in ("pass", "fail", "partial", "missing", "error",
                                                                   "skipped") if s != target["status"]]))
    else:
        target[key] = {"forged": target[key]}
    with pytest.raises(bind.Mismatch, match=rid):
        bind.check_document(ledger, doc)


def test_a_changed_earlier_run_is_left_out_of_the_comparison(store, tmp_path):
    """The changes section and trend come from earlier runs' documents: one that no longer
    matches the ledger is left out, and the report says so."""
    assert invoke("run", "--target", WORKSPACE, "--store", store, "-q").exit_code == 1
    first, second = sorted((store / "runs").glob("*.json"))
    run_id = json.loads(second.read_text())["run"]["id"]
    assert invoke("report", run_id, "--store", store, "-f", "md", "-o", tmp_path / "r.md").exit_code == 0
    assert f"Compared with run {json.loads(first.read_text())['run']['id']}" in (tmp_path / "r.md").read_text()
    edit(first, lambda d: flip_status(d, "RISK-01", "fail"))
    res = invoke("report", run_id, "--store", store, "-f", "md", "-o", tmp_path / "r.md")
    assert res.exit_code == 0, res.output
    text = (tmp_path / "r.md").read_text()
    line = next(x for x in text.splitlines() if x.startswith("# ledger check:"))
    assert "left out of the comparison and trend: earlier run" in line and "RISK-01 fail" in line
    assert f"Compared with run {json.loads(first.read_text())['run']['id']}" not in text
