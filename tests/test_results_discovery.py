"""Result files found where CI tools put them, matched to tests across pytest rootdirs and JUnit
spellings, and bad result files skipped case by case (plugins/traceability/discovery.py, results.py)."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from golive.model import Target
from golive.plugins.traceability import discover
from golive.plugins.traceability.discovery import _CaseMatcher, find_result_files
from golive.plugins.traceability.pytest_files import FoundTest
from golive.plugins.traceability.results import CaseResult
from golive.run.target import load_target


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def junit(cases: str, tests: int | None = None, stamp: str = "2025-06-10T10:00:00") -> str:
    declared = f' tests="{tests}"' if tests is not None else ""
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="pytest"{declared} '
            f'timestamp="{stamp}">{cases}</testsuite></testsuites>\n')


TEST_MODULE = """
def test_a():
    pass

class TestA:
    def test_b(self):
        pass
"""


def outcomes(found) -> dict[str, str | None]:
    return {r.id: r.outcome for r in found.records if r.kind == "pytest"}


@pytest.fixture
def repo(tmp_path):
    write(tmp_path, "tests/unit/test_x.py", TEST_MODULE)
    return tmp_path


# -- where results are found -----------------------------------------------------------------

def test_reports_junit_results_xml_is_found_and_matched(repo):
    write(repo, "reports/junit/results.xml", junit("""
        <testcase classname="tests.unit.test_x" name="test_a" time="0.1"/>
        <testcase classname="tests.unit.test_x.TestA" name="test_b"><failure/></testcase>"""))
    found = discover(load_target(repo))
    assert found.result_files == ["reports/junit/results.xml"]
    assert outcomes(found) == {"tests/unit/test_x.py::test_a": "passed", "tests/unit/test_x.py::TestA::test_b": "failed"}
    assert found.warnings == []


@pytest.mark.parametrize("rel", [
    "target/surefire-reports/TEST-tests.unit.test_x.xml",
    "build/test-results/test/TEST-unit.xml",
    "ci/TEST-suite.xml",
    "out/junit/pytest.xml",
    "services/api/pytest-junit.xml",
    "deep/test-results/run.xml",
    "artifacts/anything.xml",  # no telling name or folder: found by its <testsuite> content
])
def test_junit_by_ci_conventions(repo, rel):
    write(repo, rel, junit('<testcase classname="tests.unit.test_x" name="test_a"/>'))
    found = discover(load_target(repo))
    assert found.result_files == [rel]
    assert outcomes(found)["tests/unit/test_x.py::test_a"] == "passed"


@pytest.mark.parametrize("rel", [".report.json", "ci/report.json", "out/unit.report.json", "artifacts/run.json"])
def test_pytest_json_report_by_name_or_content(repo, rel):
    write(repo, rel, json.dumps({"created": 1749600000.0, "exitcode": 0, "tests": [
        {"nodeid": "tests/unit/test_x.py::test_a", "outcome": "failed"}]}))
    found = discover(load_target(repo))
    assert found.result_files == [rel]
    assert outcomes(found)["tests/unit/test_x.py::test_a"] == "failed"


def test_random_json_and_xml_in_the_repo_are_ignored_without_warnings(repo):
    write(repo, "config/settings.json", '{"exchange": "XNYS", "tests": [1, 2]}')
    write(repo, "data/fixture.json", '{"test": "feed", "status": "open"}')  # sniffs like a result, is not
    write(repo, "data/broken.json", '{"nodeid": ')
    write(repo, "pom.xml", "<project><modelVersion>4.0.0</modelVersion></project>")
    write(repo, "tests/data/backtest-result.json", '{"strategy": {}}')
    write(repo, "docs/feed.xml", "<feed><entry/></feed>")
    found = discover(load_target(repo))
    assert found.result_files == []
    [warning] = found.warnings
    assert "no test result files found" in warning


def test_vendored_and_build_output_folders_are_not_searched(repo):
    case = junit('<testcase classname="tests.unit.test_x" name="test_a"/>')
    for rel in ("node_modules/pkg/junit.xml", ".venv/lib/junit.xml", ".git/junit.xml",
                "build/lib/junit.xml", "target/debug/junit.xml", ".tox/py311/junit.xml"):
        write(repo, rel, case)
    found = discover(load_target(repo))
    assert found.result_files == []


def test_no_results_warning_says_where_it_looked_and_how_to_configure(repo):
    found = discover(load_target(repo))
    [warning] = found.warnings
    assert "no test result files found" in warning
    for text in ("test-results/", "reports/", "TEST-*.xml", ".report.json", "golive.toml",
                 "traceability_results", "[paths] test_results"):
        assert text in warning
    assert "no results folder" not in warning


def test_configured_folder_and_globs(repo):
    write(repo, "golive.toml", """
        [paths]
        test_results = "ci-output"

        [settings]
        traceability_results = ["dist/custom/**/*.xml", "nowhere/*.json"]
    """)
    write(repo, "ci-output/run1.xml", junit('<testcase classname="tests.unit.test_x" name="test_a"/>',
                                            stamp="2025-06-10T10:00:00"))
    # inside a build-output folder that is never searched on its own: the glob opens it
    write(repo, "dist/custom/a/b/late.xml", junit('<testcase classname="tests.unit.test_x" name="test_a"><failure/></testcase>',
                                                  stamp="2025-06-11T10:00:00"))
    write(repo, "ci-output/notes.json", '{"hello": 1}')  # in a configured location: warned
    found = discover(load_target(repo))
    assert sorted(found.result_files) == ["ci-output/run1.xml", "dist/custom/a/b/late.xml"]
    record = next(r for r in found.records if r.id == "tests/unit/test_x.py::test_a")
    assert (record.outcome, record.runs) == ("failed", 2)
    assert any("ci-output/notes.json" in w for w in found.warnings)
    assert any("'nowhere/*.json' matches no file" in w and "golive.toml" in w for w in found.warnings)


def test_missing_configured_folder_is_warned(repo):
    write(repo, "golive.toml", '[paths]\ntest_results = "ci-output"\n')
    found = discover(load_target(repo))
    assert any("test_results" in w and "ci-output" in w and "does not exist" in w for w in found.warnings)


@pytest.mark.parametrize("value, message", [
    ('"not-a-list" = 1', None),
    ("traceability_results = [3]", "traceability_results must be a list of glob strings"),
    ('traceability_results = ["ci/[abc.xml"]', "unterminated character class"),
    ('traceability_results = [""]', "traceability_results must be a list of glob strings"),
])
def test_bad_results_setting_is_a_clear_error_naming_golive_toml(repo, value, message):
    write(repo, "golive.toml", f"[settings]\n{value}\n")
    if message is None:
        discover(load_target(repo))
        return
    with pytest.raises(ValueError, match="golive.toml") as info:
        discover(load_target(repo))
    assert message in str(info.value)


def test_exclude_globs_apply_to_results_too(repo):
    write(repo, "golive.toml", '[settings]\ntraceability_exclude = ["legacy/**"]\n')
    write(repo, "legacy/test-results/old.xml", junit('<testcase classname="tests.unit.test_x" name="test_a"/>'))
    write(repo, "test-results/new.xml", junit('<testcase classname="tests.unit.test_x" name="test_a"/>'))
    assert discover(load_target(repo)).result_files == ["test-results/new.xml"]


def test_result_symlinks_out_looping_or_dangling_are_warned_and_the_run_goes_on(tmp_path):
    outside = tmp_path / "outside"
    write(outside, "junit.xml", junit('<testcase classname="x" name="test_leak"/>'))
    ws = tmp_path / "ws"
    write(ws, "test-results/good.xml", junit('<testcase classname="x" name="test_ok"/>'))
    (ws / "test-results" / "leak.xml").symlink_to(outside / "junit.xml")
    (ws / "test-results" / "loop_a.xml").symlink_to(ws / "test-results" / "loop_b.xml")
    (ws / "test-results" / "loop_b.xml").symlink_to(ws / "test-results" / "loop_a.xml")
    (ws / "test-results" / "gone.xml").symlink_to(ws / "test-results" / "nothing.xml")
    (ws / "test-results" / "same.xml").symlink_to(ws / "test-results" / "good.xml")  # read once
    found = discover(Target(root=ws))
    assert found.result_files == ["test-results/good.xml"]
    text = "\n".join(found.warnings)
    assert "test-results/leak.xml: symlink leads outside the workspace" in text
    assert "test-results/loop_a.xml: symlink loop" in text
    assert "test-results/gone.xml: dangling symlink" in text
    assert "test_leak" not in " ".join(r.id for r in found.records)


def test_walk_is_capped(repo, monkeypatch):
    from golive.plugins.traceability import discovery

    monkeypatch.setattr(discovery, "MAX_RESULT_FILES", 2)
    for n in range(4):
        write(repo, f"test-results/run{n}.xml", junit('<testcase classname="tests.unit.test_x" name="test_a"/>'))
    found = discover(load_target(repo))
    assert len(found.result_files) == 2
    assert any("stopped searching for result files" in w for w in found.warnings)


# -- bad result files: skip the case, not the file ----------------------------------------

def test_testcase_without_name_skips_that_case_only(repo):
    write(repo, "test-results/run.xml", junit("""
        <testcase classname="tests.unit.test_x" name="test_a"/>
        <testcase classname="tests.unit.test_x.TestA"/>
        <testcase classname="tests.unit.test_x.TestA" name="test_b"/>""", tests=3))
    found = discover(load_target(repo))
    assert found.result_files == ["test-results/run.xml"]
    assert outcomes(found) == {"tests/unit/test_x.py::test_a": "passed", "tests/unit/test_x.py::TestA::test_b": "passed"}
    [warning] = found.warnings
    assert "test-results/run.xml" in warning and "#1" in warning and "has no name" in warning
    assert "1 of 3" in warning


def test_declared_tests_without_testcases_is_unreadable_not_zero(repo):
    write(repo, "test-results/hollow.xml", junit("", tests=6))
    write(repo, "test-results/empty.xml", junit("", tests=0))  # an honest empty run
    found = discover(load_target(repo))
    assert found.result_files == ["test-results/empty.xml"]
    [warning] = found.warnings
    assert "test-results/hollow.xml" in warning and "declares 6 test(s) but holds no <testcase>" in warning


def test_report_entry_without_nodeid_or_outcome_skips_that_entry(repo):
    write(repo, "test-results/r.json", json.dumps({"tests": [
        {"nodeid": "tests/unit/test_x.py::test_a", "outcome": "passed"},
        {"outcome": "passed"},
        {"nodeid": "tests/unit/test_x.py::TestA::test_b", "outcome": "exploded"}]}))
    found = discover(load_target(repo))
    assert outcomes(found) == {"tests/unit/test_x.py::test_a": "passed", "tests/unit/test_x.py::TestA::test_b": None}
    [warning] = found.warnings
    assert "tests[1]" in warning and "tests[2]" in warning and "2 of 3" in warning


# -- matching outcomes to tests across layouts ----------------------------------------------

@pytest.fixture
def layouts(tmp_path):
    for rel in ("tests/unit/test_x.py", "tests/integration/test_x.py", "src/pkg/tests/unit/test_y.py"):
        write(tmp_path, rel, TEST_MODULE)
    return tmp_path


def run_one(ws: Path, case: str) -> tuple[dict[str, str | None], list[str]]:
    for old in (ws / "test-results").glob("*"):
        old.unlink()
    write(ws, "test-results/run.xml", junit(case)) if case.startswith("<") else write(ws, "test-results/run.json", case)
    found = discover(Target(root=ws))
    return {k: v for k, v in outcomes(found).items() if v}, found.warnings


def report(*nodeids: str) -> str:
    return json.dumps({"tests": [{"nodeid": n, "outcome": "passed"} for n in nodeids]})


@pytest.mark.parametrize("case, expected", [
    # node ids: exact, rootdir deeper (pytest run from tests/), rootdir higher (monorepo)
    (report("tests/unit/test_x.py::test_a"), "tests/unit/test_x.py::test_a"),
    (report("unit/test_x.py::TestA::test_b[1]"), "tests/unit/test_x.py::TestA::test_b"),
    (report("monorepo/svc/tests/integration/test_x.py::test_a"), "tests/integration/test_x.py::test_a"),
    (report("./pkg/tests/unit/test_y.py::test_a"), "src/pkg/tests/unit/test_y.py::test_a"),
    (report("pkg\\tests\\unit\\test_y.py::test_a"), "src/pkg/tests/unit/test_y.py::test_a"),
    # JUnit classnames
    ('<testcase classname="tests.unit.test_x.TestA" name="test_b"/>', "tests/unit/test_x.py::TestA::test_b"),
    ('<testcase classname="pkg.tests.unit.test_y" name="test_a"/>', "src/pkg/tests/unit/test_y.py::test_a"),
    ('<testcase classname="integration.test_x" name="test_a"/>', "tests/integration/test_x.py::test_a"),
    ('<testcase classname="repo.src.pkg.tests.unit.test_y.TestA" name="test_b[x-1]"/>',
     "src/pkg/tests/unit/test_y.py::TestA::test_b"),
    # the file= attribute (pytest xunit1) decides between same-named modules
    ('<testcase classname="test_x" name="test_a" file="unit/test_x.py"/>', "tests/unit/test_x.py::test_a"),
    ('<testcase classname="test_x.TestA" name="test_b" file="tests/integration/test_x.py"/>',
     "tests/integration/test_x.py::TestA::test_b"),
    ('<testcase classname="Whatever" name="test_b" file="tests/integration/test_x.py"/>',
     "tests/integration/test_x.py::TestA::test_b"),
])
def test_outcomes_match_across_layouts(layouts, case, expected):
    matched, warnings = run_one(layouts, case)
    assert matched == {expected: "passed"}
    assert warnings == []


@pytest.mark.parametrize("case", [
    report("test_x.py::test_a"),
    '<testcase classname="test_x" name="test_a"/>',
    '<testcase classname="test_x.TestA" name="test_b"/>',
])
def test_ambiguous_case_is_reported_and_attributed_to_no_test(layouts, case):
    matched, warnings = run_one(layouts, case)
    assert matched == {}
    [warning] = warnings
    assert "match several tests" in warning
    assert "tests/unit/test_x.py" in warning and "tests/integration/test_x.py" in warning


def test_exact_beats_suffix_and_longest_suffix_wins(tmp_path):
    body = "def test_a():\n    pass\n"
    write(tmp_path, "tests/unit/test_x.py", body)
    write(tmp_path, "src/pkg/tests/unit/test_x.py", body)
    matched, warnings = run_one(tmp_path, report("tests/unit/test_x.py::test_a"))
    assert matched == {"tests/unit/test_x.py::test_a": "passed"} and warnings == []
    # shares 4 trailing parts with src/pkg/..., 3 with tests/unit/...: the longer wins
    matched, warnings = run_one(tmp_path, report("pkg/tests/unit/test_x.py::test_a"))
    assert matched == {"src/pkg/tests/unit/test_x.py::test_a": "passed"} and warnings == []


def test_matcher_with_10000_same_named_tests_in_same_named_files():
    # the worst layout for a by-name index: every test is tests/m<i>/test_x.py::test_it
    tests = [FoundTest(node_id=f"tests/m{i}/test_x.py::test_it", path=f"tests/m{i}/test_x.py",
                       name="test_it", classes=(), requirements=(), line=1) for i in range(10_000)]
    matcher = _CaseMatcher(tests)
    for i in range(0, 10_000, 3):
        assert matcher.match(CaseResult("passed", None, nodeid=f"m{i}/test_x.py::test_it[p]")) == (tests[i].node_id, ())
        assert matcher.match(CaseResult("passed", None, classname=f"repo.tests.m{i}.test_x", name="test_it")) == (
            tests[i].node_id, ())
        assert matcher.match(CaseResult("passed", None, classname="test_x", name="test_it", file=f"m{i}/test_x.py")) == (
            tests[i].node_id, ())
    node_id, several = matcher.match(CaseResult("passed", None, nodeid="test_x.py::test_it"))
    assert node_id is None and len(several) == 10_000


def test_find_result_files_lists_locations_as_loud(repo):
    write(repo, "test-results/x.json", "{}")
    write(repo, "misc/x.json", "{}")
    search = find_result_files(load_target(repo))
    assert [(c.rel, c.loud) for c in search.candidates] == [("test-results/x.json", True)]


def test_configured_results_folder_dot_means_anywhere_not_everything_loud(repo):
    write(repo, "golive.toml", '[paths]\ntest_results = "."\n')
    write(repo, "data/fixture.json", '{"a": 1}')
    write(repo, "ci/out.xml", junit('<testcase classname="tests.unit.test_x" name="test_a"/>'))
    found = discover(load_target(repo))
    assert found.result_files == ["ci/out.xml"] and found.warnings == []
