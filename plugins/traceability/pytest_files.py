"""Find pytest tests in a target workspace by reading the source with ``ast`` -- never importing it.

The target is somebody else's trading system: importing its test modules would run its code
(network connections, ``sys.exit``, order placement). So tests are found statically:

* files ``test_*.py`` / ``*_test.py`` at any depth, except in vendored or tool folders;
* one record per module-level ``test*`` function and per ``test*`` method of a ``Test*`` class
  (nested ``Test*`` classes too), with the pytest node id ``relpath::Class::func``;
* requirement ids from ``@pytest.mark.requirement("ID", ...)`` on the function, on its
  class(es), or in a module-level ``pytestmark`` (one mark or a list/tuple of marks).

``pytest.mark.requirement``, ``mark.requirement`` (after ``from pytest import mark``) and a bare
``requirement`` alias assigned from one of those are recognised. Ids may be given as positional
strings, lists/tuples of strings, or ``ids=``/``id=`` keywords; a non-literal id (a variable) is
reported as a warning because it cannot be resolved without running the code.
"""
from __future__ import annotations

import ast
import concurrent.futures
import logging
import multiprocessing
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .features import ModuleText, TextFeatures, module_text, test_features
from .globs import glob_match

log = logging.getLogger("golive.plugins.traceability")

SKIPPED_DIRS = frozenset({
    ".venv", "venv", ".git", "node_modules", "site-packages", "__pycache__", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".hypothesis", "build", "dist", ".eggs",
})
MARKER_NAME = "requirement"
MAX_TEST_FILE_BYTES = 4 * 1024 * 1024  # generated monsters are not hand-written tests: skipped, named


@dataclass(frozen=True)
class FoundTest:
    """One test function as read from source."""

    node_id: str
    path: str  # POSIX path of the file, relative to the target root
    name: str  # the function name
    classes: tuple[str, ...]
    requirements: tuple[str, ...]
    line: int
    features: TextFeatures | None = field(default=None, compare=False, repr=False)  # words of the test, for link recovery (features.py)


@dataclass
class ScanReport:
    """What a scan found, plus the problems it stepped over (each names its file)."""

    tests: list[FoundTest] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    quiet: bool = False  # collect only: the caller logs (a worker process's log would be lost)

    def warn(self, message: str) -> None:
        if not self.quiet:
            log.warning(message)
        self.warnings.append(message)


def is_test_file(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def iter_test_files(search_root: Path, root: Path | None = None, exclude: tuple[str, ...] = (),
                    report: ScanReport | None = None) -> list[Path]:
    """All pytest files under ``search_root``, sorted, without descending into skipped folders
    (or symlinked folders, which could loop or leave the workspace). ``exclude`` holds globs on
    paths relative to ``root`` (folders or files) that are left out too. A symlinked test file
    that loops, dangles or leads out of the workspace is left out, with a warning in ``report``."""
    root = root or search_root
    found: list[Path] = []
    for folder, dirnames, filenames in os.walk(search_root, followlinks=False):
        here = Path(folder)
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIPPED_DIRS and not d.endswith(".egg-info")
            and not _excluded(here / d, root, exclude)
        )
        for f in sorted(filenames):
            if not is_test_file(f) or _excluded(here / f, root, exclude):
                continue
            problem = symlink_problem(here / f, root)
            if problem is None:
                found.append(here / f)
            elif report is not None:
                report.warn(f"traceability: {_relative(here / f, root)}: {problem}; file skipped")
    return found


def symlink_problem(path: Path, root: Path) -> str | None:
    """Why a file reached through a symlink cannot be read as part of the workspace (None: no
    symlink on its way, or one that resolves to an existing file inside ``root``)."""
    if not path.is_symlink():
        try:  # a symlinked folder on the way out (the walks never follow one, callers might)
            parent = Path(os.path.realpath(path.parent))
            inside = parent == Path(os.path.realpath(root)) or parent.is_relative_to(os.path.realpath(root))
        except (OSError, ValueError):
            inside = False
        return None if inside else "reached through a symlinked folder outside the workspace; not followed"
    try:
        resolved = path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a loop this way
        return "symlink loop"
    except FileNotFoundError:
        return "dangling symlink (its target does not exist)"
    except OSError as exc:
        return "symlink loop" if exc.errno == 40 else f"unreadable symlink ({exc.strerror or exc})"
    try:
        inside = resolved.is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        return "symlink leads outside the workspace; not followed"
    return None if resolved.is_file() else "symlink to something that is not a file"


