"""Tests for the traceability plugin: static test discovery, result files, globs, linking, the
``linked_tests`` check, and the reference fixture workspace against the requirements index."""
from __future__ import annotations

import importlib.metadata
import json
import logging
import sys
import textwrap
from pathlib import Path

import pytest

from golive.model import CheckContext, CoveredBy, Requirement, Status, Target
from golive.model import TestRecord as Record  # aliased so pytest does not try to collect it
from golive.pluginmanager import create_host
from golive.plugins import traceability
from golive.plugins.traceability import (
    GlobError, discover, glob_match, glob_to_regex, link, linked_tests, uncovered,
)
from golive.plugins.traceability import mapfile
from golive.run.target import load_target

HERE = Path(__file__).parent
REFERENCE = HERE / "fixtures" / "reference-workspace"
INDEX = HERE / "reference" / "requirements_index.tsv"


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def target_of(root: Path) -> Target:
    return Target(root=root, paths={})


def by_id(found) -> dict[str, Record]:
    return {r.id: r for r in found.records}


def requirement(rid: str, tests=(), results=(), markers=()) -> Requirement:
    return Requirement(id=rid, title=rid, statement=rid, category="c", priority="P1", plan_lines=(1, 1),
                       covered_by=CoveredBy(tests=tuple(tests), results=tuple(results), markers=tuple(markers)))


# -- discovery of pytest tests ---------------------------------------------------------------

def test_discovers_functions_methods_and_markers_at_any_depth(tmp_path):
    write(tmp_path, "tests/a/b/c/test_deep.py", """
        import pytest
        from pytest import mark as m

        pytestmark = [pytest.mark.requirement("MOD-1"), pytest.mark.slow]

        @pytest.mark.requirement("F-1", "F-2")
        def test_function():
            pass

        @m.requirement(ids=["KW-1", "KW-2"])
        async def test_async_with_keyword_ids():
            pass

        def helper_not_a_test():
            pass

        @pytest.mark.requirement("CLS-1")
        class TestThing:
            pytestmark = pytest.mark.requirement("CLSMARK-1")

            @pytest.mark.requirement("M-1")
            def test_method(self):
                pass

            class TestNested:
                def test_inner(self):
                    pass

        class Helper:
            def test_not_collected(self):
                pass
    """)
    write(tmp_path, "tests/other_test.py", """
        import pytest as pt
        pytestmark = pt.mark.requirement("SINGLE-1")
        requirement = pt.mark.requirement

        @requirement("ALIAS-1")
        def test_alias():
            pass
    """)
    records = by_id(discover(target_of(tmp_path)))
    deep = "tests/a/b/c/test_deep.py"
    assert set(records) == {
        f"{deep}::test_function", f"{deep}::test_async_with_keyword_ids", f"{deep}::TestThing::test_method",
        f"{deep}::TestThing::TestNested::test_inner", "tests/other_test.py::test_alias",
    }
    assert records[f"{deep}::test_function"].requirements == ("MOD-1", "F-1", "F-2")
    assert records[f"{deep}::test_async_with_keyword_ids"].requirements == ("MOD-1", "KW-1", "KW-2")
    assert records[f"{deep}::TestThing::test_method"].requirements == ("MOD-1", "CLS-1", "CLSMARK-1", "M-1")
    assert records[f"{deep}::TestThing::TestNested::test_inner"].requirements == ("MOD-1", "CLS-1", "CLSMARK-1")
    assert records["tests/other_test.py::test_alias"].requirements == ("SINGLE-1", "ALIAS-1")
    method = records[f"{deep}::TestThing::test_method"]
    assert (method.kind, method.path, method.name, method.outcome) == ("pytest", deep, "test_method", None)


def test_inherited_methods_and_uncollectable_classes(tmp_path):
    write(tmp_path, "tests/test_inherit.py", """
        import pytest

        @pytest.mark.requirement("BASE-1")
        class FeedContract:
            def test_connects(self):
                pass

            def test_overridden(self):
                pass

        class TestDatabento(FeedContract):
            @pytest.mark.requirement("OWN-1")
            def test_overridden(self):
                pass

        class TestHasInit:
            def __init__(self):
                pass

            def test_never_collected(self):
                pass

        class TestDisabled:
            __test__ = False

            def test_never_collected(self):
                pass
    """)
    records = by_id(discover(target_of(tmp_path)))
    assert {rid: r.requirements for rid, r in records.items()} == {
        "tests/test_inherit.py::TestDatabento::test_overridden": ("BASE-1", "OWN-1"),
        "tests/test_inherit.py::TestDatabento::test_connects": ("BASE-1",),
    }


