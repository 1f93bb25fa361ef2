"""The reviewed-links map file: read, validate, write, merge, locate, and linking through it."""
from __future__ import annotations

from pathlib import Path

import pytest

from golive.model import Requirement, Target
from golive.model import TestRecord as Record
from golive.plugins.traceability import coverage_reason, link
from golive.plugins.traceability.mapfile import (
    LinkEntry, MapFileError, default_path, load_for_target, locate, merge, read, render, write,
)
from golive.run.target import TargetError, load_target

ENTRY = LinkEntry("PRE-ALGO-01", "tests/test_ev.py::TestEV::test_min", "Jane Doe", "2026-12-02",
                  note="checks the EV floor", score=0.8312, why=("ev", "path: algo"))


def _records():
    return [
        Record(id="tests/test_ev.py::TestEV::test_min", path="tests/test_ev.py", kind="pytest"),
        Record(id="tests/test_ev.py::TestEV::test_max", path="tests/test_ev.py", kind="pytest"),
        Record(id="tests/test_ev.py::test_free", path="tests/test_ev.py", kind="pytest"),
        Record(id="tests/test_other.py::test_o", path="tests/test_other.py", kind="pytest",
                   requirements=("PRE-ALGO-01",)),
        Record(id="test-results/latency.json", path="test-results/latency.json", kind="result-json"),
    ]


def test_write_then_read_round_trips(tmp_path):
    path = tmp_path / "golive-links.yaml"
    other = LinkEntry("LIVE-REL-04", "test-results/latency.json", "Jo \"Q\" Ng", "2026-12-03")
    added = write(path, [other, ENTRY], by="Jane Doe", when="2026-12-02", order=["PRE-ALGO-01", "LIVE-REL-04"])
    assert added == [other, ENTRY]
    text = path.read_text()
    assert text.startswith("# golive-links.yaml: reviewed links")
    assert "delete the entries that are wrong; only the links listed here count" in text
    assert text.index("PRE-ALGO-01:") < text.index("LIVE-REL-04:")  # plan order
    loaded = read(path)
    assert loaded.problems == []
    assert sorted(loaded.entries, key=lambda e: e.requirement_id) == [other, ENTRY]
    assert render(loaded.entries, by="Jane Doe", when="2026-12-02", order=["PRE-ALGO-01", "LIVE-REL-04"]) == text


def test_merge_keeps_existing_and_appends_new(tmp_path):
    path = tmp_path / "golive-links.yaml"
    write(path, [ENTRY], by="Jane Doe", when="2026-12-02")
    newer = LinkEntry("PRE-ALGO-01", "tests/test_ev.py::test_free", "Bob", "2026-12-09")
    duplicate = LinkEntry("PRE-ALGO-01", ENTRY.test, "Bob", "2026-12-09")
    added = write(path, [duplicate, newer], by="Bob", when="2026-12-09")
    assert added == [newer]
    entries = read(path).entries
    assert entries == [ENTRY, newer]  # Jane's confirmation kept as it was
    assert merge(entries, [newer]) == (entries, [])


def test_hand_written_unquoted_dates_and_empty_file(tmp_path):
    path = tmp_path / "links.yaml"
    path.write_text("version: 1\nlinks:\n  PRE-ALGO-01:\n    - test: tests/test_ev.py\n"
                    "      confirmed_by: Jane Doe\n      confirmed_at: 2026-12-02\n")
    loaded = read(path)
    assert loaded.problems == [] and loaded.entries[0].confirmed_at == "2026-12-02"
    path.write_text("")
    assert read(path).entries == [] and read(path).problems == []


def test_every_problem_is_named_and_bad_entries_dropped(tmp_path):
    path = tmp_path / "golive-links.yaml"
    path.write_text("""version: 1
links:
  PRE-ALGO-01:
    - test: tests/test_ev.py
      confirmed_by: Jane Doe
      confirmed_at: "2026-12-02"
    - test: tests/test_other.py
      confirmed_at: "2026-12-02"
    - test: tests/x.py
      confirmed_by: Jane Doe
      confirmed_at: "02/12/2026"
    - test: tests/y.py
      confirmed_by: Jane Doe
      confirmed_at: "2026-02-30"
      colour: red
  PRE-ALGO-02: oops
""")
    loaded = read(path)
    assert [e.test for e in loaded.entries] == ["tests/test_ev.py"]
    text = "\n".join(loaded.problems)
    assert "golive-links.yaml: links.PRE-ALGO-01[1]: 'confirmed_by' is a required property" in text
    assert "golive-links.yaml: links.PRE-ALGO-01[2].confirmed_at: '02/12/2026' does not match" in text
    assert "golive-links.yaml: links.PRE-ALGO-01[3]: Additional properties are not allowed ('colour'" in text
    assert "golive-links.yaml: links.PRE-ALGO-02: 'oops' is not of type" in text


