"""A safe, line-aware YAML reader for plan files.

``read_yaml(path)`` returns the document as plain Python data plus a map from each value's
path (``("requirements", 3, "thresholds", 0, "op")``) to the 1-based line it was written on,
so every later error can say ``file:line``. It builds on :class:`yaml.SafeLoader` (only the
standard YAML tags; nothing can instantiate Python objects) and adds the strictness a plan
needs:

- the file must be UTF-8 (a BOM is accepted) and at most ``MAX_FILE_BYTES``;
- duplicate mapping keys are an error (PyYAML silently keeps the last one);
- mapping keys must be strings (``1:`` or ``yes:`` would otherwise become int/bool keys);
- aliases are expanded under a budget of ``MAX_VALUES`` values per file and may not refer to
  themselves, so "billion laughs" documents and recursive anchors are refused, not expanded;
- nesting deeper than ``MAX_DEPTH`` is refused.

Every problem is raised as :class:`YamlError` carrying the file, the line (when known) and a
message written for the person who edits the file.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_VALUES = 50_000
MAX_DEPTH = 40
MAX_INT_CHARS = 100  # no plan number needs more; Python refuses > 4300 digits anyway

MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
UTF8_BOM = b"\xef\xbb\xbf"

Path_ = tuple  # a value's location inside the document: keys and list indexes


class YamlError(ValueError):
    """The file cannot be read as a plan YAML document."""

    def __init__(self, file: str, line: int | None, message: str):
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")
        self.file = file
        self.line = line
        self.message = message


@dataclass
class YamlDoc:
    """One parsed YAML file: its data and where each value was written."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    sha256: str = ""  # of the file's bytes, for the plan digest

    def line_of(self, path: Path_ | list | Any = ()) -> int | None:
        """The line of ``path`` or, when that value has no line of its own, of its nearest parent."""
        path = tuple(path)
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


class LineLoader(yaml.SafeLoader):
    """SafeLoader used only to scan, parse and compose nodes and to construct scalars;
    collections are built by :class:`_Builder`, which keeps each node's line."""


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _yaml_type(value: Any) -> str:
    return {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


class _Builder:
    """Turns a composed node graph into plain data, recording lines and enforcing the limits."""

    def __init__(self, loader: LineLoader, file: str):
        self.loader = loader
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.values = 0
        self.active: set[int] = set()  # collection nodes being built: an alias to one is recursion

    def fail(self, node: Node, message: str) -> YamlError:
        return YamlError(self.file, _line(node), message)

    def build(self, node: Node, path: Path_, depth: int = 0) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.fail(node, f"the document expands to more than {MAX_VALUES} values "
                                  "(aliases expanding too much?); write the values out instead")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        self.lines.setdefault(path, _line(node))
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if id(node) in self.active:
            raise self.fail(node, "an alias refers to the collection that contains it (recursive anchor)")
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != SEQ_TAG:
                    raise self.fail(node, f"YAML tag {node.tag!r} is not allowed in a plan file")
                return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                if node.tag != MAP_TAG:
                    raise self.fail(node, f"YAML tag {node.tag!r} is not allowed in a plan file")
                return self.mapping(node, path, depth)
            raise self.fail(node, f"unsupported YAML node {type(node).__name__}")
        finally:
            self.active.discard(id(node))

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag not in self.loader.yaml_constructors:
            raise self.fail(node, f"YAML tag {node.tag!r} is not allowed in a plan file")
        if node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_INT_CHARS:
            raise self.fail(node, f"number {node.value[:20]}... has more than {MAX_INT_CHARS} digits")
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise self.fail(node, f"cannot read value {node.value[:60]!r}: {problem}") from None
        except (ValueError, OverflowError) as exc:
            # e.g. integers longer than Python's int_max_str_digits, or impossible dates
            raise self.fail(node, f"cannot read value {node.value[:60]!r}: {exc}") from None

    def mapping(self, node: MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merge_nodes: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merge_nodes.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, "a mapping key must be a plain string, not a list or mapping")
            key = self.scalar(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, f"mapping key {key_node.value!r} is read as {_yaml_type(key)}; "
                                          "keys must be strings (quote it)")
            if key in first_line:
                raise self.fail(key_node, f"duplicate key {key!r} (first written on line {first_line[key]})")
            first_line[key] = _line(key_node)
            self.lines.setdefault(path + (key,), _line(key_node))
            result[key] = self.build(value_node, path + (key,), depth + 1)
        # "<<: *defaults" supplies values the mapping does not state itself; built after the
        # explicit keys so the lines recorded are those of the values actually used
        merged: dict[str, Any] = {}
        for merge_node in merge_nodes:
            merged.update(self.merge_source(merge_node, path, depth))
        return {**{k: v for k, v in merged.items() if k not in result}, **result}

    def merge_source(self, node: Node, path: Path_, depth: int) -> dict[str, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):  # earlier sources win, as in YAML's merge key spec
            if not isinstance(source, MappingNode):
                raise self.fail(source, "'<<' merges only mappings (or a list of mappings)")
            merged.update(self.build(source, path, depth + 1))
        return merged


def _decode(raw: bytes, file: str) -> str:
    if raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlError(file, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8") from None


def _syntax_error(exc: yaml.YAMLError, text: str, file: str) -> YamlError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        if "'\\t'" in problem:
            problem += "; indent with spaces, not tabs"
        return YamlError(file, mark.line + 1 if mark else None, f"YAML syntax error: {problem}")
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        return YamlError(file, line, f"character U+{char:04X} is not allowed in YAML ({exc.reason}); remove it")
    return YamlError(file, None, f"YAML error: {exc}")


def parse_yaml(text: str, file: str) -> YamlDoc:
    """Parse ``text`` (the content of ``file``, used in messages) into a :class:`YamlDoc`."""
    try:
        loader = LineLoader(text)
    except yaml.YAMLError as exc:  # the reader rejects control characters up front
        raise _syntax_error(exc, text, file) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise _syntax_error(exc, text, file) from None
        except RecursionError:
            raise YamlError(file, None, "nesting too deep to read") from None
        if node is None:
            raise YamlError(file, None, "the file is empty; expected a YAML mapping")
        builder = _Builder(loader, file)
        try:
            data = builder.build(node, ())
        except RecursionError:
            raise YamlError(file, _line(node), "nesting too deep to read") from None
        return YamlDoc(file=file, data=data, lines=builder.lines)
    finally:
        loader.dispose()


def read_yaml(path: Path, file: str | None = None) -> YamlDoc:
    """Read and parse the YAML file at ``path``; ``file`` is the name used in messages."""
    file = file or str(path)
    try:
        if path.is_dir():
            raise YamlError(file, None, "is a directory; expected a YAML file")
        if not path.exists():
            raise YamlError(file, None, "file not found")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlError(file, None, f"file is {size} bytes; plan files are limited to {MAX_FILE_BYTES}")
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlError(file, None, f"cannot read file: {exc.strerror or exc}") from None
    doc = parse_yaml(_decode(raw, file), file)
    doc.sha256 = hashlib.sha256(raw).hexdigest()
    return doc
