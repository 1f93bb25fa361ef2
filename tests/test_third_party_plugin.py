"""A third-party plugin package, installed by entry point, shows in `golive plugins` and its
check runs from YAML; a check that raises gives `error` while the rest of the run completes.

"Installed" here is what pip does for a wheel: the package and a ``*.dist-info`` folder with
``entry_points.txt`` on ``sys.path``. The CLI runs in a subprocess so discovery is real.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN = '''
"""acme's golive checks: one that counts files, one that always crashes."""
from pathlib import Path
from golive import hookimpl
from golive.model import CheckResult, CheckSpec, Status


def file_count(requirement, ctx):
    folder = ctx.target.root / ctx.params["folder"]
    if not folder.is_dir():
        return CheckResult(status=Status.MISSING, message=f"{folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    for f in files:
        ctx.record_artifact(f)
    return CheckResult(metrics={"files": len(files)})


def crash(requirement, ctx):
    raise ZeroDivisionError("acme bug")


@hookimpl
def golive_checks():
    schema = {"type": "object", "required": ["folder"], "additionalProperties": False,
              "properties": {"folder": {"type": "string"}}}
    return [CheckSpec("acme", "file_count", file_count, params_schema=schema, metrics=("files",), version="1.0"),
            CheckSpec("acme", "crash", crash)]
'''

PLAN = """
plan: {id: acme-plan, title: Acme Plan, version: "1", source_lines: 20}
phases:
  - {number: 1, id: only, title: Only phase, plan_lines: [1, 20]}
categories:
  - {id: core-pipeline, title: Core Pipeline}
priorities: {P1: Critical, P2: Important, P3: Nice-to-have}
bands: {well: 0.75, partial: 0.25}
sections: [1-only/reports.yaml]
"""

SECTION = """
section: {id: ACME, phase: 1, title: Acme reports, plan_lines: [1, 20]}
requirements:
  - id: ACME-01
    title: Reports are written
    statement: At least three report files exist.
    category: core-pipeline
    priority: P1
    check: {plugin: acme, name: file_count, params: {folder: reports}}
    thresholds: [{metric: files, op: ">=", value: 3, unit: count}]
  - id: ACME-02
    title: Crashing check
    statement: This check always raises.
    category: core-pipeline
    priority: P1
    check: {plugin: acme, name: crash}
  - id: ACME-03
    title: Too many reports
    statement: At most one report file exists.
    category: core-pipeline
    priority: P2
    check: {plugin: acme, name: file_count, params: {folder: reports}}
    thresholds: [{metric: files, op: "<=", value: 1, unit: count}]
"""


def install_plugin(site: Path) -> None:
    (site / "acme_golive").mkdir(parents=True)
    (site / "acme_golive" / "__init__.py").write_text(PLUGIN)
    info = site / "acme_golive-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-golive\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[golive]\nacme = acme_golive\n")


def golive(*args: str, site: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "golive", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_third_party_plugin_by_entry_point(tmp_path):
    site = tmp_path / "site"
    install_plugin(site)
    plan_dir = tmp_path / "plan"
    (plan_dir / "1-only").mkdir(parents=True)
    (plan_dir / "plan.yaml").write_text(textwrap.dedent(PLAN))
    (plan_dir / "1-only" / "reports.yaml").write_text(textwrap.dedent(SECTION))
    ws = tmp_path / "ws"
    (ws / "reports").mkdir(parents=True)
    for i in range(3):
        (ws / "reports" / f"r{i}.txt").write_text(f"report {i}")

    listed = golive("plugins", site=site, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "acme" in listed.stdout and "file_count" in listed.stdout and "acme-golive 1.0" in listed.stdout

    checked = golive("validate", str(plan_dir), site=site, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr + checked.stdout

    out = tmp_path / "results.json"
    ran = golive("run", "--plan", str(plan_dir), "--target", str(ws), "--json", str(out), site=site, cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr  # gaps: one error, one failure
    doc = json.loads(out.read_text())
    res = {r["requirement_id"]: r for r in doc["results"]}
    assert res["ACME-01"]["status"] == "pass"
    assert res["ACME-01"]["thresholds"][0]["observed"] == 3
    assert len(res["ACME-01"]["artifacts"]) == 3 and all(len(a["sha256"]) == 64 for a in res["ACME-01"]["artifacts"])
    assert res["ACME-02"]["status"] == "error" and "ZeroDivisionError: acme bug" in res["ACME-02"]["reason"]
    assert res["ACME-03"]["status"] == "fail"
    assert doc["plugins"]["acme"]["checks"] == ["crash", "file_count"]


def test_without_the_plugin_the_plan_names_the_unknown_plugin(tmp_path):
    plan_dir = tmp_path / "plan"
    (plan_dir / "1-only").mkdir(parents=True)
    (plan_dir / "plan.yaml").write_text(textwrap.dedent(PLAN))
    (plan_dir / "1-only" / "reports.yaml").write_text(textwrap.dedent(SECTION))
    res = golive("validate", str(plan_dir), site=tmp_path / "empty", cwd=tmp_path)
    assert res.returncode == 2
    assert "reports.yaml" in res.stderr and "acme" in res.stderr and "golive plugins" in res.stderr