def test_bad_yaml_and_wrong_version_count_nothing(tmp_path):
    path = tmp_path / "golive-links.yaml"
    path.write_text("version: 1\nlinks: [\n")
    loaded = read(path)
    assert loaded.entries == [] and loaded.problems[0].startswith("golive-links.yaml:")
    path.write_text("version: 2\nlinks: {}\n")
    assert "version: 1 was expected" in read(path).problems[0]
    with pytest.raises(MapFileError):
        write(path, [ENTRY], by="X")
    assert path.read_text() == "version: 2\nlinks: {}\n"  # never rewritten over problems


def test_review_warns_on_unknown_ids_and_entries_matching_nothing(tmp_path):
    path = tmp_path / "golive-links.yaml"
    write(path, [ENTRY, LinkEntry("NOPE-1", "tests/test_ev.py", "J", "2026-12-02"),
                 LinkEntry("PRE-ALGO-01", "tests/gone.py::test_x", "J", "2026-12-02")], by="J")
    warnings = read(path).review(["PRE-ALGO-01"], _records())
    assert warnings == [
        "golive-links.yaml: links.NOPE-1: no requirement with this id in the plan; its 1 link(s) are ignored",
        "golive-links.yaml: links.PRE-ALGO-01[1].test: 'tests/gone.py::test_x' matches no test or result file in the target",
    ]


def test_link_and_reasons_with_files_classes_and_results(tmp_path):
    path = tmp_path / "golive-links.yaml"
    write(path, [LinkEntry("PRE-ALGO-01", "tests/test_ev.py::TestEV", "Jane Doe", "2026-12-02"),
                 LinkEntry("PRE-ALGO-02", "tests/test_ev.py", "Jane Doe", "2026-12-02"),
                 LinkEntry("PRE-ALGO-03", "test-results/latency.json", "Jane Doe", "2026-12-02")], by="Jane Doe")
    link_map = read(path)
    reqs = [Requirement(id=f"PRE-ALGO-0{i}", title="t", statement="s", category="c", priority="p",
                        plan_lines=(1, 1)) for i in (1, 2, 3)]
    records = _records()
    links = link(reqs, records, link_map)
    assert [r.id for r in links["PRE-ALGO-01"]] == [
        "tests/test_ev.py::TestEV::test_min", "tests/test_ev.py::TestEV::test_max", "tests/test_other.py::test_o"]
    assert [r.id for r in links["PRE-ALGO-02"]] == [r.id for r in records[:3]]
    assert [r.id for r in links["PRE-ALGO-03"]] == ["test-results/latency.json"]
    assert coverage_reason(reqs[0], records[0], link_map) == \
        "map golive-links.yaml (confirmed by Jane Doe on 2026-12-02)"
    assert coverage_reason(reqs[0], records[3], link_map) == "marker PRE-ALGO-01"
    assert coverage_reason(reqs[0], records[2], link_map) is None
    assert link(reqs, records)["PRE-ALGO-02"] == []  # without the map: unchanged behaviour


def test_location_from_golive_toml_or_root(tmp_path):
    target = Target(root=tmp_path)
    assert locate(target) is None and load_for_target(target) is None
    assert default_path(target) == tmp_path / "golive-links.yaml"
    (tmp_path / "golive-links.yaml").write_text("version: 1\nlinks: {}\n")
    assert locate(target) == tmp_path / "golive-links.yaml"
    (tmp_path / "golive.toml").write_text('[paths]\nlinks = "review/links.yaml"\n')
    configured = load_target(tmp_path)
    assert locate(configured) == tmp_path / "review" / "links.yaml"
    missing = load_for_target(configured)
    assert missing.entries == [] and "review/links.yaml" in missing.problems[0]
    (tmp_path / "golive.toml").write_text('[paths]\nlinks = "../outside.yaml"\n')
    with pytest.raises(TargetError):
        load_target(tmp_path)
