"""Write ``@pytest.mark.requirement("ID")`` markers into a team's test files, preserving format.

libcst edits the concrete syntax tree, so everything not edited -- comments, blank lines,
decorator stacks, classes, ``parametrize`` -- is kept byte for byte. A marker goes on the test
*function* (a method of a ``Test*`` class included): an id is merged into an existing
requirement marker on that function, else a new decorator is added right above the ``def``.
``import pytest`` is added (after the module docstring and ``from __future__`` imports) when the
module has no name for pytest's ``mark``.

A file is never touched unless it round-trips: it must be UTF-8, use ``\\n`` line endings and
no tab indentation, parse, and print back to exactly its original bytes. Other files are
skipped with a warning naming them.
"""
from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import libcst as cst

from golive.plugins.traceability.mapfile import atomic_write

MARKER = "requirement"


@dataclass(frozen=True)
class MarkerTarget:
    """Put ``requirement_id`` on the function at ``qualname`` (classes..., function name)."""

    qualname: tuple[str, ...]
    requirement_id: str

    @classmethod
    def from_node_id(cls, node_id: str, requirement_id: str) -> tuple[str, "MarkerTarget"]:
        """(file path, target) for a pytest node id ``path::Class::func``."""
        path, *names = node_id.split("::")
        if not names:
            raise ValueError(f"{node_id} is not a test's node id (path::function)")
        names[-1] = names[-1].split("[", 1)[0]  # parametrized ids: the function itself
        return path, cls(tuple(names), requirement_id)


@dataclass
class FileEdit:
    """The outcome for one file: the new text, what was added, and what could not be."""

    path: Path
    rel: str
    original: str
    updated: str
    added: list[tuple[str, str]] = field(default_factory=list)  # (qualname, requirement id)
    unchanged: list[tuple[str, str]] = field(default_factory=list)  # already marked
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.updated != self.original

    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            self.original.splitlines(keepends=True), self.updated.splitlines(keepends=True),
            fromfile=f"a/{self.rel}", tofile=f"b/{self.rel}"))

    def write(self) -> None:
        """Atomically replace the file (temporary file + rename), keeping its mode."""
        atomic_write(self.path, self.updated.encode("utf-8"))


class RoundTripError(ValueError):
    """The file cannot be edited without risking changes beyond the markers."""


