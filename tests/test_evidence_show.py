"""`golive evidence show`: the effective status (waived, attested) beside the recorded one, whole
reasons, artifacts with digest and size, and the memos and attached files of waivers and
attestations with their digests -- as text and as --json, with evidence never read as markup."""
from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive.cli import cli

from people import co_approve, enrol

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"
ONLY = ("--only", "AUD-07", "--only", "LIVE-SHADOW-01", "--only", "RISK-10")
SOON = (date.today() + timedelta(days=30)).isoformat()
MEMO = "validation memo [red]not markup[/red] | *x* <b>y</b>\n"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def shown(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("show")
    store = tmp / "store"
    first = invoke("run", "-t", WORKSPACE, "--store", store, "-q", *ONLY)
    assert first.exit_code == 1, first.output
    enrol(invoke, "Ada Risk", "--store", store)
    memo = tmp / "validation-memo.txt"
    memo.write_text(MEMO)
    for args in (("attest", "AUD-07", "--note", "report [bold]reviewed[/bold]", "--role", "Head of Validation",
                  "--file", memo),
                 ("attest", "RISK-10", "--note", "dashboards reviewed", "--supporting", "--file", memo),
                 ("waive", "LIVE-SHADOW-01", "--reason", "shadow week booked for Q1", "--expires", SOON)):
        res = invoke(*args, "--by", "Ada Risk", "--store", store, "-t", WORKSPACE)
        assert res.exit_code == 0, res.output
    co_approve(invoke, res.output, "LIVE-SHADOW-01", "--store", store, "--target", WORKSPACE)  # P1: a second person
    second = invoke("run", "-t", WORKSPACE, "--store", store, "-q", *ONLY, "--json", tmp / "r.json")
    assert second.exit_code == 1, second.output
    run_id = json.loads((tmp / "r.json").read_text())["run"]["id"]
    doc = json.loads((tmp / "r.json").read_text())
    return {"store": store, "run": run_id, "memo_sha": hashlib.sha256(MEMO.encode()).hexdigest(), "doc": doc,
            "reason": {r["requirement_id"]: r["reason"] for r in doc["results"]}}


def test_a_runs_results_show_recorded_and_effective_status_and_whole_reasons(shown):
    res = invoke("evidence", "show", shown["run"][:8], "--store", shown["store"], "--json")
    assert res.exit_code == 0, res.output
    rows = {r["requirement_id"]: r for r in json.loads(res.output)["results"]}
    assert (rows["LIVE-SHADOW-01"]["status"], rows["LIVE-SHADOW-01"]["effective"]) == ("missing", "waived")
    assert (rows["AUD-07"]["status"], rows["AUD-07"]["effective"]) == ("pass", "attested")
    assert (rows["RISK-10"]["status"], rows["RISK-10"]["effective"]) == ("missing", "missing")
    for rid, reason in shown["reason"].items():
        assert rows[rid]["reason"] == reason and len(reason) > 0  # whole, as the run's document has it
    text = invoke("evidence", "show", shown["run"][:8], "--store", shown["store"]).output
    assert _column(text, "reason") == {rid: "".join(r.split()) for rid, r in shown["reason"].items()}


def _column(table: str, name: str) -> dict[str, str]:
    """A rich table's column by requirement, its wrapped lines joined (without spaces)."""
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in table.splitlines() if line.startswith("│")]
    header = [c.strip() for c in next(line for line in table.splitlines() if line.startswith("┃")).split("┃")[1:-1]]
    col, req = header.index(name), header.index("requirement")
    found: dict[str, str] = {}
    current = ""
    for cells in rows:
        current = cells[req] or current  # a wrapped line continues the row above
        found[current] = found.get(current, "") + "".join(cells[col].split())
    return found


