"""Traceability reads what golive's pytest plugin adds to a results file: requirement ids
(markers applied at run time) and the test file's digest (stale outcomes are flagged)."""
import hashlib
import json

from golive.plugins.traceability import discover
from golive.run.target import load_target

TEST = "import pytest\n\ndef test_feed_reconnects():\n    assert True\n"


def _workspace(tmp_path, digest):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_feed.py").write_text(TEST)
    (tmp_path / "test-results").mkdir()
    report = {"created": 1764000000, "tests": [{
        "nodeid": "tests/test_feed.py::test_feed_reconnects", "outcome": "passed", "duration": 0.01,
        "requirements": ["PRE-FEED-06"], "source_sha256": digest}]}
    (tmp_path / "test-results" / "run.json").write_text(json.dumps(report))
    return load_target(tmp_path)


def test_runtime_requirement_ids_are_merged_and_a_current_digest_is_quiet(tmp_path):
    found = discover(_workspace(tmp_path, hashlib.sha256(TEST.encode()).hexdigest()))
    rec = next(r for r in found.records if r.id == "tests/test_feed.py::test_feed_reconnects")
    assert rec.outcome == "passed" and rec.requirements == ("PRE-FEED-06",)
    assert not [w for w in found.warnings if "stale" in w]


def test_an_outcome_from_another_version_of_the_test_file_is_flagged(tmp_path):
    found = discover(_workspace(tmp_path, "0" * 64))
    assert any("test-results/run.json" in w and "may be stale" in w for w in found.warnings)