def stays_inside(path: Path, root: Path) -> bool:
    """False for a symlink that leads out of the workspace (or loops, or dangles): golive
    audits the workspace only."""
    return symlink_problem(path, root) is None


def _excluded(path: Path, root: Path, exclude: tuple[str, ...]) -> bool:
    return bool(exclude) and any(glob_match(_relative(path, root), pattern) for pattern in exclude)


def scan_tests(root: Path, search_roots: list[Path] | None = None, exclude: tuple[str, ...] = ()) -> ScanReport:
    """Scan ``search_roots`` (default: ``root``) for tests; node ids are relative to ``root``;
    ``exclude`` globs (relative to ``root``) leave folders or files out."""
    report = ScanReport()
    seen: set[Path] = set()
    todo: list[Path] = []
    for search_root in search_roots or [root]:
        if not search_root.is_dir():
            report.warn(f"traceability: test folder {search_root} does not exist; no tests read from it")
            continue
        for path in iter_test_files(search_root, root, exclude, report):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            report.files.append(_relative(path, root))
            todo.append(path)
    for tests, warnings in _read_all(todo, report.files):
        report.tests.extend(tests)
        for message in warnings:
            report.warn(message)
    return report


PARALLEL_FROM_FILES = 200  # below this, starting worker processes costs more than it saves


def _read_batch(batch: list[tuple[str, str]]) -> list[tuple[list[FoundTest], list[str]]]:
    out = []
    for path, rel in batch:
        local = ScanReport(quiet=True)
        out.append((read_test_file(Path(path), rel, local), local.warnings))
    return out


