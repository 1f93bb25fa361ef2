"""PRE-PIPE-03 counts an option only when a test passes it as an argument (or a recorded test
names it), and the leak check's Student-t quantile is exact (issue 14)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from golive.model import CheckContext, Requirement, Status, Target
from golive.model import TestRecord as Traced
from golive.plugins.algorithm.signal_timing import check as signal_timing
from golive.plugins.monitoring.cli_arguments import cli_arguments, option_in_test_name
from golive.plugins.monitoring.cli_calls import call_arguments
from golive.plugins.monitoring.memory_leak import t_quantile_975
from golive.plugins.monitoring.opslog import percentile

SCRIPT = ("import argparse\np = argparse.ArgumentParser()\np.add_argument('-p', '--profile')\n"
          "p.add_argument('--dry-run', action='store_true')\np.add_argument('--date')\n")


def run_cli(root, settings=None, all_tests=()):
    req = Requirement(id="PRE-PIPE-03", title="t", statement="s", category="c", priority="P1", plan_lines=(6, 6))
    ctx = CheckContext(target=Target(root=root), params={}, settings=settings or {}, log=logging.getLogger("t"),
                       all_tests=list(all_tests))
    return cli_arguments(req, ctx)


def workspace(tmp_path, test_source: str):
    (tmp_path / "run_pipeline.py").write_text(SCRIPT)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_cli.py").write_text(test_source)
    return tmp_path


def test_flag_text_inside_other_strings_does_not_count(tmp_path):
    # every flag's text occurs in the file, but never as an argument of a call
    source = ('"""Covers --profile, --dry-run and --date."""\n'
              'def test_dataset():\n    load("my-dataset-profile")\n    assert "--date" in HELP\n'
              '    # parse_args(["--dry-run"])\n')
    result = run_cli(workspace(tmp_path, source))
    assert result.metrics["cli_options_untested"] == 3
    assert result.details["untested"] == ["-p", "--dry-run", "--date"]
    assert result.observed["events"] == 0  # no test passes any command-line argument


def test_arguments_in_calls_count_in_every_usual_form(tmp_path):
    source = ('import subprocess, shlex\nfrom run_pipeline import parse_args\n'
              'ARGV = ["--date=2026-11-02"]\n'
              'def test_a():\n    parse_args(["-p", "testing"])\n'
              'def test_b():\n    main(ARGV)\n'
              'def test_c():\n    subprocess.run("python run_pipeline.py --dry-run", shell=True)\n')
    result = run_cli(workspace(tmp_path, source))
    assert result.metrics["cli_options_untested"] == 0 and result.status is None
    rows = {r["flags"][-1]: r["in_test_calls"] for r in result.details["options"]}
    assert rows["--profile"] == ["tests/test_cli.py:5"] and rows["--date"] == ["tests/test_cli.py:3"]


def test_call_arguments_forms():
    source = ('@pytest.mark.parametrize("argv", [["--x"], ("--y", "1")])\ndef test(argv):\n'
              '    runner.invoke(cli, args="--z 3".split())\n    main(shlex.split("--w \'a b\'"))\n'
              '    subprocess.check_output(["prog", "--v"])\n    print("--not-an-arg")\n')
    args = [a for a, _ in call_arguments(source)]
    assert {"--x", "--y", "1", "--z", "3", "--w", "a b", "prog", "--v"} <= set(args)
    assert "--not-an-arg" not in args  # a bare string given to print() is no argv
    assert "argv" not in args     # the parametrize names string is no list element


def test_recorded_outcomes_name_options(tmp_path):
    root = workspace(tmp_path, "def test_nothing():\n    pass\n")
    recorded = [Traced(id="tests/test_cli.py::test_dry_run_is_accepted", path="x", kind="result-case",
                           outcome="passed"),
                Traced(id="tests/test_cli.py::test_flags[-p]", path="x", kind="result-case", outcome="passed"),
                Traced(id="tests/test_cli.py::test_date_format", path="x", kind="pytest", outcome=None)]
    result = run_cli(root, all_tests=recorded)
    assert result.details["untested"] == ["--date"]  # no recorded outcome for the date test
    assert option_in_test_name(["--dry-run"], "t.py::test_x[--dry-run]")
    assert not option_in_test_name(["-p"], "t.py::test_load[my-dataset-profile]")
    assert not option_in_test_name(["--date"], "t.py::test_update")


def test_script_location_is_discovered_or_configured(tmp_path):
    (tmp_path / "tests").mkdir()
    result = run_cli(tmp_path)
    assert result.status is Status.MISSING and "entry_script" in result.message
    (tmp_path / "app").mkdir()
    (tmp_path / "app/main.py").write_text(SCRIPT)
    (tmp_path / "tests/test_cli.py").write_text("def test():\n    main(['--date', 'x', '-p', 'y', '--dry-run'])\n")
    result = run_cli(tmp_path, settings={"entry_script": "app/main.py"})
    assert result.metrics["cli_options_untested"] == 0 and result.details["script_from"].startswith("golive.toml")


@pytest.mark.parametrize("dof, exact", [(1, 12.706204736174698), (2, 4.302652729749464), (3, 3.182446305284263),
                                        (5, 2.570581835636314), (10, 2.228138851986274), (30, 2.042272456301238),
                                        (1000, 1.962339080856074)])
def test_t_quantile_matches_the_exact_student_t(dof, exact):
    # reference values: scipy.stats.t.ppf(0.975, dof)
    assert t_quantile_975(dof) == pytest.approx(exact, rel=1e-9)


def test_t_quantile_fractional_dof_lies_between_its_neighbours():
    assert t_quantile_975(2) > t_quantile_975(2.5) > t_quantile_975(3)
    assert t_quantile_975(0) == float("inf")


def test_both_p99_requirements_use_nearest_rank(tmp_path):
    """LIVE-SHADOW-03 (signal_timing) and PERF latency_p99 (monitoring.latency) share one
    definition: nearest rank, so "p99 < 100 ms" means 99 % of observations were below it."""
    delays = list(range(1, 11))  # ms
    assert percentile(delays, 99) == 10  # linear interpolation would give 9.91
    import pandas as pd

    base = datetime(2026, 11, 2, 14, 30, tzinfo=timezone.utc)
    frame = pd.DataFrame({"signal_id": [f"S{i}" for i in delays], "mode": "shadow", "emitted": True,
                          "ts": [pd.Timestamp(base) + pd.Timedelta(milliseconds=d) for d in delays],
                          "market_event_ts": [pd.Timestamp(base)] * len(delays)})
    (tmp_path / "records").mkdir()
    frame.to_csv(tmp_path / "records/signals.csv", index=False)
    req = Requirement(id="LIVE-SHADOW-03", title="t", statement="s", category="c", priority="P1", plan_lines=(75, 75))
    ctx = CheckContext(target=Target(root=tmp_path), params={}, settings={}, log=logging.getLogger("t"))
    result = signal_timing(req, ctx)
    assert result.metrics["delay_p99"].value == pytest.approx(10)
    assert "nearest-rank" in result.details["formula"]
