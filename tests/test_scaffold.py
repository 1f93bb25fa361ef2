"""``golive plugin new``: the generated package installs, its tests pass, golive lists it and a
plan uses its check from YAML.

The end-to-end test works offline: a virtual environment made with ``--system-site-packages``
sees golive's own environment through a ``.pth`` file (golive lives in a venv, not in the
system site-packages), and ``pip install --no-deps --no-build-isolation --no-index -e`` builds
the package with the setuptools already there.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive.scaffold import PluginNames, plugin, render_package

PLAN = """
plan: {id: data-plan, title: Data Plan, version: "1", source_lines: 10}
phases:
  - {number: 1, id: only, title: Only phase, plan_lines: [1, 10]}
categories:
  - {id: api-data-sources, title: "API Authentication & Data Sources"}
priorities: {P1: Critical, P2: Important, P3: Nice-to-have}
bands: {well: 0.75, partial: 0.25}
sections: [1-only/data.yaml]
"""

SECTION = """
section: {id: DATA, phase: 1, title: Market data, plan_lines: [1, 10]}
requirements:
  - id: DATA-01
    title: Market data is fresh
    statement: The newest market data file is less than a day old.
    category: api-data-sources
    priority: P1
    plan_lines: [2, 2]
    check: {plugin: acme_data, name: file_freshness, params: {pattern: "data/**/*.dbn"}}
    thresholds: [{metric: age_hours, op: "<", value: 24, unit: h}]
  - id: DATA-02
    title: Archive is fresh
    statement: The newest archived file is less than a day old.
    category: api-data-sources
    priority: P2
    plan_lines: [3, 3]
    check: {plugin: acme_data, name: file_freshness, params: {pattern: "archive/*.dbn"}}
    thresholds: [{metric: age_hours, op: "<", value: 1, unit: d}]