def _read_all(paths: list[Path], rels: list[str]):
    """Each file's tests and warnings, in the order given. Parsing is CPU-bound Python (``ast``),
    so a large repository is read by one worker process per core (fork: nothing is re-imported);
    a worker that cannot start leaves the reading to this process."""
    jobs = [(str(p), r) for p, r in zip(paths, rels)]
    workers = min(os.cpu_count() or 1, 4)
    if len(jobs) >= PARALLEL_FROM_FILES and workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        size = -(-len(jobs) // (workers * 4))  # a few batches per worker evens out file sizes
        batches = [jobs[i:i + size] for i in range(0, len(jobs), size)]
        try:
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                for results in pool.map(_read_batch, batches):
                    yield from results
            return
        except (OSError, concurrent.futures.process.BrokenProcessPool) as exc:
            log.warning("traceability: parallel reading failed (%s); reading test files in one process", exc)
    for path, rel in jobs:
        local = ScanReport(quiet=True)
        tests = read_test_file(Path(path), rel, local)
        yield tests, local.warnings


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def read_test_file(path: Path, rel: str, report: ScanReport) -> list[FoundTest]:
    """Parse one file; a file that cannot be read or parsed is reported and yields nothing."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device named test_*.py would block the read
            report.warn(f"traceability: {rel}: not a regular file; file skipped")
            return []
        size = info.st_size
        if size > MAX_TEST_FILE_BYTES:
            report.warn(f"traceability: {rel}: {size} bytes is larger than the {MAX_TEST_FILE_BYTES} byte limit "
                        "for a test file (generated?); file skipped")
            return []
        with path.open("rb") as handle:  # read no more than the limit, even if the file grows
            source = handle.read(MAX_TEST_FILE_BYTES + 1)
        if len(source) > MAX_TEST_FILE_BYTES:
            report.warn(f"traceability: {rel}: larger than the {MAX_TEST_FILE_BYTES} byte limit for a test file; file skipped")
            return []
        if b"\0" in source:
            report.warn(f"traceability: {rel}: binary file (NUL bytes), not Python source; file skipped")
            return []
        tree = ast.parse(source, filename=rel)
    except UnicodeDecodeError as exc:  # a SyntaxError subclass on some versions: test it first
        report.warn(f"traceability: {rel}: not valid text in its encoding ({exc.reason} at byte {exc.start}); file skipped")
        return []
    except SyntaxError as exc:  # also bad bytes for the declared/UTF-8 encoding, unknown codings
        where = f":{exc.lineno}" if exc.lineno else ""
        if exc.msg.startswith("(unicode error)") or "encoding" in exc.msg:
            report.warn(f"traceability: {rel}{where}: cannot decode the source ({exc.msg}); file skipped, "
                        "save it as UTF-8 or declare its coding")
            return []
        report.warn(f"traceability: {rel}{where}: syntax error ({exc.msg}); file skipped, fix it so its tests count")
        return []
    except (OSError, ValueError, MemoryError, RecursionError) as exc:  # ValueError: null bytes, bad coding
        report.warn(f"traceability: {rel}: cannot read ({type(exc).__name__}: {exc}); file skipped")
        return []
    reader = _ModuleReader(rel, report, source.decode("utf-8", errors="replace").split("\n"))
    try:
        return reader.read(tree)
    except RecursionError:  # pathologically nested (generated) code
        report.warn(f"traceability: {rel}: nested too deeply to read; file skipped")
        return []


class _ModuleReader:
    """Walks one module's AST, resolving marker spellings the module itself defines."""

    def __init__(self, rel: str, report: ScanReport, lines: list[str] | None = None):
        self.rel = rel
        self.report = report
        self.lines = lines  # the source, for the called names of each test (see features)
        self.pytest_names = {"pytest"}  # names bound to the pytest module
        self.mark_names: set[str] = set()  # names bound to pytest.mark
        self.marker_aliases: set[str] = set()  # names bound to pytest.mark.requirement
        self.module_classes: dict[str, ast.ClassDef] = {}
        self.module_text = ModuleText()  # docstring and imports, shared by the module's tests
        self.class_docs: dict[tuple[str, ...], str] = {}  # class path -> its docstring

    def read(self, tree: ast.Module) -> list[FoundTest]:
        self._collect_imports(tree)
        self.module_text = module_text(tree)
        self.module_classes = {s.name: s for s in tree.body if isinstance(s, ast.ClassDef)}
        module_ids: list[str] = []
        for stmt in tree.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                if stmt.value is None:
                    continue
                if "pytestmark" in names:
                    module_ids += self._ids_from_marks(stmt.value)
                elif names and self._is_marker(stmt.value):
                    self.marker_aliases |= names
        tests: list[FoundTest] = []
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name.startswith("test"):
                tests.append(self._test(stmt, (), module_ids))
            elif isinstance(stmt, ast.ClassDef) and stmt.name.startswith("Test"):
                tests += self._class_tests(stmt, (), module_ids)
        return tests

    def _collect_imports(self, tree: ast.Module) -> None:
        for stmt in tree.body:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.name == "pytest":
                        self.pytest_names.add(alias.asname or "pytest")
            elif isinstance(stmt, ast.ImportFrom) and stmt.module == "pytest":
                for alias in stmt.names:
                    if alias.name == "mark":
                        self.mark_names.add(alias.asname or "mark")

    def _class_tests(self, cls: ast.ClassDef, outer: tuple[str, ...], inherited: list[str]) -> list[FoundTest]:
        """Tests of a ``Test*`` class as pytest collects them: its own methods, then methods it
        inherits from classes defined in the same module (marks on those bases apply too).
        Classes with ``__init__`` or ``__test__ = False`` are not collected by pytest."""
        chain = self._class_chain(cls)
        if any(self._defines(c, "__init__") for c in chain) or self._test_disabled(chain):
            return []
        classes = outer + (cls.name,)
        self.class_docs[classes] = (ast.get_docstring(cls) or "")[:2000]
        ids = list(inherited)
        for klass in chain:
            ids += [i for d in klass.decorator_list for i in self._ids_from_marks(d)]
            for stmt in klass.body:  # a class-level ``pytestmark`` applies to all its methods
                if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets):
                    ids += self._ids_from_marks(stmt.value)
        tests: list[FoundTest] = []
        seen: set[str] = set()
        for klass in chain:
            for stmt in klass.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name not in seen:
                    seen.add(stmt.name)  # an override hides the base's method of that name
                    if stmt.name.startswith("test"):
                        tests.append(self._test(stmt, classes, ids))
                elif klass is cls and isinstance(stmt, ast.ClassDef) and stmt.name.startswith("Test"):
                    tests += self._class_tests(stmt, classes, ids)
        return tests

    def _class_chain(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """``cls`` then its bases defined at module level in this file, depth first, no repeats."""
        chain: list[ast.ClassDef] = []
        pending = [cls]
        while pending:
            klass = pending.pop(0)
            if klass in chain:
                continue
            chain.append(klass)
            pending += [self.module_classes[b.id] for b in klass.bases
                        if isinstance(b, ast.Name) and b.id in self.module_classes]
        return chain

    @staticmethod
    def _defines(cls: ast.ClassDef, name: str) -> bool:
        return any(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == name for s in cls.body)

    @staticmethod
    def _test_disabled(chain: list[ast.ClassDef]) -> bool:
        for klass in chain:
            for stmt in klass.body:
                if (isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__test__" for t in stmt.targets)
                        and isinstance(stmt.value, ast.Constant)):
                    return not stmt.value.value
        return False

    def _test(self, func: ast.FunctionDef | ast.AsyncFunctionDef, classes: tuple[str, ...], inherited: list[str]) -> FoundTest:
        ids = inherited + [i for d in func.decorator_list for i in self._ids_from_marks(d)]
        node_id = "::".join((self.rel,) + classes + (func.name,))
        unique = tuple(dict.fromkeys(ids))  # keep first-seen order, drop repeats
        return FoundTest(node_id=node_id, path=self.rel, name=func.name, classes=classes,
                         requirements=unique, line=func.lineno,
                         features=test_features(func, classes, self.class_docs.get(classes, ""), self.module_text,
                                                self.lines))

    # -- markers ---------------------------------------------------------------------------

    def _is_marker(self, node: ast.AST) -> bool:
        """True for the expression ``pytest.mark.requirement`` (or an alias of it), uncalled."""
        if isinstance(node, ast.Name):
            return node.id in self.marker_aliases
        if not (isinstance(node, ast.Attribute) and node.attr == MARKER_NAME):
            return False
        base = node.value
        if isinstance(base, ast.Name):
            return base.id in self.mark_names
        return (isinstance(base, ast.Attribute) and base.attr == "mark"
                and isinstance(base.value, ast.Name) and base.value.id in self.pytest_names)

    def _ids_from_marks(self, node: ast.AST) -> list[str]:
        """Requirement ids in a decorator or a ``pytestmark`` value (one mark or a sequence)."""
        if isinstance(node, (ast.List, ast.Tuple)):
            return [i for element in node.elts for i in self._ids_from_marks(element)]
        if isinstance(node, ast.Call) and self._is_marker(node.func):
            values = list(node.args) + [k.value for k in node.keywords if k.arg in ("ids", "id")]
            return [i for value in values for i in self._literal_ids(value, node)]
        return []

    def _literal_ids(self, value: ast.AST, call: ast.Call) -> list[str]:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return [value.value.strip()] if value.value.strip() else []
        if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            return [i for element in value.elts for i in self._literal_ids(element, call)]
        self.report.warn(
            f"traceability: {self.rel}:{call.lineno}: requirement marker argument "
            f"{ast.unparse(value)!r} is not a string literal; write the id as a literal so it can be traced"
        )
        return []
