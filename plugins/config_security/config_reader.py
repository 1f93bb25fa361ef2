"""The configuration keys the target's own code reads, found by static analysis.

Used by ``profiles_load`` (PRE-PIPE-02, PRE-CONF-01) when the target ships no configuration
schema and golive.toml declares no required keys: a key the code reads without a default is a
key every profile must have. golive never imports or runs the audited code; it parses it.

In each Python file outside the tests (and virtual environments), a *config value* is:

* the result of a loader call -- ``yaml.safe_load``/``yaml.load``/``json.load(s)``/
  ``tomllib.load(s)``/``toml.load`` -- or of a function of the same code base that returns one;
* a parameter named ``config``, ``cfg``, ``conf``, ``settings`` or ``profile``;
* a sub-value of a config value bound to a name (``trading = cfg["trading"]``).

Reads of a config value give dotted key paths:

* ``cfg["trading"]["mode"]`` -> ``trading.mode``, **required** (a missing key raises);
* ``cfg.trading.mode`` (attribute-style configs) -> ``trading.mode``, **required**;
* ``cfg.get("output", {}).get("dir")`` -> ``output.dir``, *optional* (read with a default).

Only string-constant keys count; a computed key is ignored. Names are tracked per file, not per
scope: a deliberate approximation, reported in the details of the check.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

LOADERS = {("yaml", "safe_load"), ("yaml", "load"), ("yaml", "full_load"), ("json", "load"), ("json", "loads"),
           ("tomllib", "load"), ("tomllib", "loads"), ("toml", "load"), ("tomli", "load")}
CONFIG_PARAMS = {"config", "cfg", "conf", "settings", "profile"}
DICT_METHODS = {"get", "items", "keys", "values", "setdefault", "update", "copy", "pop", "__getitem__"}
SKIP_DIRS = {"tests", "test", ".venv", "venv", "env", "site-packages", "node_modules", "build", "dist", "__pycache__"}
MAX_FILES = 2000


@dataclass
class ConfigReads:
    required: dict[str, list[str]] = field(default_factory=dict)  # key -> ["file:line", ...]
    optional: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # files with a config loader or config reads

    def add(self, key: str, where: str, required: bool) -> None:
        (self.required if required else self.optional).setdefault(key, []).append(where)


def _is_loader(call: ast.AST, returning: set[str]) -> bool:
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return (func.value.id, func.attr) in LOADERS
    return isinstance(func, ast.Name) and func.id in returning


def _returning_functions(tree: ast.Module) -> set[str]:
    """Functions that return a loader call directly or a name bound to one."""
    out: set[str] = set()
    for _ in range(2):  # a wrapper of a wrapper
        for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            bound = {t.id for n in ast.walk(fn) if isinstance(n, ast.Assign) and _is_loader(n.value, out)
                     for t in n.targets if isinstance(t, ast.Name)}
            for ret in (n for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None):
                if _is_loader(ret.value, out) or (isinstance(ret.value, ast.Name) and ret.value.id in bound):
                    out.add(fn.name)
    return out


def _path(node: ast.AST, roots: dict[str, str]) -> tuple[str, bool] | None:
    """(dotted key path, read without default) of an access chain on a config value."""
    if isinstance(node, ast.Name):
        return (roots[node.id], True) if node.id in roots else None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        inner = _path(node.value, roots)
        return (_join(inner[0], node.slice.value), inner[1]) if inner else None
    if isinstance(node, ast.Attribute) and node.attr not in DICT_METHODS:
        inner = _path(node.value, roots)
        return (_join(inner[0], node.attr), inner[1]) if inner else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        inner = _path(node.func.value, roots)
        return (_join(inner[0], node.args[0].value), False) if inner else None
    return None


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def reads_in_source(source: str, filename: str, out: ConfigReads) -> None:
    tree = ast.parse(source, filename=filename)
    returning = _returning_functions(tree)
    roots: dict[str, str] = {}  # name -> key path it holds ("" = the whole config)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in node.args.args + node.args.kwonlyargs:
                if arg.arg in CONFIG_PARAMS:
                    roots.setdefault(arg.arg, "")
    for _ in range(3):  # sub-values bound to names, in any order of appearance
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                if _is_loader(node.value, returning):
                    roots[name] = ""
                elif name not in roots and (sub := _path(node.value, roots)) is not None:
                    roots[name] = sub[0]
    if not roots:
        return
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = False
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Subscript, ast.Attribute, ast.Call)) or id(node) in called:
            continue
        got = _path(node, roots)
        if got is None or not got[0] or (isinstance(node, ast.Attribute) and _mixed(node)):
            continue
        out.add(got[0], f"{filename}:{node.lineno}", got[1] and not _has_get(node))
        found = True
    if found:
        out.files.append(filename)


def _has_get(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get"
               for n in ast.walk(node))


def _mixed(node: ast.AST) -> bool:
    """An attribute on a dict-style access (``cfg["name"].strip``) is a method, not a key: only
    pure attribute chains (``cfg.trading.mode``) are attribute-style configs."""
    return any(isinstance(n, (ast.Subscript, ast.Call)) for n in ast.walk(node))


def required_keys(reads: ConfigReads) -> list[str]:
    """Required key paths, without those implied by a longer one (``a`` by ``a.b``)."""
    keys = set(reads.required)
    return sorted(k for k in keys if not any(o.startswith(k + ".") for o in keys))


def discover(root: Path) -> tuple[ConfigReads, list[str]]:
    """Config keys read by the Python code under ``root`` (tests and environments excluded),
    and the files that could not be parsed."""
    out, unparsable = ConfigReads(), []
    files = [p for p in sorted(root.rglob("*.py"))
             if not any(part in SKIP_DIRS or part.startswith(".") for part in p.relative_to(root).parts[:-1])
             and not p.name.startswith("test_")][:MAX_FILES]
    for path in files:
        rel = str(path.relative_to(root))
        try:
            reads_in_source(path.read_text(encoding="utf-8", errors="replace"), rel, out)
        except SyntaxError as exc:
            unparsable.append(f"{rel}:{exc.lineno}")
    return out, unparsable