def test_skips_vendored_folders_and_non_test_files(tmp_path):
    for folder in (".venv/lib", "node_modules/x", "lib/site-packages/y", ".git/hooks"):
        write(tmp_path, f"{folder}/test_vendored.py", "def test_vendored():\n    pass\n")
    write(tmp_path, "tests/helpers.py", "def test_looks_like_a_test():\n    pass\n")
    write(tmp_path, "tests/test_real.py", "def test_real():\n    pass\n")
    found = discover(target_of(tmp_path))
    assert [r.id for r in found.records] == ["tests/test_real.py::test_real"]
    assert found.test_files == ["tests/test_real.py"]


def test_tests_beside_the_code_exclusions_and_results_folder_spelling(tmp_path):
    write(tmp_path, "golive.toml", '[settings]\ntraceability_exclude = ["legacy/**", "**/test_scratch*.py"]\n')
    write(tmp_path, "src/pricing/tests/test_greeks.py", "def test_delta():\n    pass\n")
    write(tmp_path, "tests/test_scratch_ideas.py", "def test_idea():\n    pass\n")
    write(tmp_path, "legacy/test_old.py", "def test_old():\n    pass\n")
    write(tmp_path, "test_results/run.json", json.dumps({"tests": [
        {"nodeid": "src/pricing/tests/test_greeks.py::test_delta", "outcome": "passed", "duration": 0.1}]}))
    found = discover(load_target(tmp_path))  # default paths: tests/ and test-results/ do not exist
    assert [(r.id, r.outcome) for r in found.records if r.kind == "pytest"] == [
        ("src/pricing/tests/test_greeks.py::test_delta", "passed")]
    assert found.result_files == ["test_results/run.json"]
    assert found.warnings == []


def test_bad_exclude_setting_names_the_setting(tmp_path):
    with pytest.raises(ValueError, match="traceability_exclude must be a list of glob strings"):
        discover(Target(root=tmp_path, settings={"traceability_exclude": [3]}))


def test_symlinks_out_of_the_workspace_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    write(outside, "test_elsewhere.py", "def test_elsewhere():\n    pass\n")
    write(outside, "leak.json", json.dumps({"test": "leak", "status": "passed"}))
    ws = tmp_path / "ws"
    write(ws, "tests/test_here.py", "def test_here():\n    pass\n")
    (ws / "tests" / "test_link.py").symlink_to(outside / "test_elsewhere.py")
    (ws / "tests" / "linked_dir").symlink_to(outside, target_is_directory=True)
    (ws / "test-results").mkdir()
    (ws / "test-results" / "leak.json").symlink_to(outside / "leak.json")
    found = discover(target_of(ws))
    assert [r.id for r in found.records] == ["tests/test_here.py::test_here"]


def test_syntax_error_file_is_reported_and_skipped(tmp_path, caplog):
    write(tmp_path, "tests/test_broken.py", "def test_broken(:\n    pass\n")
    write(tmp_path, "tests/test_fine.py", "def test_fine():\n    pass\n")
    with caplog.at_level(logging.WARNING, logger="golive.plugins.traceability"):
        found = discover(target_of(tmp_path))
    assert [r.id for r in found.records] == ["tests/test_fine.py::test_fine"]
    assert any("tests/test_broken.py:1" in w and "syntax error" in w for w in found.warnings)
    assert "tests/test_broken.py" in caplog.text


def test_non_literal_marker_id_is_warned(tmp_path):
    write(tmp_path, "tests/test_dynamic.py", """
        import pytest
        REQ = "X-1"

        @pytest.mark.requirement(REQ, "Y-1")
        def test_dynamic():
            pass
    """)
    found = discover(target_of(tmp_path))
    assert found.records[0].requirements == ("Y-1",)
    assert any("tests/test_dynamic.py:4" in w and "'REQ'" in w for w in found.warnings)