"""


def test_new_writes_the_package_layout(tmp_path):
    res = CliRunner().invoke(plugin, ["new", "acme-data", "--dir", str(tmp_path), "--summary", "market data checks"])
    assert res.exit_code == 0, res.output
    folder = tmp_path / "golive-acme-data"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "README.md", "pyproject.toml", "src/golive_acme_data/__init__.py", "src/golive_acme_data/checks.py",
        "tests/test_golive_acme_data.py"]
    pyproject = (folder / "pyproject.toml").read_text()
    assert '[project.entry-points.golive]\nacme_data = "golive_acme_data.checks"' in pyproject
    assert 'name = "golive-acme-data"' in pyproject and "market data checks" in pyproject
    assert 'PLUGIN = "acme_data"' in (folder / "src/golive_acme_data/checks.py").read_text()
    assert "plugin: acme_data" in (folder / "README.md").read_text()
    for path in folder.rglob("*.py"):  # every generated module is valid Python
        compile(path.read_text(), str(path), "exec")


@pytest.mark.parametrize("name, message", [
    ("Acme", "is not usable"), ("9lives", "is not usable"), ("acme--data", "is not usable"),
    ("feed", "already installed"), ("traceability", "already installed"),
])
def test_bad_or_taken_names_are_refused(tmp_path, name, message):
    res = CliRunner().invoke(plugin, ["new", name, "--dir", str(tmp_path)])
    assert res.exit_code == 2
    assert message in res.output and repr(name) in res.output
    assert not any(tmp_path.iterdir())


def test_an_existing_package_is_kept_unless_forced(tmp_path):
    assert CliRunner().invoke(plugin, ["new", "acme", "--dir", str(tmp_path)]).exit_code == 0
    checks = tmp_path / "golive-acme" / "src" / "golive_acme" / "checks.py"
    checks.write_text("# my own edits\n")
    again = CliRunner().invoke(plugin, ["new", "acme", "--dir", str(tmp_path)])
    assert again.exit_code == 2 and "--force" in again.output
    assert checks.read_text() == "# my own edits\n"
    forced = CliRunner().invoke(plugin, ["new", "acme", "--dir", str(tmp_path), "--force"])
    assert forced.exit_code == 0 and "golive_checks" in checks.read_text()


def test_names_map_to_yaml_module_and_distribution():
    names = PluginNames.from_name("acme-data_feed")
    assert (names.plugin, names.module, names.dist) == ("acme_data_feed", "golive_acme_data_feed", "golive-acme-data-feed")
    assert set(render_package(names, "x")) >= {"pyproject.toml", "src/golive_acme_data_feed/checks.py"}


def _can_build_offline() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    if (major, minor) >= (70, 1):  # bdist_wheel moved into setuptools
        return True
    try:
        import wheel  # noqa: F401
    except ImportError:
        return False
    return True


def _venv(where: Path) -> Path:
    """A venv that sees golive's environment (its site-packages, editable golive included)."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(where)],
                   check=True, capture_output=True, timeout=120)
    python = where / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    parents = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    # addsitedir (not a bare path) so the parent's own .pth files -- editable installs -- apply
    (Path(purelib) / "_golive_parent.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in sorted(parents)))
    return python


@pytest.mark.slow
@pytest.mark.skipif(not _can_build_offline(), reason="needs setuptools>=70.1, or setuptools with wheel, to build offline")
def test_generated_plugin_installs_tests_and_runs_from_yaml(tmp_path):
    assert CliRunner().invoke(plugin, ["new", "acme-data", "--dir", str(tmp_path)]).exit_code == 0
    package = tmp_path / "golive-acme-data"
    python = _venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env.update(COLUMNS="200", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PIP_NO_INPUT="1")

    def call(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)

    installed = call(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                     "--no-build-isolation", "--no-index", "--disable-pip-version-check", "-e", str(package))
    assert installed.returncode == 0, installed.stdout + installed.stderr

    tested = call(str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "4 passed" in tested.stdout

    listed = call(str(python), "-m", "golive", "plugins")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "acme_data" in line)
    assert "entry point from golive-acme-data 0.1.0" in row and "file_freshness" in row

    plan_dir = tmp_path / "plan"
    (plan_dir / "1-only").mkdir(parents=True)
    (plan_dir / "plan.yaml").write_text(textwrap.dedent(PLAN))
    (plan_dir / "1-only" / "data.yaml").write_text(textwrap.dedent(SECTION))
    workspace = tmp_path / "ws"
    (workspace / "data" / "2026").mkdir(parents=True)
    (workspace / "archive").mkdir()
    (workspace / "data" / "2026" / "today.dbn").write_bytes(b"DBN fresh")
    stale = workspace / "archive" / "last-week.dbn"
    stale.write_bytes(b"DBN stale")
    week_ago = time.time() - 7 * 86400
    os.utime(stale, (week_ago, week_ago))

    out = tmp_path / "results.json"
    ran = call(str(python), "-m", "golive", "run", "--plan", str(plan_dir), "--target", str(workspace),
               "--no-evidence", "--json", str(out), "--quiet")
    assert ran.returncode == 1, ran.stdout + ran.stderr  # DATA-02 fails its threshold
    results = {r["requirement_id"]: r for r in json.loads(out.read_text())["results"]}
    fresh, old = results["DATA-01"], results["DATA-02"]
    assert fresh["status"] == "pass" and fresh["metrics"]["files"] == 1
    assert fresh["artifacts"][0]["path"] == "data/2026/today.dbn" and len(fresh["artifacts"][0]["sha256"]) == 64
    assert old["status"] == "fail"
    assert old["thresholds"][0]["passed"] is False and old["thresholds"][0]["observed"] > 1


def test_cli_reference_matches_the_commands():
    """docs/cli.md is generated from the click objects; regenerate it when a command changes."""
    from golive.scaffold.clidoc import generate

    page = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    assert page.read_text(encoding="utf-8") == generate(), (
        "docs/cli.md is out of date: run `python -m golive.scaffold.clidoc > docs/cli.md`")
    for command in ("golive run", "golive report", "golive plugin new", "golive evidence verify"):
        assert f"`{command}`" in page.read_text(encoding="utf-8")


GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugin-authoring.md"

GUIDE_PLAN = """
plan: {id: guide-plan, title: Guide Plan, version: "1", source_lines: 217}
phases:
  - {number: 2, id: live, title: Initial Live Trading Phase, plan_lines: [70, 109]}
categories:
  - {id: production-monitoring, title: Production Monitoring}
priorities: {P1: Critical, P2: Important, P3: Nice-to-have}
bands: {well: 0.75, partial: 0.25}
sections: [2-live/reliability.yaml]
"""


def _guide_blocks(language: str) -> list[str]:
    import re

    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.S | re.M)


