"""golive link --write-markers: libcst edits that keep everything else byte for byte."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from golive.link.markers import MarkerTarget, RoundTripError, load_source, plan_edits
from golive.plugins.traceability.pytest_files import scan_tests


def _write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = textwrap.dedent(text).lstrip("\n").encode("utf-8")
    path.write_bytes(text)
    return path


def _mark(root: Path, rel: str, *pairs: tuple[str, str]):
    wanted = {}
    for node_id, rid in pairs:
        path, target = MarkerTarget.from_node_id(f"{rel}::{node_id}", rid)
        wanted.setdefault(path, []).append(target)
    edits, warnings = plan_edits(root, wanted)
    for edit in edits:
        edit.write()
    return edits, warnings


def _found(root: Path) -> dict[str, tuple[str, ...]]:
    return {t.node_id: t.requirements for t in scan_tests(root).tests}


TRICKY = '''
"""Module docstring."""
from __future__ import annotations

import pytest


@pytest.fixture
def book():
    return {}


# a comment above the stack
@pytest.mark.slow  # trailing comment
# comment between decorators
@pytest.mark.parametrize(
    "side, qty",
    [("buy", 1), ("sell", 2)],
    ids=["buy", "sell"],
)
def test_orders(book, side, qty):
    def test_helper():  # a nested function is not a test
        return side
    assert test_helper() == side


class TestBook:
    """Order book tests."""

    @pytest.mark.requirement("PRE-ALGO-02")
    def test_depth(self):
        assert True

    async def test_async_feed(self):
        assert True

    class TestNested:
        def test_inner(self):
            assert True
'''


def test_stacked_decorators_classes_nested_async_and_merge(tmp_path):
    _write(tmp_path, "tests/test_book.py", TRICKY)
    edits, warnings = _mark(tmp_path, "tests/test_book.py",
                            ("test_orders", "PRE-ALGO-01"), ("TestBook::test_depth", "PRE-ALGO-03"),
                            ("TestBook::test_async_feed", "PRE-ALGO-04"),
                            ("TestBook::TestNested::test_inner", "PRE-ALGO-05"))
    assert warnings == []
    text = (tmp_path / "tests/test_book.py").read_text()
    original = textwrap.dedent(TRICKY).lstrip("\n")
    # only added lines (and the merged marker line) differ
    removed = [line for line in original.splitlines() if line not in text.splitlines()]
    assert removed == ['    @pytest.mark.requirement("PRE-ALGO-02")']
    assert '    @pytest.mark.requirement("PRE-ALGO-02", "PRE-ALGO-03")\n    def test_depth' in text
    assert 'ids=["buy", "sell"],\n)\n@pytest.mark.requirement("PRE-ALGO-01")\ndef test_orders' in text
    assert '    @pytest.mark.requirement("PRE-ALGO-04")\n    async def test_async_feed' in text
    assert '        @pytest.mark.requirement("PRE-ALGO-05")\n        def test_inner' in text
    assert "# comment between decorators" in text and "# trailing comment" in text
    assert text.count("import pytest") == 1
    found = _found(tmp_path)
    assert found["tests/test_book.py::test_orders"] == ("PRE-ALGO-01",)
    assert found["tests/test_book.py::TestBook::test_depth"] == ("PRE-ALGO-02", "PRE-ALGO-03")
    assert found["tests/test_book.py::TestBook::test_async_feed"] == ("PRE-ALGO-04",)
    assert found["tests/test_book.py::TestBook::TestNested::test_inner"] == ("PRE-ALGO-05",)
    assert "::test_helper" not in " ".join(found)


def test_running_twice_changes_nothing(tmp_path):
    _write(tmp_path, "test_a.py", TRICKY)
    _mark(tmp_path, "test_a.py", ("test_orders", "R-1"))
    once = (tmp_path / "test_a.py").read_bytes()
    edits, _ = _mark(tmp_path, "test_a.py", ("test_orders", "R-1"))
    assert not edits[0].changed and edits[0].unchanged == [("test_orders", "R-1")]
    assert (tmp_path / "test_a.py").read_bytes() == once


def test_from_pytest_import_mark_style_is_reused(tmp_path):
    _write(tmp_path, "test_m.py", '''
        from pytest import mark


        @mark.requirement(
            "A",
        )
        def test_multi():
            pass


        @mark.requirement(ids=["B"])
        def test_keyword():
            pass


        def test_plain():
            pass
    ''')
    _mark(tmp_path, "test_m.py", ("test_multi", "C"), ("test_keyword", "D"), ("test_plain", "E"))
    text = (tmp_path / "test_m.py").read_text()
    assert "import pytest" not in text
    assert '@mark.requirement("E")\ndef test_plain' in text
    assert '@mark.requirement("D", ids=["B"])' in text
    found = _found(tmp_path)
    assert found["test_m.py::test_multi"] == ("A", "C")
    assert set(found["test_m.py::test_keyword"]) == {"B", "D"}
    assert found["test_m.py::test_plain"] == ("E",)


def test_import_pytest_added_after_docstring_and_future(tmp_path):
    _write(tmp_path, "test_n.py", '''
        """Doc."""
        from __future__ import annotations

        import json


        def test_x():
            assert json
    ''')
    _mark(tmp_path, "test_n.py", ("test_x", "R-9"))
    assert (tmp_path / "test_n.py").read_text() == textwrap.dedent('''
        """Doc."""
        from __future__ import annotations

        import pytest
        import json


        @pytest.mark.requirement("R-9")
        def test_x():
            assert json
    ''').lstrip("\n")
    assert _found(tmp_path)["test_n.py::test_x"] == ("R-9",)


def test_import_added_to_a_module_without_imports(tmp_path):
    _write(tmp_path, "test_bare.py", '''
        # Copyright header


        def test_x():
            pass
    ''')
    _mark(tmp_path, "test_bare.py", ("test_x", "R-1"))
    text = (tmp_path / "test_bare.py").read_text()
    assert text.startswith("# Copyright header\n")
    assert "import pytest\n\n\n@pytest.mark.requirement(\"R-1\")\ndef test_x" in text
    compile(text, "t", "exec")


@pytest.mark.parametrize("name, data, reason", [
    ("test_crlf.py", b"import pytest\r\n\r\ndef test_x():\r\n    pass\r\n", "CRLF"),
    ("test_tabs.py", b"def test_x():\n\tpass\n", "tabs"),
    ("test_latin1.py", "# caf\u00e9\ndef test_x():\n    pass\n".encode("latin-1"), "not UTF-8"),
    ("test_broken.py", b"def test_x(:\n    pass\n", "does not parse"),
])
def test_files_that_cannot_round_trip_are_untouched(tmp_path, name, data, reason):
    path = _write(tmp_path, name, data)
    edits, warnings = _mark(tmp_path, name, ("test_x", "R-1"))
    assert edits == []
    assert len(warnings) == 1 and name in warnings[0] and reason in warnings[0]
    assert path.read_bytes() == data
    with pytest.raises(RoundTripError):
        load_source(path, name)


def test_missing_or_inherited_test_is_reported_not_written(tmp_path):
    _write(tmp_path, "test_i.py", '''
        class Base:
            def test_shared(self):
                pass


        class TestChild(Base):
            pass
    ''')
    edits, warnings = _mark(tmp_path, "test_i.py", ("TestChild::test_shared", "R-1"))
    assert not edits[0].changed
    assert "test_i.py::TestChild::test_shared" in warnings[0]


def test_write_is_atomic_and_keeps_the_mode(tmp_path):
    path = _write(tmp_path, "test_mode.py", "import pytest\n\n\ndef test_x():\n    pass\n")
    os.chmod(path, 0o640)
    edits, _ = _mark(tmp_path, "test_mode.py", ("test_x", "R-1"))
    assert edits[0].changed and "+@pytest.mark.requirement(\"R-1\")" in edits[0].diff()
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["test_mode.py"]  # no temp file left


def test_parametrized_node_id_marks_the_function():
    path, target = MarkerTarget.from_node_id("tests/test_a.py::TestX::test_y[buy-1]", "R")
    assert path == "tests/test_a.py" and target.qualname == ("TestX", "test_y")
    with pytest.raises(ValueError):
        MarkerTarget.from_node_id("tests/result.json", "R")
