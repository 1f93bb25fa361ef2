"""golive's pytest plugin, run inside throw-away pytest sessions with ``pytester``.

Inner sessions load the plugin with ``-p golive.pytest_plugin`` and skip entry-point autoloading
(importing every installed pytest plugin costs about a second per session); one test checks
that the ``pytest11`` entry point loads it the way users get it.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path

import pytest

from golive.model import Target
from golive.plugins.traceability import discover, link

pytest_plugins = ["pytester"]

GOOD_PLAN = Path(__file__).parent / "data" / "good"
_REGISTERED = any(ep.value == "golive.pytest_plugin"
                  for ep in importlib.metadata.entry_points(group="pytest11"))

LINKED_TESTS = """
    import pytest

    @pytest.mark.requirement("PRE-PIPE-01")
    def test_entry_point():
        assert True

    @pytest.mark.requirement("PRE-PIPE-01", "PRE-PIPE-04")
    def test_timing_fails():
        assert 1 + 1 == 3

    @pytest.fixture
    def broken():
        raise RuntimeError("no database")

    @pytest.mark.requirement(ids=["PRE-PIPE-04"])
    def test_setup_error(broken):
        pass

    @pytest.mark.requirement("PRE-PIPE-04")
    def test_skipped():
        pytest.skip("no live credentials")

    @pytest.mark.xfail(reason="known gap")
    @pytest.mark.requirement("PRE-PIPE-04")
    def test_known_gap():
        assert False

    def test_unlinked():
        pass
