"""The evidence commands end to end through ``--db URL`` on both back ends (SQLite always,
PostgreSQL when ``GOLIVE_TEST_PG_URL`` is set): run, attest, waive, run again, show, verify,
export -- the same flow as on the default SQLite store."""
from __future__ import annotations

import json
from datetime import date as _date, timedelta as _timedelta
from pathlib import Path

from click.testing import CliRunner

from golive.cli import cli

from pg import db_url  # noqa: F401 -- the parametrised fixture
from people import co_approve, enrol

SOON = (_date.today() + _timedelta(days=30)).isoformat()  # waivers run at most 90 days (P1)

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_attest_waive_run_verify_export_through_a_database_url(tmp_path, db_url):  # noqa: F811
    store = tmp_path / "evidence"
    where = ["--store", store] + (["--db", db_url] if db_url else [])
    first = invoke("run", "--target", WORKSPACE, *where, "-q", "--json", tmp_path / "first.json")
    assert first.exit_code in (0, 1), first.output
    enrol(invoke, "Ada Risk", *where)
    res = invoke("evidence", "attest", "AUD-07", *where, "--by", "Ada Risk", "--role", "Head of Model Validation",
                 "--note", "walked through the model inventory", "--expires", "2099-01-01", "--target", WORKSPACE)
    assert res.exit_code == 0, res.output
    res = invoke("evidence", "waive", "LIVE-SHADOW-01", *where, "--approver", "Ada Risk",
                 "--reason", "shadow week scheduled for Q1", "--expires", SOON, "--target", WORKSPACE)
    assert res.exit_code == 0, res.output
    co_approve(invoke, res.output, "LIVE-SHADOW-01", *where, "--target", WORKSPACE)  # P1: a second person

    second = invoke("run", "--target", WORKSPACE, *where, "-q", "--json", tmp_path / "second.json")
    assert second.exit_code in (0, 1), second.output
    doc = json.loads((tmp_path / "second.json").read_text())
    by_id = {r["requirement_id"]: r for r in doc["results"]}
    assert by_id["AUD-07"]["status"] == "pass" and "Ada Risk" in by_id["AUD-07"]["reason"]
    assert by_id["LIVE-SHADOW-01"]["status"] == "waived"
    assert doc["run"]["ledger"]["size"] > 0

    verified = invoke("evidence", "verify", *where)
    assert verified.exit_code == 0, verified.output
    shown = invoke("evidence", "show", *where)
    assert shown.exit_code == 0 and doc["run"]["id"][:8] in shown.output, shown.output
    out = tmp_path / "runs.intoto.jsonl"
    assert invoke("evidence", "export", *where, "--output", out).exit_code == 0
    assert len(out.read_text().splitlines()) == 2

    if db_url:  # the ledger lives in the database, not in a SQLite file of the store
        assert not (store / "ledger.db").exists()
