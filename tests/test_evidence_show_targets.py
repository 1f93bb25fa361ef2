"""`golive evidence show` with two repositories' runs in one store: the run listing, the run view
and a requirement's history name each run's target (path and identity), as text and --json; one
requirement in a run prints thresholds and metrics with their units as the reports do, never a
Python dict."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive.cli import cli

REFERENCE = Path(__file__).parent / "fixtures" / "reference-workspace"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def column(table: str, name: str, key: str) -> dict[str, str]:
    """A rich table's column by its ``key`` column, wrapped lines joined (spaces dropped)."""
    lines = table.splitlines()
    header = [c.strip() for c in next(line for line in lines if line.startswith("┃")).split("┃")[1:-1]]
    col, by = header.index(name), header.index(key)
    found: dict[str, str] = {}
    current = ""
    for cells in ([c.strip() for c in line.split("│")[1:-1]] for line in lines if line.startswith("│")):
        current = cells[by] or current  # a wrapped line continues the row above
        found[current] = found.get(current, "") + "".join(cells[col].split())
    return found


@pytest.fixture(scope="module")
def two_targets(tmp_path_factory):
    from golive import demo

    root = tmp_path_factory.mktemp("targets")
    store, demo_ws = root / "store", root / "demo-ws"
    demo.build(demo_ws, "degraded", 7)
    runs = {}
    for name, workspace in (("demo", demo_ws), ("reference", REFERENCE)):
        res = invoke("run", "-t", workspace, "--store", store, "-q", "--only", "RISK-06", "--json", root / f"{name}.json")
        assert res.exit_code in (0, 1), res.output
        doc = json.loads((root / f"{name}.json").read_text())
        runs[name] = {"id": doc["run"]["id"], "path": str(workspace),
                      "identity": doc["run"].get("target_identity") or doc["run"]["provenance"]["target_identity"]}
    return store, runs


def test_the_run_listing_and_run_view_name_each_runs_target(two_targets):
    store, runs = two_targets
    assert runs["demo"]["identity"] != runs["reference"]["identity"]
    listed = {r["id"]: r for r in json.loads(invoke("evidence", "show", "--store", store, "--json").output)}
    shown = column(invoke("evidence", "show", "--store", store).output, "target", "run")
    for run in runs.values():
        row = listed[run["id"]]
        assert (row["target"], row["target_identity"]) == (run["path"], run["identity"])
        assert run["path"] in row["target_label"]
        assert shown[run["id"][:8]] == "".join(row["target_label"].split())
        view = json.loads(invoke("evidence", "show", run["id"][:8], "--store", store, "--json").output)
        assert (view["target"], view["target_identity"]) == (run["path"], run["identity"])
    demo_id = runs["demo"]["identity"]
    assert demo_id.startswith("git:") and f"({demo_id[:16]})" in listed[runs["demo"]["id"]]["target_label"]


def test_a_requirements_history_tells_the_two_targets_apart(two_targets):
    store, runs = two_targets
    history = json.loads(invoke("evidence", "show", "RISK-06", "--store", store, "--json").output)["history"]
    assert {h["run_id"]: h["target"] for h in history} == {r["id"]: r["path"] for r in runs.values()}
    shown = column(invoke("evidence", "show", "RISK-06", "--store", store).output, "target", "run")
    assert shown == {h["run_id"][:8]: "".join(h["target_label"].split()) for h in history}
    demo_row = next(h for h in history if h["run_id"] == runs["demo"]["id"])
    assert "disk_max = 91.16 %" in demo_row["metrics"] and "{" not in demo_row["metrics"]


def test_one_requirement_prints_thresholds_and_metrics_with_units(two_targets):
    store, runs = two_targets
    out = invoke("evidence", "show", runs["demo"]["id"][:8], "RISK-06", "--store", store).output
    assert f"target: {runs['demo']['path']}" in out
    assert "threshold disk_max < 80 %: observed 91.16 % (not met)" in out
    assert "threshold cpu_p95 < 80 %: observed" in out and "(met)" in out
    assert "metric disk_max = 91.16 %" in out
    assert not re.search(r"\{'(unit|value)'", out), out
    detail = json.loads(invoke("evidence", "show", runs["demo"]["id"], "RISK-06", "--store", store, "--json").output)
    disk = next(t for t in detail["thresholds"] if t["metric"] == "disk_max")
    assert (disk["op"], disk["value"], disk["unit"], disk["passed"]) == ("<", 80, "%", False)
