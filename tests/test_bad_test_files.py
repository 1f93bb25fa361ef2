"""Bad input among the team's test files: each bad file is skipped with a warning naming it, and
the scan goes on (plugins/traceability/pytest_files.py read_test_file / iter_test_files)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from golive.model import Target
from golive.plugins.traceability import discover
from golive.plugins.traceability import pytest_files
from golive.plugins.traceability.pytest_files import scan_tests, stays_inside, symlink_problem

GOOD = b"def test_fine():\n    pass\n"


def put(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def scan(ws: Path):
    put(ws, "tests/test_good.py", GOOD)
    found = discover(Target(root=ws))
    ids = [r.id for r in found.records if r.kind == "pytest"]
    assert "tests/test_good.py::test_fine" in ids  # the run went on
    return ids, [w for w in found.warnings if "no test result files found" not in w]


@pytest.mark.parametrize("data, expected", [
    (b"def test_broken(:\n    pass\n", "tests/test_bad.py:1: syntax error"),
    (b"def test_a():\n    s = 'caf\xe9'\n", "tests/test_bad.py:2: cannot decode the source"),  # latin-1 byte, no coding line
    (b"# -*- coding: nonsense -*-\ndef test_a():\n    pass\n", "tests/test_bad.py: cannot decode the source (unknown encoding"),
    (b"\xef\xbb\xbf# coding: latin-1\ndef test_a():\n    pass\n", "tests/test_bad.py: cannot decode the source"),  # BOM vs coding
    (b"\x7fELF\x02\x01\x01\x00\x00\x00def test_a(): pass\n", "tests/test_bad.py: binary file (NUL bytes)"),
    (b"x = " + b"1+" * 200_000 + b"1\n", "tests/test_bad.py: cannot read (RecursionError"),
    (b"x = " + b"(" * 300 + b")" * 300 + b"\n", "tests/test_bad.py:1: syntax error (too many nested parentheses"),
])
def test_unreadable_source_is_skipped_with_a_warning_naming_the_file(tmp_path, data, expected):
    put(tmp_path, "tests/test_bad.py", data)
    ids, warnings = scan(tmp_path)
    assert not any(i.startswith("tests/test_bad.py") for i in ids)
    [warning] = warnings
    assert expected in warning, warning
    assert "skipped" in warning


def test_declared_latin1_coding_is_read(tmp_path):
    put(tmp_path, "tests/test_latin.py", b"# -*- coding: latin-1 -*-\ndef test_caf\xe9():\n    s = '\xe9'\n")
    ids, warnings = scan(tmp_path)
    assert "tests/test_latin.py::test_café" in ids and warnings == []


def test_generated_file_over_the_limit_is_named_and_skipped(tmp_path):
    lines = b"".join(b"def test_gen_%d():\n    assert %d\n" % (i, i) for i in range(200_000))
    assert len(lines) > 5_000_000 > pytest_files.MAX_TEST_FILE_BYTES
    put(tmp_path, "tests/generated/test_generated.py", lines)
    ids, warnings = scan(tmp_path)
    assert not any("test_gen_" in i for i in ids)
    [warning] = warnings
    assert "tests/generated/test_generated.py" in warning and "byte limit for a test file" in warning


def test_file_under_the_limit_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(pytest_files, "MAX_TEST_FILE_BYTES", 64)
    put(tmp_path, "tests/test_small.py", b"def test_s():\n    pass\n")
    found = discover(Target(root=tmp_path))
    assert [r.id for r in found.records if r.kind == "pytest"] == ["tests/test_small.py::test_s"]


def test_symlinked_file_loop_dangling_link_and_link_out_are_warned(tmp_path):
    outside = put(tmp_path, "outside/test_elsewhere.py", b"def test_elsewhere():\n    pass\n")
    ws = tmp_path / "ws"
    tests = ws / "tests"
    tests.mkdir(parents=True)
    (tests / "test_loop_a.py").symlink_to(tests / "test_loop_b.py")
    (tests / "test_loop_b.py").symlink_to(tests / "test_loop_a.py")
    (tests / "test_self.py").symlink_to(tests / "test_self.py")
    (tests / "test_dangling.py").symlink_to(tests / "test_missing.py")
    (tests / "test_out.py").symlink_to(outside)
    put(ws, "tests/real/test_inner.py", b"def test_inner():\n    pass\n")
    (tests / "test_alias.py").symlink_to(ws / "tests/real/test_inner.py")  # inside: read (once)
    (tests / "loop_dir").symlink_to(tests, target_is_directory=True)  # a folder loop: not descended
    ids, warnings = scan(ws)
    assert len([i for i in ids if i.endswith("::test_inner")]) == 1  # the file and its alias: read once
    assert len(ids) == 2
    text = "\n".join(warnings)
    for name, problem in [("test_loop_a.py", "symlink loop"), ("test_loop_b.py", "symlink loop"),
                          ("test_self.py", "symlink loop"), ("test_dangling.py", "dangling symlink"),
                          ("test_out.py", "symlink leads outside the workspace")]:
        assert f"tests/{name}: {problem}" in text
    assert len(warnings) == 5
    assert "test_elsewhere" not in text + " ".join(ids)


def test_stays_inside(tmp_path):
    root = tmp_path / "ws"
    inside = put(root, "a/file.py", b"")
    outside = put(tmp_path, "other/file.py", b"")
    (root / "in_link.py").symlink_to(inside)
    (root / "out_link.py").symlink_to(outside)
    (root / "rel_out.py").symlink_to(Path("..") / "other" / "file.py")
    (root / "loop.py").symlink_to(root / "loop.py")
    (root / "escape_dir").symlink_to(tmp_path / "other", target_is_directory=True)
    assert stays_inside(inside, root) and stays_inside(root / "in_link.py", root)
    assert not stays_inside(root / "out_link.py", root)
    assert not stays_inside(root / "rel_out.py", root)
    assert not stays_inside(root / "loop.py", root)
    assert not stays_inside(root / "escape_dir" / "file.py", root)  # via a symlinked folder
    assert symlink_problem(root / "loop.py", root) == "symlink loop"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_named_like_a_test_does_not_block(tmp_path):
    (tmp_path / "tests").mkdir()
    os.mkfifo(tmp_path / "tests" / "test_pipe.py")
    os.mkfifo(tmp_path / "tests" / "junit.xml")
    ids, warnings = scan(tmp_path)
    assert any("tests/test_pipe.py: not a regular file" in w for w in warnings)
    assert any("tests/junit.xml: not a regular file" in w for w in warnings)


def test_empty_and_bom_only_files_are_fine(tmp_path):
    put(tmp_path, "tests/test_empty.py", b"")
    put(tmp_path, "tests/test_bom.py", b"\xef\xbb\xbfdef test_bom():\n    pass\n")
    ids, warnings = scan(tmp_path)
    assert "tests/test_bom.py::test_bom" in ids and warnings == []


def test_many_bad_files_do_not_stop_the_scan(tmp_path):
    for n in range(20):
        put(tmp_path, f"tests/bad/test_bad_{n:02d}.py", b"def (\n" if n % 2 else b"\x00\x01")
    report = scan_tests(tmp_path)
    assert len(report.warnings) == 20
    assert all(f"test_bad_{n:02d}.py" in w for n, w in enumerate(report.warnings))
