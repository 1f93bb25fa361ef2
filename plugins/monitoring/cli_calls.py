"""The command-line arguments a test file passes to calls, found by static analysis.

Used by the PRE-PIPE-03 check (cli_arguments.py) to decide which options of the entry script
the team's tests exercise. Only strings in *argument position* count:

* string elements of a list or tuple literal given to a call, positionally or by keyword,
  nested lists included (``parse_args(["--date", "x"])``, ``subprocess.run([...])``,
  ``runner.invoke(cli, [...])``, ``pytest.mark.parametrize("argv", [["--dry-run"]])``);
* the same literal bound to a name first and the name given to a call
  (``argv = ["--dry-run"]; main(argv)``);
* ``"--a b".split()`` and ``shlex.split("--a b")``: the split words;
* a command string given to ``subprocess.run/call/check_call/check_output/Popen`` or
  ``os.system``: its shell words.

A string elsewhere (an assertion message, a dataset name, a comment) is never an argument.
"""
from __future__ import annotations

import ast
import shlex

SHELL_CALLS = {"run", "call", "check_call", "check_output", "Popen", "system"}


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # unbalanced quotes: plain whitespace split
        return text.split()


def _strings(node: ast.AST) -> list[str]:
    """String elements of a (nested) list/tuple literal; a ``"...".split()`` inside counts too."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [s for element in node.elts for s in _strings(element)]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Starred):
        return _strings(node.value)
    return _split_call(node)


def _split_call(node: ast.AST) -> list[str]:
    """Words of ``"...".split()`` / ``shlex.split("...")``; [] for anything else."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or node.func.attr != "split":
        return []
    owner = node.func.value
    if isinstance(owner, ast.Constant) and isinstance(owner.value, str) and not node.args:
        return owner.value.split()
    if isinstance(owner, ast.Name) and owner.id == "shlex" and node.args \
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return _split(node.args[0].value)
    return []


def _func_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def call_arguments(source: str, filename: str = "<test>") -> list[tuple[str, int]]:
    """``(argument, line)`` for every string passed as a command-line argument in ``source``.

    Raises ``SyntaxError`` when the file is not valid Python.
    """
    tree = ast.parse(source, filename=filename)
    bound: dict[str, list[tuple[str, int]]] = {}  # name -> strings of the literal assigned to it
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple, ast.Call)):
            words = _strings(node.value)
            for target in node.targets:
                if isinstance(target, ast.Name) and words:
                    bound.setdefault(target.id, []).extend((w, node.lineno) for w in words)
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        values = list(node.args) + [k.value for k in node.keywords]
        shell = _func_name(node) in SHELL_CALLS
        for value in values:
            if isinstance(value, ast.Name) and value.id in bound:
                found += bound[value.id]
            elif shell and isinstance(value, ast.Constant) and isinstance(value.value, str):
                found += [(w, node.lineno) for w in _split(value.value)]
            elif isinstance(value, (ast.List, ast.Tuple, ast.Call, ast.Starred)):
                found += [(w, node.lineno) for w in _strings(value)]
    return found