def test_target_code_is_never_imported_or_run(tmp_path):
    sentinel = tmp_path / "imported.flag"
    write(tmp_path, "tests/test_hostile.py", f"""
        import sys
        open({str(sentinel)!r}, "w").write("ran")
        sys.exit("importing the team's tests must never happen")
        raise RuntimeError("nor this")

        def test_survives():
            pass
    """)
    found = discover(target_of(tmp_path))
    assert [r.id for r in found.records] == ["tests/test_hostile.py::test_survives"]
    assert not sentinel.exists()
    assert "test_hostile" not in sys.modules


# -- result files ----------------------------------------------------------------------------

JUNIT_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4" timestamp="{stamp}">{cases}</testsuite></testsuites>
"""


def junit(cases: str, stamp: str = "2025-06-10T10:00:00") -> str:
    return JUNIT_TEMPLATE.format(cases=cases, stamp=stamp)


@pytest.fixture
def small_repo(tmp_path):
    write(tmp_path, "tests/feed/test_feed.py", """
        import pytest

        @pytest.mark.requirement("R-1")
        def test_a():
            pass

        def test_b():
            pass

        class TestC:
            @pytest.mark.parametrize("n", [1, 2])
            def test_c(self, n):
                pass

        def test_d():
            pass
    """)
    return tmp_path


def test_junit_outcomes_durations_and_class_mapping(small_repo):
    write(small_repo, "test-results/run.xml", junit("""
        <testcase classname="tests.feed.test_feed" name="test_a" time="0.25"/>
        <testcase classname="tests.feed.test_feed" name="test_b" time="1.5"><failure message="boom">trace</failure></testcase>
        <testcase classname="tests.feed.test_feed.TestC" name="test_c[1]" time="0.1"/>
        <testcase classname="tests.feed.test_feed.TestC" name="test_c[2]" time="0.2"><skipped message="no"/></testcase>
        <testcase classname="tests.feed.test_feed" name="test_d" time="0.3"><error message="setup"/></testcase>
    """))
    found = discover(target_of(small_repo))
    records = by_id(found)
    assert found.result_files == ["test-results/run.xml"]
    assert (records["tests/feed/test_feed.py::test_a"].outcome, records["tests/feed/test_feed.py::test_a"].duration_s) == ("passed", 0.25)
    assert records["tests/feed/test_feed.py::test_b"].outcome == "failed"
    # parametrised cases of one run: the worst outcome that ran, times summed
    assert records["tests/feed/test_feed.py::TestC::test_c"].outcome == "passed"
    assert records["tests/feed/test_feed.py::TestC::test_c"].duration_s == pytest.approx(0.3)
    assert records["tests/feed/test_feed.py::test_d"].outcome == "error"
    container = records["test-results/run.xml"]
    assert (container.kind, container.outcome) == ("junit", "error")


def test_junit_from_another_rootdir_maps_by_suffix(small_repo):
    write(small_repo, "test-results/from_tests_dir.xml",
          junit('<testcase classname="feed.test_feed" name="test_b" time="0.1"/>'))
    write(small_repo, "test-results/from_monorepo.xml",
          junit('<testcase classname="repo.tests.feed.test_feed" name="test_a" time="0.1"/>'))
    records = by_id(discover(target_of(small_repo)))
    assert records["tests/feed/test_feed.py::test_b"].outcome == "passed"
    assert records["tests/feed/test_feed.py::test_a"].outcome == "passed"


def test_pytest_json_report_and_latest_run_wins(small_repo):
    report = {"created": 1749600000.0, "tests": [
        {"nodeid": "tests/feed/test_feed.py::test_a", "outcome": "failed",
         "setup": {"duration": 0.01}, "call": {"duration": 0.5}, "teardown": {"duration": 0.04}},
        {"nodeid": "tests/feed/test_feed.py::TestC::test_c[1]", "outcome": "passed", "duration": 0.2},
    ]}
    write(small_repo, "test-results/json/first.json", json.dumps(report))
    write(small_repo, "test-results/later.xml",
          junit('<testcase classname="tests.feed.test_feed" name="test_a" time="0.4"/>', stamp="2025-06-12T09:00:00"))
    records = by_id(discover(target_of(small_repo)))
    a = records["tests/feed/test_feed.py::test_a"]
    assert (a.outcome, a.runs, a.duration_s) == ("passed", 2, 0.4)
    assert a.result_files == ("test-results/json/first.json", "test-results/later.xml")
    assert records["tests/feed/test_feed.py::TestC::test_c"].outcome == "passed"
    assert records["test-results/json/first.json"].kind == "pytest-json-report"
    assert records["test-results/json/first.json"].duration_s == pytest.approx(0.75)


def test_earlier_pass_does_not_hide_a_later_failure(small_repo):
    write(small_repo, "test-results/old.xml",
          junit('<testcase classname="tests.feed.test_feed" name="test_a"/>', stamp="2025-06-10T09:00:00"))
    write(small_repo, "test-results/new.xml",
          junit('<testcase classname="tests.feed.test_feed" name="test_a"><failure/></testcase>', stamp="2025-06-11T09:00:00"))
    record = by_id(discover(target_of(small_repo)))["tests/feed/test_feed.py::test_a"]
    assert (record.outcome, record.runs) == ("failed", 2)


def test_standalone_golive_result_is_its_own_record(tmp_path):
    write(tmp_path, "test-results/cache_management_test_20250611_204804.json", json.dumps({
        "test": "cache_management", "status": "PASS", "timestamp": "2025-06-11T20:48:04",
        "metrics": {"hit_ratio": 0.9, "duration_s": 12.5}, "requirements": ["PRE-FEED-05"]}))
    [record] = discover(target_of(tmp_path)).records
    assert (record.id, record.kind, record.name, record.outcome) == (
        "test-results/cache_management_test_20250611_204804.json", "result-json", "cache_management", "passed")
    assert record.requirements == ("PRE-FEED-05",)
    assert record.duration_s == 12.5
    assert record.metrics["hit_ratio"] == 0.9


def test_result_without_source_becomes_a_result_case(tmp_path):
    write(tmp_path, "test-results/r.json", json.dumps({"tests": [
        {"nodeid": "gone/test_removed.py::test_old[x]", "outcome": "passed", "duration": 1}]}))
    records = by_id(discover(target_of(tmp_path)))
    orphan = records["gone/test_removed.py::test_old"]
    assert (orphan.kind, orphan.outcome, orphan.path) == ("result-case", "passed", "test-results/r.json")


@pytest.mark.parametrize("name, content, expected", [
    ("bad.xml", "<testsuite><testcase name='x'>", "malformed XML"),
    ("bad.json", '{"tests": [', "malformed JSON"),
    ("other.json", '{"hello": "world"}', "neither a pytest-json-report"),
    ("other.xml", "<config><a/></config>", "not a JUnit"),
    ("status.json", '{"test": "x", "status": "maybe"}', "'maybe' is not one of"),
])
def test_malformed_result_files_are_warned_and_skipped(tmp_path, name, content, expected):
    write(tmp_path, f"test-results/{name}", content)
    write(tmp_path, "test-results/good.json", json.dumps({"test": "ok", "status": "passed"}))
    found = discover(target_of(tmp_path))
    assert [r.id for r in found.records] == ["test-results/good.json"]
    assert found.result_files == ["test-results/good.json"]
    [warning] = found.warnings
    assert f"test-results/{name}" in warning and expected in warning


def test_xxe_and_entity_expansion_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-KEY")
    write(tmp_path, "test-results/xxe.xml", f"""<?xml version="1.0"?>
        <!DOCTYPE r [<!ENTITY leak SYSTEM "file://{secret}">]>
        <testsuite><testcase classname="a" name="&leak;"/></testsuite>""")
    write(tmp_path, "test-results/laughs.xml", """<?xml version="1.0"?>
        <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
        <testsuite><testcase classname="a" name="&lol2;"/></testsuite>""")
    found = discover(target_of(tmp_path))
    assert found.records == []
    assert len(found.warnings) == 2
    assert all("refused" in w and "DOCTYPE" in w for w in found.warnings)
    assert "TOP-SECRET-KEY" not in " ".join(found.warnings)


# -- globs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path, pattern, matches", [
    ("tests/feed/test_x.py", "**/test_x.py", True),
    ("test_x.py", "**/test_x.py", True),
    ("tests/feed/test_x.py", "tests/**/test_*.py", True),
    ("tests/test_x.py", "tests/**/test_*.py", True),
    ("tests/a/b/c/test_x.py", "tests/**/c/*.py", True),
    ("tests/a/b/test_x.py", "tests/**/c/*.py", False),
    ("tests/feed/test_x.py", "tests/*.py", False),
    ("tests/feed/test_x.py", "tests/feed/**", True),
    ("other/feed/test_x.py", "tests/**", False),
    ("tests/feed/test_x.py", "test_x.py", True),
    ("tests/feed/test_1.py", "**/test_[0-9].py", True),
    ("tests/feed/test_a.py", "**/test_[!0-9].py", True),
    ("tests/feed/test_1.py", "**/test_[!0-9].py", False),
    ("tests/feed/x/y.py", "tests/feed?x/y.py", False),
    ("tests/feed/test_x.py::TestA::test_b", "**/test_x.py::*", True),
    ("a.b", "a[.]b", True),
    ("a+b", "a+b", True),
])
def test_glob_matching(path, pattern, matches):
    assert glob_match(path, pattern) is matches


def test_bad_glob_is_a_clear_error():
    with pytest.raises(GlobError, match="unterminated character class"):
        glob_to_regex("tests/[abc.py")


# -- linking ---------------------------------------------------------------------------------

def record(rid: str, kind: str = "pytest", requirements=(), outcome=None, path=None) -> Record:
    return Record(id=rid, path=path or rid.split("::")[0], kind=kind, requirements=tuple(requirements), outcome=outcome)


def test_link_by_marker_extra_marker_and_globs():
    by_marker = record("tests/test_a.py::test_1", requirements=["R-1"])
    by_alias = record("tests/test_a.py::test_2", requirements=["ALIAS"])
    by_test_glob = record("tests/timing/test_pipeline_timing.py::test_t")
    result = record("test-results/cache_test_1.json", kind="result-json")
    junit_file = record("test-results/junit/run.xml", kind="junit")
    stray = record("tests/test_b.py::test_3", requirements=["OTHER"])
    requirements = [
        requirement("R-1", markers=["ALIAS"]),
        requirement("R-2", tests=["**/test_pipeline_timing*.py"], results=["**/cache_test_*.json"]),
        requirement("R-3", results=["**/junit/*.xml"], tests=["test-results/**"]),
        requirement("R-4"),
    ]
    records = [by_marker, by_alias, by_test_glob, result, junit_file, stray]
    links = link(requirements, records)
    assert links == {"R-1": [by_marker, by_alias], "R-2": [by_test_glob, result], "R-3": [junit_file], "R-4": []}
    # containers are never "additional tests"; an unlinked standalone result is
    assert uncovered(records, links) == [stray]
    assert uncovered(records, link([requirements[0]], records)) == [by_test_glob, result, stray]


# -- the linked_tests check ------------------------------------------------------------------

def run_check(tests, tmp_path, **params):
    ctx = CheckContext(target=Target(root=tmp_path), params=params, settings={},
                       log=logging.getLogger("test"), tests=tests)
    return linked_tests(requirement("R-1"), ctx), ctx


def test_linked_tests_missing_when_nothing_covers(tmp_path):
    result, _ = run_check([], tmp_path)
    assert result.status is Status.MISSING
    assert result.message == "no test or result covers it"
    assert result.metrics["tests"] == 0


def test_linked_tests_fail_names_the_failures(tmp_path):
    tests = [record("t::a", outcome="passed"), record("t::b", outcome="failed"), record("t::c", outcome="error")]
    result, _ = run_check(tests, tmp_path)
    assert result.status is Status.FAIL
    assert "t::b" in result.message and "t::c" in result.message and "t::a" not in result.message
    assert {k: result.metrics[k] for k in ("tests", "passed", "failed", "without_result")} == {
        "tests": 3, "passed": 1, "failed": 2, "without_result": 0}
    assert result.metrics["pass_rate"] == pytest.approx(1 / 3)


def test_linked_tests_partial_without_results_unless_min_pass_rate_met(tmp_path):
    tests = [record(f"t::p{i}", outcome="passed") for i in range(3)] + [record("t::none")]
    result, _ = run_check(tests, tmp_path)
    assert result.status is Status.PARTIAL
    assert "t::none" in result.message
    assert result.metrics["without_result"] == 1 and result.metrics["pass_rate"] == 0.75
    assert run_check(tests, tmp_path, min_pass_rate=0.75)[0].status is Status.PASS
    assert run_check(tests, tmp_path, min_pass_rate=0.8)[0].status is Status.PARTIAL
    skipped, _ = run_check([record("t::s", outcome="skipped")], tmp_path)
    assert skipped.status is Status.PARTIAL and "1 skipped: t::s" in skipped.message


def test_linked_tests_pass_records_evidence(tmp_path):
    write(tmp_path, "tests/test_a.py", "def test_a():\n    pass\n")
    write(tmp_path, "test-results/r.json", '{"test": "r", "status": "passed"}')
    tests = [record("tests/test_a.py::test_a", outcome="passed"),
             record("test-results/r.json", kind="result-json", outcome="passed")]
    result, ctx = run_check(tests, tmp_path)
    assert result.status is Status.PASS
    assert result.metrics["pass_rate"] == 1.0
    assert {(a.path, a.role) for a in ctx.artifacts} == {("tests/test_a.py", "input"), ("test-results/r.json", "test-result")}
    assert all(len(a.sha256) == 64 for a in ctx.artifacts)


def test_plugin_is_registered_and_answers_through_pluggy():
    names = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="golive")}
    assert names["traceability"] == "golive.plugins.traceability"
    host = create_host(load_entry_points=False, extra=[("traceability", traceability)])
    spec = host.checks()["traceability.linked_tests"]
    assert set(spec.metrics) >= {"tests", "passed", "failed", "without_result", "pass_rate"}
    [records] = host.hook.golive_test_sources(target=load_target(REFERENCE))
    assert len({r.path for r in records if r.kind == "pytest"}) == 23
    assert len({r.path for r in records if r.kind != "pytest"}) == 31


# -- the reference fixture workspace ---------------------------------------------------------

def index_rows() -> list[list[str]]:
    return [line.rstrip("\n").split("\t") for line in INDEX.read_text(encoding="utf-8").splitlines(keepends=True)
            if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def reference():
    target = Target(root=REFERENCE.resolve(), paths={"tests": REFERENCE.resolve() / "tests",
                                                     "test_results": REFERENCE.resolve() / "test-results"})
    found = discover(target)
    requirements = [requirement(row[0]) for row in index_rows()]
    # the team marks nothing: its links are the reviewed map file golive-links.yaml
    link_map = mapfile.load(REFERENCE / "golive-links.yaml", REFERENCE.resolve())
    assert link_map.problems == [] and link_map.review([r.id for r in requirements], found.records) == []
    return found, requirements, link(requirements, found.records, link_map)


def test_reference_counts(reference):
    found, _, _ = reference
    assert found.warnings == []
    assert len(found.test_files) == 23
    assert len(found.result_files) == 31
    assert len({r.path for r in found.records if r.kind != "pytest"}) == 31


def test_reference_coverage_matches_the_index(reference):
    _, requirements, links = reference
    assert len(requirements) == 94
    for row in index_rows():
        expected = set() if row[5] in ("-", "manual") else set(row[5].split(","))
        covering = {r.path.rsplit("/", 1)[-1] for r in links[row[0]]}
        assert covering == expected, row[0]


def test_reference_additional_tests_are_the_three_unmarked_functions(reference):
    found, _, links = reference
    assert [r.id for r in uncovered(found.records, links)] == [
        "tests/algorithm/ifd/test_pattern_recognition.py::test_iceberg_refill_detection",
        "tests/algorithm/ifd/test_priority_assignment.py::test_priority_weights_normalise",
        "tests/integration/test_remaining_batch.py::test_batches_are_sized_to_rate_limit",
    ]


def test_reference_outcomes_latest_rerun_wins(reference, tmp_path):
    found, _, links = reference
    records = by_id(found)
    fixed = records["tests/feed/barchart/test_scraper_fallback.py::test_returns_to_api_after_recovery"]
    assert (fixed.outcome, fixed.runs) == ("passed", 2)
    assert all(r.outcome == "passed" for r in found.records if r.kind in ("pytest", "result-json"))
    ctx = CheckContext(target=Target(root=REFERENCE.resolve()), params={}, settings={},
                       log=logging.getLogger("test"), tests=links["PRE-FEED-06"])
    result = linked_tests(requirement("PRE-FEED-06"), ctx)
    assert result.status is Status.PASS and result.metrics["tests"] == 4
