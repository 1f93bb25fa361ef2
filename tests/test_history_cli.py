"""`golive history` and the comparisons of recorded runs (issue 14, point 5).

Runs recorded through the CLI on the reference workspace: `golive history` shows each run's
verdict, series, coverage and verification (the non-deprecated figures; a schema-1 document
falls back to `compliance_rate`), and a report's "changes since the previous run" and trend
only ever pair runs of the same plan digest and selection -- a scheduled slice is its own series.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive import history
from golive.cli import cli

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """One row per run whatever the terminal (xdist workers differ)."""
    from golive.cli import out

    monkeypatch.setattr(out, "width", 200)


def invoke(*args, env=None):
    return CliRunner(env=env).invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _run(store: Path, only: str, *extra) -> None:
    res = invoke("run", "--target", WORKSPACE, "--only", only, "--store", store, "-q", *extra)
    assert res.exit_code == 1, res.output  # the reference workspace has gaps in both selections


def test_history_lists_verdict_series_and_figures_and_reports_compare_one_series(tmp_path, monkeypatch):
    store = tmp_path / "evidence"
    _run(store, "PRE-PIPE")
    _run(store, "RISK-0*")  # a slice, as a scheduled job runs it
    report = tmp_path / "third.md"
    _run(store, "PRE-PIPE", "--report", report)

    rows = json.loads(invoke("history", "--store", store, "--json").output)
    assert [r["series"].split(" @")[0] for r in rows] == ["PRE-PIPE", "RISK-0*", "PRE-PIPE"]
    first, sliced, third = rows
    assert first["series"] != sliced["series"] and first["series"] == third["series"]
    for r, doc in zip(rows, _documents(store)):
        figures = doc["summary"]["figures"]
        assert r["verdict"] == doc["summary"]["verdict"]["state"] == "NOT READY"
        assert (r["covered"], r["verified"], r["failing"]) == (figures["covered"], figures["verified"],
                                                               figures["failing"])
        assert r["coverage_rate"] == figures["coverage_rate"] and "compliance_rate" not in r
        assert r["verification_rate"] == figures["verification_rate"]

    # the report of the third run compares with the first (same series), never with the slice
    text = report.read_text()
    assert f"Compared with run {first['run']}" in text and sliced["run"] not in text

    table = invoke("history", "--store", store)
    assert table.exit_code == 0
    lines = [line for line in table.output.splitlines() if line.strip()[:4] == "2026" or " @" in line]
    for r in rows:
        line = next(line for line in lines if r["run"][:8] in line)
        assert "NOT READY" in line and r["series"] in line
        assert f"{r['covered']} ({r['coverage_rate']:.0%})" in line
        assert f"{r['verified']} ({r['verification_rate']:.0%})" in line
    assert f"target {WORKSPACE}" in " ".join(table.output.split())  # one target: named once, in the title


def test_a_schema_1_document_is_listed_with_its_coverage_under_the_old_name(tmp_path):
    """Documents recorded before schema 2 have no verdict, figures or coverage_rate."""
    store = tmp_path / "evidence"
    _run(store, "PRE-PIPE")
    (path,) = (store / history.RUNS).glob("*.json")
    doc = json.loads(path.read_text())
    old = {"requirements": 6, "implemented": 4, "verified": 1, "compliance_rate": 0.6667,
           "verification_rate": 0.1667, "by_status": {"pass": 1, "fail": 2, "error": 1, "missing": 2}}
    doc["schema_version"], doc["summary"] = "1", old
    path.write_text(json.dumps(doc))
    (row,) = json.loads(invoke("history", "--store", store, "--json").output)
    assert row["verdict"] is None and row["coverage_rate"] == 0.6667 and row["covered"] == 4
    assert row["failing"] == 3  # fail + error, counted from the statuses
    table = " ".join(invoke("history", "--store", store, env={"COLUMNS": "160"}).output.split())
    assert "PRE-PIPE @" in table and " - 6 4 (67%) 1 (17%) 3" in table


def test_history_of_an_empty_store_says_so(tmp_path):
    res = invoke("history", "--store", tmp_path / "none")
    assert res.exit_code == 0 and "no runs recorded in" in res.output


def test_runs_of_another_plan_version_are_their_own_series(tmp_path):
    """A changed plan (another digest) is never diffed against the old one's runs."""
    plan = tmp_path / "plan"
    shutil.copytree(Path(__file__).parents[1] / "requirements", plan,
                    ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    store = tmp_path / "evidence"
    _run(store, "PRE-PIPE")
    f = plan / "1-pre-live" / "core-pipeline.yaml"
    f.write_text(f.read_text() + "\n# reviewed 2026-11\n")  # same requirements, another digest
    _run(store, "PRE-PIPE", "--plan", plan)
    a, b = _documents(store)
    assert history.incomparable(b, a).startswith("it ran another version of the plan")
    assert history.past_runs(store, b) == []
    rows = json.loads(invoke("history", "--store", store, "--json").output)
    assert rows[0]["series"] != rows[1]["series"]


def _documents(store: Path) -> list[dict]:
    """The recorded documents in the order `golive history` lists them (oldest first)."""
    return history.past_runs(store, limit=100)


def test_history_says_which_runs_the_ledger_recorded_and_honours_db(tmp_path):
    store = tmp_path / "evidence"
    _run(store, "PRE-PIPE")
    (path,) = (store / history.RUNS).glob("*.json")
    forged = json.loads(path.read_text())
    forged["run"]["id"] = "00000000-forged-run"
    (store / history.RUNS / "20990101T000000_forged.json").write_text(json.dumps(forged))
    rows = json.loads(invoke("history", "--store", store, "--json").output)
    assert [r["in_ledger"] for r in rows] == [True, False]
    # the same ledger named by URL (--db or GOLIVE_DB): the same answer
    url = f"sqlite:///{store / 'ledger.db'}"
    for args, env in ((("--db", url), None), ((), {"GOLIVE_DB": url})):
        rows = json.loads(invoke("history", "--store", store, "--json", *args, env=env).output)
        assert [r["in_ledger"] for r in rows] == [True, False]
    empty = tmp_path / "no-ledger"
    shutil.copytree(store / history.RUNS, empty / history.RUNS)
    rows = json.loads(invoke("history", "--store", empty, "--json").output)
    assert [r["in_ledger"] for r in rows] == [None, None] and not (empty / "ledger.db").exists()


def test_a_narrow_terminal_gets_every_field_whole(tmp_path, monkeypatch):
    """Seen with freqtrade and nautilus_trader in one store at 80 columns: the table cut run ids to
    '3…' and targets to '…'. Below 120 columns each run takes two lines with nothing cut."""
    from golive.cli import out

    store = tmp_path / "evidence"
    long_name = tmp_path / "a_trading_repository_with_a_long_name"
    shutil.copytree(WORKSPACE, long_name)
    _run(store, "PRE-PIPE")
    res = invoke("run", "--target", long_name, "--only", "PRE-PIPE", "--store", store, "-q")
    assert res.exit_code == 1, res.output
    rows = json.loads(invoke("history", "--store", store, "--json").output)
    monkeypatch.setattr(out, "width", 80)
    text = invoke("history", "--store", store).output
    assert "…" not in text
    for r in rows:
        assert f"{r['run'][:8]}  {Path(r['target']).name}  NOT READY" in text
        assert f"{r['series']}: covered {r['covered']} of {r['requirements']} ({r['coverage_rate']:.0%})" in text
    assert max(map(len, text.splitlines())) <= 80