def load_source(path: Path, rel: str) -> tuple[str, cst.Module]:
    """The file's text and tree, or :class:`RoundTripError` naming the file and the reason."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RoundTripError(f"{rel}: not UTF-8 ({exc.reason} at byte {exc.start}); not touched") from None
    if "\r" in text:
        raise RoundTripError(f"{rel}: has CRLF or CR line endings; not touched (add its markers by hand)")
    if text.startswith("\ufeff"):
        raise RoundTripError(f"{rel}: starts with a byte order mark; not touched")
    if any(line[: len(line) - len(line.lstrip())].count("\t") for line in text.split("\n")):
        raise RoundTripError(f"{rel}: indented with tabs; not touched (add its markers by hand)")
    try:
        ast.parse(text, filename=rel)
        module = cst.parse_module(text)
    except (SyntaxError, cst.ParserSyntaxError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RoundTripError(f"{rel}: does not parse ({first}); not touched") from None
    if module.code != text:
        raise RoundTripError(f"{rel}: does not print back to its own bytes; not touched")
    return text, module


# -- names the module uses for pytest's marks ------------------------------------------------


@dataclass
class _Names:
    pytest: set[str] = field(default_factory=set)  # names bound to the pytest module
    mark: set[str] = field(default_factory=set)  # names bound to pytest.mark
    aliases: set[str] = field(default_factory=set)  # names bound to pytest.mark.requirement

    def spelling(self) -> str | None:
        """How this module spells ``pytest.mark.requirement``, or None without an import."""
        if "pytest" in self.pytest:
            return f"pytest.mark.{MARKER}"
        if self.pytest:
            return f"{sorted(self.pytest)[0]}.mark.{MARKER}"
        if self.mark:
            return f"{'mark' if 'mark' in self.mark else sorted(self.mark)[0]}.{MARKER}"
        return None

    def is_marker(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name):
            return node.value in self.aliases
        if not (isinstance(node, cst.Attribute) and node.attr.value == MARKER):
            return False
        base = node.value
        if isinstance(base, cst.Name):
            return base.value in self.mark
        return (isinstance(base, cst.Attribute) and base.attr.value == "mark"
                and isinstance(base.value, cst.Name) and base.value.value in self.pytest)


def _module_names(module: cst.Module) -> _Names:
    names = _Names()
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if _dotted(alias.name) == "pytest":
                        names.pytest.add(alias.asname.name.value if alias.asname else "pytest")
            elif (isinstance(small, cst.ImportFrom) and small.module is not None
                  and _dotted(small.module) == "pytest" and not isinstance(small.names, cst.ImportStar)):
                for alias in small.names:
                    if _dotted(alias.name) == "mark":
                        names.mark.add(alias.asname.name.value if alias.asname else "mark")
    for stmt in module.body:  # requirement = pytest.mark.requirement
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and names.is_marker(small.value):
                    names.aliases |= {t.target.value for t in small.targets if isinstance(t.target, cst.Name)}
    return names


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _string_ids(node: cst.BaseExpression) -> list[str]:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return [value.strip()] if isinstance(value, str) else []
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return [i for element in node.elements for i in _string_ids(element.value)]
    return []


# -- the transformer ---------------------------------------------------------------------------


class _AddMarkers(cst.CSTTransformer):
    def __init__(self, wanted: dict[tuple[str, ...], list[str]], names: _Names, spelling: str):
        self.wanted = wanted
        self.names = names
        self.spelling = spelling
        self.stack: list[str] = []
        self.found: dict[tuple[str, ...], list[str]] = {}  # qualname -> ids added
        self.already: dict[tuple[str, ...], list[str]] = {}

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.stack.append(node.name.value)
        return True

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.stack.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.stack.append(node.name.value)
        return True

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        qualname = tuple(self.stack)
        self.stack.pop()
        ids = self.wanted.get(qualname)
        if not ids:
            return updated
        present = {i for d in updated.decorators for i in self._ids(d.decorator)}
        new_ids = [i for i in dict.fromkeys(ids) if i not in present]
        self.already[qualname] = [i for i in dict.fromkeys(ids) if i in present]
        self.found[qualname] = new_ids
        if not new_ids:
            return updated
        decorators = list(updated.decorators)
        for index, decorator in enumerate(decorators):
            call = decorator.decorator
            if (isinstance(call, cst.Call) and self.names.is_marker(call.func)
                    and not any(a.star for a in call.args)):
                decorators[index] = decorator.with_changes(decorator=_add_args(call, new_ids))
                break
        else:
            args = ", ".join(_quote(i) for i in new_ids)
            decorators.append(cst.Decorator(decorator=cst.parse_expression(f"{self.spelling}({args})")))
        return updated.with_changes(decorators=decorators)

    def _ids(self, node: cst.BaseExpression) -> list[str]:
        if isinstance(node, cst.Call) and self.names.is_marker(node.func):
            return [i for a in node.args if a.keyword is None or a.keyword.value in ("ids", "id")
                    for i in _string_ids(a.value)]
        return []


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _add_args(call: cst.Call, ids: Sequence[str]) -> cst.Call:
    """``requirement("A")`` -> ``requirement("A", "B")``; new ids go after the last positional
    argument (before keywords), reusing the call's own comma style (trailing comma, one id a
    line)."""
    args = list(call.args)
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    new = [cst.Arg(value=cst.SimpleString(_quote(i)), comma=space) for i in ids]
    pos = max((i for i, a in enumerate(args) if a.keyword is None), default=-1)
    if pos < 0:  # only keywords (ids=[...]) or no arguments: the ids go first
        if not args:
            new[-1] = new[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return call.with_changes(args=new + args)
    sep = args[pos - 1].comma if pos >= 1 and isinstance(args[pos - 1].comma, cst.Comma) else space
    if pos + 1 == len(args):  # the new ids become the last arguments
        tail = args[pos].comma
        args[pos] = args[pos].with_changes(comma=sep)
        new = [a.with_changes(comma=sep) for a in new[:-1]] + [new[-1].with_changes(comma=tail)]
    else:  # keywords follow: the new ids take the comma that separated them
        new = [a.with_changes(comma=args[pos].comma) for a in new]
    args[pos + 1:pos + 1] = new
    return call.with_changes(args=args)


def _add_import(module: cst.Module) -> cst.Module:
    """``import pytest`` after the docstring and ``from __future__`` imports."""
    body = list(module.body)
    index = 0
    if body and _is_docstring(body[0]):
        index = 1
    while index < len(body) and _is_future(body[index]):
        index += 1
    statement = cst.parse_statement("import pytest\n")
    if index < len(body):
        following = body[index]
        if _is_import(following):  # join the import block, taking its blank lines and comments
            statement = statement.with_changes(leading_lines=following.leading_lines)
            body[index] = following.with_changes(leading_lines=())
        elif not any(line.comment is None for line in following.leading_lines):
            body[index] = following.with_changes(leading_lines=(cst.EmptyLine(),) * 2 + tuple(following.leading_lines))
    if index > 0 and not statement.leading_lines:
        statement = statement.with_changes(leading_lines=(cst.EmptyLine(),))
    body.insert(index, statement)
    return module.with_changes(body=body)


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _is_future(stmt: cst.CSTNode) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine)
            and any(isinstance(s, cst.ImportFrom) and s.module is not None and _dotted(s.module) == "__future__"
                    for s in stmt.body))


def _is_import(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


# -- public API --------------------------------------------------------------------------------


def add_markers_to_source(text: str, module: cst.Module, targets: Iterable[MarkerTarget],
                          rel: str = "<source>") -> tuple[str, list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    """(new text, added, already present, problems) for one parsed module."""
    wanted: dict[tuple[str, ...], list[str]] = {}
    for t in targets:
        wanted.setdefault(t.qualname, []).append(t.requirement_id)
    names = _module_names(module)
    spelling = names.spelling()
    needs_import = spelling is None
    transformer = _AddMarkers(wanted, names, spelling or f"pytest.mark.{MARKER}")
    updated = module.visit(transformer)
    added = [("::".join(q), i) for q, ids in transformer.found.items() for i in ids]
    already = [("::".join(q), i) for q, ids in transformer.already.items() for i in ids]
    problems = [f"{rel}::{'::'.join(q)}: no such test function defined in this file (inherited or renamed?); "
                f"{', '.join(ids)} not written" for q, ids in wanted.items() if q not in transformer.found]
    if needs_import and added:
        updated = _add_import(updated)
    code = updated.code
    if added:
        try:
            ast.parse(code, filename=rel)
        except SyntaxError as exc:  # pragma: no cover - libcst prints valid code
            return text, [], already, [f"{rel}: the edit would not parse ({exc.msg}); not touched"]
    return code, added, already, problems


def plan_edits(root: Path, wanted: dict[str, list[MarkerTarget]]) -> tuple[list[FileEdit], list[str]]:
    """One :class:`FileEdit` per file of ``wanted`` (relative path -> targets) that can be
    edited safely; warnings for the files skipped and the tests not found."""
    edits: list[FileEdit] = []
    warnings: list[str] = []
    for rel in sorted(wanted):
        path = root / rel
        try:
            if not path.resolve().is_relative_to(root.resolve()):
                warnings.append(f"{rel}: outside the target; not touched")
                continue
            text, module = load_source(path, rel)
        except RoundTripError as exc:
            warnings.append(str(exc))
            continue
        except OSError as exc:
            warnings.append(f"{rel}: cannot read ({exc}); not touched")
            continue
        updated, added, already, problems = add_markers_to_source(text, module, wanted[rel], rel)
        warnings.extend(problems)
        edits.append(FileEdit(path=path, rel=rel, original=text, updated=updated, added=added,
                              unchanged=already, problems=problems))
    return edits, warnings