def test_one_requirement_in_a_run_lists_the_attestation_memo_and_file_digests(shown):
    res = invoke("evidence", "show", shown["run"], "AUD-07", "--store", shown["store"], "--json")
    detail = json.loads(res.output)
    assert (detail["status"], detail["effective"]) == ("pass", "attested")
    attestation, = detail["attestations"]
    assert attestation["verified_this_run"] and attestation["memo"] == "report [bold]reviewed[/bold]"
    assert attestation["role"] == "Head of Validation" and len(attestation["key_id"]) == 64
    file, = attestation["files"]
    assert (file["path"], file["sha256"], file["size"]) == ("validation-memo.txt", shown["memo_sha"], len(MEMO))
    assert (shown["store"] / "objects" / file["stored"][:2] / file["stored"][2:]).read_text() == MEMO

    text = invoke("evidence", "show", shown["run"], "AUD-07", "--store", shown["store"]).output
    assert "recorded status:  pass" in text and "effective status: attested" in text
    assert "memo: report [bold]reviewed[/bold]" in text  # printed as text, not styled
    assert f"validation-memo.txt  sha256 {shown['memo_sha']}  {len(MEMO)} bytes" in text


def test_a_waived_requirement_shows_its_waiver_beside_the_recorded_status(shown):
    text = invoke("evidence", "show", shown["run"][:8], "LIVE-SHADOW-01", "--store", shown["store"]).output
    assert "recorded status:  missing" in text and "effective status: waived" in text
    assert f"approved by Ada Risk, co-approved by Bea Compliance, expires {SOON}" in text and "memo: shadow week booked for Q1" in text
    detail = json.loads(invoke("evidence", "show", shown["run"], "LIVE-SHADOW-01", "--store", shown["store"],
                               "--json").output)
    assert detail["waiver"]["approver"] == "Ada Risk" and detail["waiver"]["memo"] == "shadow week booked for Q1"
    assert detail["reason"] == shown["reason"]["LIVE-SHADOW-01"]


def test_a_supporting_attestation_is_listed_without_changing_the_status(shown):
    detail = json.loads(invoke("evidence", "show", shown["run"], "RISK-10", "--store", shown["store"],
                               "--json").output)
    assert detail["effective"] == "missing"
    supporting, = detail["attestations"]
    assert supporting["supporting"] and not supporting["verified_this_run"]
    assert [f["sha256"] for f in supporting["files"]] == [shown["memo_sha"]]
    text = invoke("evidence", "show", shown["run"], "RISK-10", "--store", shown["store"]).output
    assert "supporting evidence" in text and shown["memo_sha"] in text


def test_history_shows_the_effective_status_per_run(shown):
    res = invoke("evidence", "show", "LIVE-SHADOW-01", "--store", shown["store"], "--json")
    assert [(h["status"], h["effective"]) for h in json.loads(res.output)["history"]] == [
        ("missing", "missing"), ("missing", "waived")]
    runs = json.loads(invoke("evidence", "show", "--store", shown["store"], "--json").output)
    assert len(runs) == 2 and runs[-1]["id"] == shown["run"]


def test_an_unknown_requirement_of_a_run_is_a_clear_error(shown):
    res = invoke("evidence", "show", shown["run"][:8], "NOPE-1", "--store", shown["store"])
    assert res.exit_code == 2 and "no result for requirement 'NOPE-1'" in res.output


def test_the_run_document_carries_the_attestations_files_and_signing_key(shown):
    results = {r["requirement_id"]: r for r in shown["doc"]["results"]}
    attestation = results["AUD-07"]["details"]["attestation"]
    detail = json.loads(invoke("evidence", "show", shown["run"], "AUD-07", "--store", shown["store"], "--json").output)
    # a key id is public: the secret masking must not hide who signed (it did: "[REDACTED:field]")
    assert attestation["author_key_id"] == detail["attestations"][0]["key_id"]
    assert [f["sha256"] for f in attestation["files"]] == [shown["memo_sha"]]
    supporting, = results["RISK-10"]["details"]["supporting_attestations"]
    assert supporting["statement"] == "dashboards reviewed" and supporting["files"][0]["sha256"] == shown["memo_sha"]