"""


@pytest.fixture(autouse=True)
def _no_autoload(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # When the outer session loaded the plugin through its entry point the module is imported
    # already, and pytest warns that it cannot assert-rewrite it: irrelevant here.
    return pytester.runpytest("--strict-markers", "-p", "no:cacheprovider", "-p", "golive.pytest_plugin",
                              "-W", "ignore::pytest.PytestAssertRewriteWarning", *args)


@pytest.mark.skipif(not _REGISTERED, reason="golive's metadata does not declare the pytest11 entry point yet")
def test_entry_point_loads_the_plugin(pytester, monkeypatch):
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    pytester.makepyfile(test_ep="""
        import pytest

        @pytest.mark.requirement("NOT-A-REQ")
        def test_x():
            pass
    """)
    result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=1, warnings=1)
    assert "requirement 'NOT-A-REQ' is not in plan" in result.stdout.str()


def test_marker_is_registered_and_known_ids_are_silent(pytester):
    pytester.makepyfile(test_ok="""
        import pytest

        pytestmark = pytest.mark.requirement("PRE-PIPE-01")

        @pytest.mark.requirement("PRE-PIPE-04", "PRE-FEED-01")
        def test_linked():
            pass
    """)
    result = run(pytester, "-W", "error::golive.pytest_plugin.GoliveRequirementWarning")
    result.assert_outcomes(passed=1)
    assert "golive" not in result.stdout.str()
    markers = run(pytester, "--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.requirement(*ids): links the test to go-live requirements*"])


def test_plain_runs_are_untouched(pytester):
    """Installed into every environment: no marker and no option means no plan, no output."""
    pytester.makepyfile(test_plain="def test_a():\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert "golive" not in result.stdout.str().lower()
    assert "warning" not in result.stdout.str().lower()
    assert not list(pytester.path.rglob("*.json"))


def test_unknown_ids_warn_once_per_test_naming_the_id(pytester):
    pytester.makepyfile(test_typo="""
        import pytest

        @pytest.mark.requirement("PRE-PIPE-4")
        def test_one():
            pass

        @pytest.mark.requirement("PRE-PIPE-01", "NOT-A-REQ")
        def test_two():
            pass
    """)
    result = run(pytester, "--collect-only", "-q")
    text = result.stdout.str()
    assert result.ret == 0
    assert text.count("GoliveRequirementWarning") == 2
    assert "test_typo.py::test_one: requirement 'PRE-PIPE-4' is not in plan live-trading-go-live v1.0; did you mean PRE-PIPE-04" in text
    assert "test_typo.py::test_two: requirement 'NOT-A-REQ' is not in plan" in text
    assert "'PRE-PIPE-01' is not" not in text


def test_strict_makes_unknown_ids_an_error_before_any_test_runs(pytester):
    pytester.makepyfile(test_typo="""
        import pytest

        @pytest.mark.requirement("NOT-A-REQ")
        def test_one():
            raise SystemExit("must not run")

        @pytest.mark.requirement(42)
        def test_two():
            pass
    """)
    result = run(pytester, "--golive-strict")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "test_typo.py::test_one: requirement 'NOT-A-REQ' is not in plan live-trading-go-live" in err
    assert "test_typo.py::test_two: requirement id 42 is not a non-empty string" in err
    assert "must not run" not in result.stdout.str()


def test_golive_plan_option_checks_against_that_plan(pytester):
    pytester.makepyfile(test_own_plan="""
        import pytest

        @pytest.mark.requirement("PRE-PIPE-04")
        def test_in_small_plan():
            pass

        @pytest.mark.requirement("PRE-ALGO-01")
        def test_only_in_packaged_plan():
            pass
    """)
    result = run(pytester, "--golive-plan", str(GOOD_PLAN), "--golive-strict")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "test_only_in_packaged_plan: requirement 'PRE-ALGO-01' is not in plan test-go-live v1.0" in err
    assert "test_in_small_plan" not in err

    missing = run(pytester, "--golive-plan", str(pytester.path / "nowhere" / "plan.yaml"))
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    assert "golive: cannot load" in missing.stderr.str() and "nowhere" in missing.stderr.str()


def test_results_file_has_outcomes_durations_digests_and_ids(pytester):
    source = pytester.makepyfile(test_linked=LINKED_TESTS)
    result = run(pytester, "--golive-results", "test-results/golive-pytest.json", "--junitxml", "junit.xml")
    result.assert_outcomes(passed=2, failed=1, errors=1, skipped=1, xfailed=1)
    assert "golive" not in (pytester.path / "junit.xml").read_text()  # no transport property leaks
    out = pytester.path / "test-results" / "golive-pytest.json"
    result.stdout.fnmatch_lines([f"golive: 6 test outcome(s) written to {out}"])
    doc = json.loads(out.read_text())
    assert doc["golive_pytest_results"] == "1"
    assert doc["exitcode"] == 1
    assert doc["plan"]["id"] == "live-trading-go-live"
    tests = {t["nodeid"].split("::")[-1]: t for t in doc["tests"]}
    assert {name: t["outcome"] for name, t in tests.items()} == {
        "test_entry_point": "passed", "test_timing_fails": "failed", "test_setup_error": "error",
        "test_skipped": "skipped", "test_known_gap": "xfailed", "test_unlinked": "passed"}
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    for entry in tests.values():
        assert entry["source_sha256"] == digest
        assert entry["path"] == "test_linked.py"
        assert entry["duration"] >= 0
        stages = [entry[s]["duration"] for s in ("setup", "call", "teardown") if s in entry]
        assert entry["duration"] == pytest.approx(sum(stages), abs=1e-5)
    assert tests["test_timing_fails"]["requirements"] == ["PRE-PIPE-01", "PRE-PIPE-04"]
    assert tests["test_setup_error"]["requirements"] == ["PRE-PIPE-04"]
    assert tests["test_unlinked"]["requirements"] == []
    assert doc["summary"] == {"passed": 2, "failed": 1, "error": 1, "skipped": 1, "xfailed": 1}


def test_traceability_reads_the_results_as_evidence(pytester):
    pytester.makepyfile(test_linked=LINKED_TESTS)
    run(pytester, "--golive-results", "test-results/golive-pytest.json")
    found = discover(Target(root=pytester.path))
    assert found.warnings == []
    assert found.result_files == ["test-results/golive-pytest.json"]
    records = {r.id: r for r in found.records}
    assert records["test_linked.py::test_timing_fails"].outcome == "failed"
    assert records["test_linked.py::test_setup_error"].outcome == "error"
    assert records["test_linked.py::test_known_gap"].outcome == "skipped"  # xfailed proves nothing
    entry = records["test_linked.py::test_entry_point"]
    assert entry.outcome == "passed" and entry.duration_s is not None and entry.runs == 1
    assert entry.result_files == ("test-results/golive-pytest.json",)

    from golive.plan import load

    plan = load(GOOD_PLAN)
    links = link([plan.requirement("PRE-PIPE-01"), plan.requirement("PRE-PIPE-04")], found.records)
    assert sorted(r.id for r in links["PRE-PIPE-01"]) == [
        "test_linked.py::test_entry_point", "test_linked.py::test_timing_fails"]
    assert len([r for r in links["PRE-PIPE-04"] if r.kind == "pytest"]) == 4


def test_a_relative_plan_path_is_read_from_where_pytest_ran(pytester, monkeypatch):
    """pytest's rootdir (the folder of the ini file) is not the shell's folder: ``--golive-plan
    plan`` typed in ``proj/sub`` means ``proj/sub/plan``."""
    import shutil

    (pytester.path / "pytest.ini").write_text("[pytest]\n")
    sub = pytester.path / "sub"
    shutil.copytree(GOOD_PLAN, sub / "plan")
    (sub / "test_small.py").write_text(
        "import pytest\n\n@pytest.mark.requirement('PRE-PIPE-04')\ndef test_it():\n    pass\n")
    monkeypatch.chdir(sub)
    result = run(pytester, "test_small.py", "--golive-plan", "plan", "--golive-strict",
                 "--golive-results", "out.json")
    assert result.ret == 0, result.stderr.str()
    doc = json.loads((sub / "out.json").read_text())
    assert doc["plan"]["id"] == "test-go-live" and doc["plan"]["path"] == str(sub / "plan")


@pytest.mark.parametrize("broken", ["plan", "syntax"])
def test_a_failed_collection_keeps_the_previous_results_file(pytester, broken):
    out = pytester.path / "test-results" / "golive.json"
    out.parent.mkdir()
    out.write_text('{"previous": true}')
    pytester.makepyfile(test_ok="def test_fine():\n    pass\n")
    if broken == "syntax":
        pytester.makepyfile(test_bad="def test_broken(:\n    pass\n")
        args = ()
    else:
        args = ("--golive-plan", str(pytester.path / "nowhere"))
    result = run(pytester, "--golive-results", str(out), *args)
    assert result.ret in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.USAGE_ERROR)
    assert json.loads(out.read_text()) == {"previous": True}
