"""``golive link`` end to end on a small workspace, with hand-made suggestions."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from golive.cli import cli
from golive.plugins.traceability import suggest as suggest_module
from golive.plugins.traceability.mapfile import read
from golive.plugins.traceability.pytest_files import scan_tests
from golive.plugins.traceability.suggest import Suggestion

TEST_FILE = '''"""EV tests."""
import json


def test_min_ev():
    assert json


class TestLatency:
    # measured on the replay rig
    def test_p99(self):
        pass
'''


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    (ws / "tests").mkdir(parents=True)
    (ws / "tests" / "test_ev.py").write_text(TEST_FILE)
    results = ws / "test-results"
    results.mkdir()
    (results / "latency_test.json").write_text(json.dumps(
        {"test": "latency", "status": "passed", "timestamp": "2026-01-02T10:00:00", "metrics": {}}))
    suggestions = [
        Suggestion("PRE-ALGO-01", "tests/test_ev.py::test_min_ev", "tests/test_ev.py", 9.5, "high",
                   ("expected value~ev", "min"), 1),
        Suggestion("PRE-ALGO-07", "tests/test_ev.py::TestLatency::test_p99", "tests/test_ev.py", 4.2, "medium",
                   ("latency",), 1),
        Suggestion("PRE-ALGO-01", "tests/test_ev.py::TestLatency::test_p99", "tests/test_ev.py", 2.0, "medium",
                   ("ev",), 2),
        Suggestion("LIVE-REL-04", "tests/test_ev.py::TestLatency::test_p99", "tests/test_ev.py", 1.0, "low",
                   ("p99",), 3),
    ]
    calls = []

    def fake(requirements, records, root, confirmed=None, top_k=3):
        calls.append(confirmed)
        confirmed = confirmed or {}
        return [s for s in suggestions
                if not any(r.id == s.test_id for r in confirmed.get(s.requirement_id, []))]

    monkeypatch.setattr(suggest_module, "suggest_links", fake)
    return ws


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """The table's cells wrap at the console width, which depends on the environment (80
    columns under pytest-xdist): give it room so the assertions read whole cells."""
    import golive.cli

    monkeypatch.setattr(golive.cli.out, "width", 250)
    monkeypatch.setattr(golive.cli.err, "width", 250)


def invoke(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_review_table_summary_and_json(workspace, tmp_path):
    out = tmp_path / "links.json"
    res = invoke("link", "--target", str(workspace), "--json", str(out))
    assert res.exit_code == 0, res.output
    assert "PRE-ALGO-01" in res.output and "expected value~ev" in res.output
    assert "confirmed: 0 of 100 requirements; if the high/medium suggestions were confirmed: 2 of 100" in res.output
    assert "LIVE-REL-04" in res.output.split("no link and no suggestion")[1]  # low is not shown by default
    doc = json.loads(out.read_text())
    assert doc["summary"] == {"requirements": 100, "confirmed": 0, "if_suggestions_confirmed": 2}
    algo = next(r for r in doc["requirements"] if r["id"] == "PRE-ALGO-01")
    assert [s["test"] for s in algo["suggested"]] == ["tests/test_ev.py::test_min_ev",
                                                      "tests/test_ev.py::TestLatency::test_p99"]
    low = invoke("link", "--target", str(workspace), "--band", "low", "--only", "LIVE-*", "--json", "-")
    doc = json.loads(low.stdout)
    assert [r["id"] for r in doc["requirements"]] == ["LIVE-REL-04"] or all(
        r["id"].startswith("LIVE-") for r in doc["requirements"])
    assert any(s["band"] == "low" for r in doc["requirements"] for s in r["suggested"])


def test_unknown_only_is_an_input_error(workspace):
    res = invoke("link", "--target", str(workspace), "--only", "NOPE-*")
    assert res.exit_code == 2 and "NOPE-*" in res.output


def test_write_markers_dry_run_then_declined_then_yes(workspace):
    path = workspace / "tests" / "test_ev.py"
    res = invoke("link", "--target", str(workspace), "--write-markers", "--dry-run")
    assert res.exit_code == 0, res.output
    assert '+@pytest.mark.requirement("PRE-ALGO-01")' in res.output
    assert '+    @pytest.mark.requirement("PRE-ALGO-07")' in res.output
    assert "PRE-ALGO-01\", \"" not in res.output  # rank 2 is not written
    assert path.read_text() == TEST_FILE
    res = invoke("link", "--target", str(workspace), "--write-markers", input="n\n")
    assert "nothing written" in res.output and path.read_text() == TEST_FILE
    res = invoke("link", "--target", str(workspace), "--write-markers", "--yes")
    assert res.exit_code == 0 and "wrote 2 marker(s) to 1 file(s)" in res.output
    found = {t.node_id: t.requirements for t in scan_tests(workspace).tests}
    assert found == {"tests/test_ev.py::test_min_ev": ("PRE-ALGO-01",),
                     "tests/test_ev.py::TestLatency::test_p99": ("PRE-ALGO-07",)}
    assert "# measured on the replay rig\n    @pytest.mark.requirement" in path.read_text()
    again = invoke("link", "--target", str(workspace))
    assert "marker PRE-ALGO-01" in again.output
    assert "confirmed: 2 of 100 requirements" in again.output


def test_write_map_needs_by_then_confirms_links(workspace):
    res = invoke("link", "--target", str(workspace), "--write-map")
    assert res.exit_code == 2 and "--by" in res.output
    res = invoke("link", "--target", str(workspace), "--write-map", "--by", "Jane Doe")
    assert res.exit_code == 0, res.output
    map_path = workspace / "golive-links.yaml"
    assert f"review {map_path}: delete the lines that are wrong; only listed links count" in res.output
    entries = read(map_path).entries
    assert [(e.requirement_id, e.test, e.confirmed_by) for e in entries] == [
        ("PRE-ALGO-01", "tests/test_ev.py::test_min_ev", "Jane Doe"),
        ("PRE-ALGO-07", "tests/test_ev.py::TestLatency::test_p99", "Jane Doe")]
    assert entries[0].score == 9.5 and entries[0].why == ("expected value~ev", "min")
    res = invoke("link", "--target", str(workspace), "--only", "PRE-ALGO-01", "--json", "-")
    confirmed = json.loads(res.stdout)["requirements"][0]["confirmed"]
    assert confirmed[0]["how"].startswith("map golive-links.yaml (confirmed by Jane Doe on ")
    # a second write adds nothing and keeps the file
    before = map_path.read_text()
    res = invoke("link", "--target", str(workspace), "--write-map", str(map_path), "--by", "Bob")
    assert "0 link(s) added" in res.output and map_path.read_text() == before


def test_map_confirmed_link_makes_the_requirement_implemented_in_a_run(workspace, tmp_path):
    (workspace / "golive-links.yaml").write_text(
        "version: 1\nlinks:\n  PRE-ALGO-01:\n    - test: tests/test_ev.py::test_min_ev\n"
        "      confirmed_by: Jane Doe\n      confirmed_at: 2026-12-02\n"
        "  NOPE-1:\n    - test: tests/test_ev.py\n      confirmed_by: Jane Doe\n      confirmed_at: 2026-12-02\n")
    out = tmp_path / "results.json"
    res = invoke("run", "--target", str(workspace), "--only", "PRE-ALGO-01", "--json", str(out), "--no-evidence", "-q")
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    result = next(r for r in doc["results"] if r["requirement_id"] == "PRE-ALGO-01")
    assert result["implemented"] is True
    assert "tests/test_ev.py::test_min_ev" in result["covered_by"]
    assert "golive-links.yaml" in [a["path"] for a in result["artifacts"]]
    assert any("links.NOPE-1: no requirement with this id" in w for w in doc["warnings"])


def test_map_problems_are_warnings_and_result_files_get_no_marker(workspace, monkeypatch):
    (workspace / "golive-links.yaml").write_text(
        "version: 1\nlinks:\n  PRE-ALGO-01:\n    - test: tests/test_ev.py\n      confirmed_at: 2026-12-02\n")
    extra = Suggestion("LIVE-REL-04", "test-results/latency_test.json", "test-results/latency_test.json",
                       5.0, "high", ("latency",), 1)
    original = suggest_module.suggest_links
    monkeypatch.setattr(suggest_module, "suggest_links", lambda *a, **k: original(*a, **k) + [extra])
    res = invoke("link", "--target", str(workspace), "--write-markers", "--dry-run")
    assert res.exit_code == 0, res.output
    flat = res.output.replace("\n", " ")
    assert "golive-links.yaml: links.PRE-ALGO-01[0]: 'confirmed_by' is a required property" in flat
    assert "test-results/latency_test.json is not a test function" in flat
    assert "confirmed: 0 of 100" in flat

