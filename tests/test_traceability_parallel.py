"""Reading many test files in worker processes gives exactly what one process gives."""
from __future__ import annotations

from golive.plugins.traceability import pytest_files
from golive.plugins.traceability.pytest_files import scan_tests


def _workspace(root, files: int):
    for i in range(files):
        folder = root / "tests" / f"area{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"test_mod{i}.py").write_text(
            f'"""Module {i}."""\nimport pytest\n\n\nclass TestThing{i}:\n'
            f'    @pytest.mark.requirement("PRE-FEED-0{i % 7 + 1}")\n'
            f'    def test_a(self):\n        assert compute_value({i}).ok\n\n'
            f'def test_b_{i}():\n    """Checks b."""\n    assert other.call()\n', encoding="utf-8")
    (root / "tests" / "test_broken.py").write_text("def test_x(:\n", encoding="utf-8")
    (root / "tests" / "test_binary.py").write_bytes(b"\x00\x01binary")


def _summary(report):
    return ([(t.node_id, t.requirements, t.line, t.features.fields(t.path) if t.features else None)
             for t in report.tests], report.files, sorted(report.warnings))


def test_parallel_reading_equals_sequential(tmp_path, monkeypatch):
    files = pytest_files.PARALLEL_FROM_FILES + 20
    _workspace(tmp_path, files)
    parallel = scan_tests(tmp_path)
    monkeypatch.setattr(pytest_files, "PARALLEL_FROM_FILES", 10**9)
    sequential = scan_tests(tmp_path)
    assert _summary(parallel) == _summary(sequential)
    assert len(parallel.tests) == 2 * files
    assert any("test_broken.py" in w and "syntax error" in w for w in parallel.warnings)
    assert any("test_binary.py" in w for w in parallel.warnings)
