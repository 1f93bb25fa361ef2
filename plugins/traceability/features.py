"""Text features of a test, read from the AST the scanner already parsed, and the tokenizer
that link recovery (:mod:`.suggest`) applies to tests and requirements alike.

Why: trading teams rarely mark tests with ``@pytest.mark.requirement``; the words a test is
made of -- its path, names, docstrings, parametrize strings, imports and called names -- are
what a reviewer reads to decide which requirement it covers, so they are what the ranking
reads too. Extraction happens during the scanner's single ``ast`` pass (``_ModuleReader`` calls
:func:`module_text` once per file and :func:`test_features` per test), so a large repository
is parsed once. Module-level strings are shared between the tests of a file, not copied.

Tokenizing: identifiers are split on snake_case, camelCase and digits (``MboPressureAnalyzer``
-> ``mbo pressure analyzer``), lower-cased, stemmed with the Snowball English stemmer
(PyStemmer), and generic words of code and of test prose (``test``, ``assert``, ``data``,
``value``, ...) are dropped: they occur everywhere and say nothing about which requirement a
test covers.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

_STEMMER = Stemmer.Stemmer("english")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
MAX_TEXT = 2000  # characters kept of one docstring or string: the first paragraph says enough
MAX_NAMES = 60  # called/attribute names kept per test

# Words that say nothing about *which* requirement a test covers: English function words,
# pytest/Python vocabulary, and words every test or requirement uses.
GENERIC = frozenset("""
a an and are as at be been being by can could do does done for from has have if in into is it
its itself may must no not of on or our should so such than that the their them then there these
this those to too was were when where which while with within without will would all any each
every other only also very more most less same one two three per via after before during
test tests testing tested check checks checked checking assert asserts data value values result
results expect expected actual case cases fixture fixtures mock mocker mocks monkeypatch patch
param params parametrize mark pytest raises self cls none true false return returns get set
make makes run runs running new old use uses used using work works ok okay good bad valid
invalid correct correctly properly handle handles handled handling given when then thing things
foo bar baz tmp path str int float bool list dict tuple len range print type isinstance
unittest setup teardown helper helpers util utils conftest main init py src lib tmp_path caplog
capsys request requests_mock is_ should_ does_ can_ evidence system systems configured
""".split())


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


_GENERIC_STEMS = frozenset(_stem(w) for w in GENERIC) | GENERIC


def split_words(text: str) -> list[str]:
    """Words of ``text`` with identifiers split: ``loadProfile_v2`` -> ``load profile v 2``."""
    return [w.lower() for w in _WORD.findall(text)]


@lru_cache(maxsize=100_000)
def tokens(text: str) -> tuple[str, ...]:
    """Stemmed, lower-case tokens of ``text`` (identifiers split), generic words and single
    characters dropped; numbers of two or more digits are kept (``75`` percent, ``20`` day)."""
    out = []
    for word in split_words(text):
        if len(word) < 2 or word in GENERIC:
            continue
        stem = _stem(word)
        if stem not in _GENERIC_STEMS:
            out.append(stem)
    return tuple(out)


def raw_tokens(text: str) -> list[str]:
    """Stemmed tokens with nothing dropped: the synonym matcher needs phrases intact."""
    return [_stem(w) for w in split_words(text)]


@dataclass(frozen=True)
class ModuleText:
    """What one test module says about all its tests (shared, not copied, by each test)."""

    docstring: str = ""
    imports: str = ""  # imported module and names, space separated


@dataclass(frozen=True)
class TextFeatures:
    """The words of one test, by field (raw text; :mod:`.suggest` tokenizes and weighs them)."""

    name: str  # the function name
    classes: str = ""  # enclosing class names, space separated
    docstring: str = ""  # the function's docstring
    class_docstring: str = ""  # the innermost class's docstring
    module: ModuleText = ModuleText()
    params: str = ""  # string ids/values of @pytest.mark.parametrize
    calls: str = ""  # called and attribute names in the body

    def fields(self, path: str) -> dict[str, str]:
        """The test's text per field; ``path`` (the file, relative to the target) adds the
        ``file`` (stem) and ``folder`` fields."""
        folder, _, file = path.rpartition("/")
        stem = file.rsplit(".", 1)[0]
        stem = stem[5:] if stem.startswith("test_") else stem[:-5] if stem.endswith("_test") else stem
        return {"name": self.name, "classes": self.classes, "docstring": self.docstring,
                "class_docstring": self.class_docstring, "module_docstring": self.module.docstring,
                "params": self.params, "calls": self.calls, "imports": self.module.imports,
                "file": stem, "folder": folder.replace("/", " ")}


def _clip(text: str | None) -> str:
    return (text or "")[:MAX_TEXT]


def module_text(tree: ast.Module) -> ModuleText:
    """Module docstring and the names it imports (top-level imports only: cheap and telling)."""
    names: list[str] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            names += [a.name for a in stmt.names]
        elif isinstance(stmt, ast.ImportFrom):
            names += [stmt.module or ""] + [a.name for a in stmt.names]
    kept = [n for n in dict.fromkeys(names) if n and n.split(".")[0] not in ("pytest", "unittest", "__future__")]
    return ModuleText(docstring=_clip(ast.get_docstring(tree)), imports=" ".join(kept))


def _parametrize_strings(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    out: list[str] = []
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr == "parametrize":
            values = list(deco.args[1:]) + [k.value for k in deco.keywords if k.arg == "ids"]
            for value in values:
                for node in ast.walk(value):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        out.append(node.value[:200])
    return out


# ``.attr`` or ``name(`` in source text: the same names the AST walk finds, read with one
# C-speed regex over the function's lines (the walk cost ~0.1 ms a test, a second on 10k tests)
_CALLED = re.compile(r"\.\s*([A-Za-z_]\w*)|\b([A-Za-z_]\w*)\s*\(")


def _called_names_from_source(func: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> list[str]:
    body = func.body
    start = body[0].lineno - 1 if body else func.lineno
    end = getattr(func, "end_lineno", None) or start + 1
    text = "\n".join(line.split("#", 1)[0] for line in lines[start:end])
    names: dict[str, None] = {}
    for attr, call in _CALLED.findall(text):
        name = attr or call
        if name not in _KEYWORDS:
            names.setdefault(name)
            if len(names) >= MAX_NAMES:
                break
    return list(names)


_KEYWORDS = frozenset({"if", "for", "while", "with", "return", "assert", "not", "and", "or", "in", "is",
                       "lambda", "yield", "await", "print", "elif", "del", "raise", "except"})


def _called_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    names: dict[str, None] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Attribute):
            names.setdefault(node.attr)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            names.setdefault(node.func.id)
        if len(names) >= MAX_NAMES:
            break
    return list(names)


def test_features(func: ast.FunctionDef | ast.AsyncFunctionDef, classes: tuple[str, ...],
                  class_docstring: str, module: ModuleText, lines: list[str] | None = None) -> TextFeatures:
    """The text features of one test function; called names come from the function's source
    ``lines`` when given (a regex), else from a walk of its subtree."""
    return TextFeatures(name=func.name, classes=" ".join(classes), docstring=_clip(ast.get_docstring(func)),
                        class_docstring=class_docstring, module=module,
                        params=" ".join(_parametrize_strings(func)),
                        calls=" ".join(_called_names_from_source(func, lines) if lines is not None
                                       else _called_names(func)))


test_features.__test__ = False  # a helper named test_*: not something pytest should collect