def test_plugin_authoring_examples_work(tmp_path, monkeypatch):
    """Every python block of docs/plugin-authoring.md is a working plugin module; the YAML block
    uses the documented check; together they run a plan, observe it and render a report."""
    import types

    import yaml

    from golive.model import Target
    from golive.pluginmanager import create_host
    from golive.report import build_render_model
    from golive.results import build_document
    from golive.run.runner import RunOptions, run_plan
    from golive.plan.validate import load_validated

    modules = []
    for number, source in enumerate(_guide_blocks("python")):
        module = types.ModuleType(f"guide_example_{number}")
        exec(compile(source, f"{GUIDE}:python-block-{number}", "exec"), module.__dict__)
        modules.append((module.__name__, module))
    host = create_host(load_entry_points=False, extra=modules)
    hooks = {name for _, m in modules for name in vars(m) if name.startswith("golive_")}
    assert hooks == {"golive_checks", "golive_test_sources", "golive_run_started", "golive_result",
                     "golive_run_finished", "golive_report_formats"}  # every hook has its example

    (documented,) = yaml.safe_load(_guide_blocks("yaml")[0])
    strict = {**documented, "id": "LIVE-REL-04", "title": "Tight heartbeat", "plan_lines": [102, 102],
              "thresholds": [{"metric": "max_gap", "op": "<", "value": 1, "unit": "min"}]}
    plan_dir = tmp_path / "plan"
    (plan_dir / "2-live").mkdir(parents=True)
    (plan_dir / "plan.yaml").write_text(textwrap.dedent(GUIDE_PLAN))
    (plan_dir / "2-live" / "reliability.yaml").write_text(yaml.safe_dump({
        "section": {"id": "LIVE-REL", "phase": 2, "title": "System Reliability", "plan_lines": [97, 109]},
        "requirements": [documented, strict]}))
    plan = load_validated(plan_dir, host.checks())  # params and metrics checked against the spec

    workspace = tmp_path / "ws"
    (workspace / "logs").mkdir(parents=True)
    beats = ["2026-01-05T09:00:00", "2026-01-05T09:00:30", "2026-01-05T09:02:00"]  # longest gap 90 s
    (workspace / "logs" / "heartbeats.jsonl").write_text("".join(json.dumps({"ts": b}) + "\n" for b in beats))
    (workspace / "suites").mkdir()
    (workspace / "suites" / "heartbeat.robot").write_text(
        "*** Test Cases ***\nHeartbeat Is Sent\n    [Tags]    REQ:LIVE-REL-03    smoke\n    Log    ok\n")
    journal = tmp_path / "journal.jsonl"
    monkeypatch.setenv("ACME_RUN_JOURNAL", str(journal))

    report = run_plan(plan, Target(root=workspace), host, RunOptions(jobs=1))
    outcomes = {o.requirement.id: o for o in report.outcomes}
    assert outcomes["LIVE-REL-03"].status.value == "pass"  # 90 s < 2 min
    assert outcomes["LIVE-REL-04"].status.value == "fail"  # 90 s >= 1 min
    assert outcomes["LIVE-REL-03"].covered_by == ["suites/heartbeat.robot::Heartbeat Is Sent"]
    assert outcomes["LIVE-REL-03"].artifacts[0].path == "logs/heartbeats.jsonl"
    assert outcomes["LIVE-REL-03"].observed == {"events": 3, "first": "2026-01-05T09:00:00",
                                                "newest": "2026-01-05T09:02:00", "what": "heartbeats"}

    events = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [e["event"] for e in events] == ["started", "p1-failure", "finished"]
    assert events[1]["requirement"] == "LIVE-REL-04"
    assert events[2]["by_status"] == {"pass": 1, "fail": 1}

    (formats,) = host.hook.golive_report_formats()
    model = build_render_model(build_document(report), plan)
    written = formats["csv"](model, tmp_path / "report.csv")
    rows = written.read_text().splitlines()
    assert rows[0] == "requirement,title,priority,status,implemented,reason"
    assert rows[1].startswith("LIVE-REL-03,Heartbeat monitoring,P1,pass,True")
