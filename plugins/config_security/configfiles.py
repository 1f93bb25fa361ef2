"""Loading the target's configuration files with line numbers, safely.

YAML goes through ``yaml.SafeLoader`` only (composition to nodes, so every value keeps the
line it was written on); JSON and TOML are supported for teams that use them. A file that
does not parse is an ``ArtifactError`` naming the file and line.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Iterator

import yaml

from golive.plugins.monitoring.opslog import ArtifactError
from golive.run.target import inside_only

CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml")


def config_files(root: Path, pattern: str) -> list[Path]:
    """The configuration files matching ``pattern`` under ``root``. A file that resolves
    outside the workspace (a symbolic link out of it) is left out, so the checks go on with the
    others; ``golive.run.target.confined`` logs each refusal, naming the link and its
    destination, and the run's warnings carry it."""
    return inside_only(root, sorted(p for p in root.glob(pattern) if p.is_file() and p.suffix in CONFIG_SUFFIXES))


def load(path: Path) -> Any:
    """The parsed document (plain Python data)."""
    return loads(path.read_text(encoding="utf-8"), path)


def loads(text: str, path: Path) -> Any:
    """Parse ``text`` as the format ``path``'s suffix names (used for old git versions too)."""
    try:
        if path.suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
        if path.suffix == ".json":
            return json.loads(text)
        if path.suffix == ".toml":
            return tomllib.loads(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise ArtifactError(path, mark.line + 1 if mark else None, f"invalid YAML: {getattr(exc, 'problem', exc)}") from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ArtifactError(path, None, f"invalid TOML: {exc}") from None
    raise ArtifactError(path, None, f"unsupported configuration format {path.suffix!r}")


def scalars(path: Path) -> Iterator[tuple[str, Any, int | None]]:
    """(dotted key path, scalar value, 1-based line) for every leaf of the file.

    YAML leaves carry their line; JSON and TOML leaves carry None (their parsers drop it).
    """
    if path.suffix in (".yaml", ".yml"):
        try:
            node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise ArtifactError(path, mark.line + 1 if mark else None, f"invalid YAML: {getattr(exc, 'problem', exc)}") from None
        if node is not None:
            yield from _walk_node(node, "")
        return
    yield from ((k, v, None) for k, v in flatten(load(path)).items())


def _walk_node(node: yaml.Node, prefix: str) -> Iterator[tuple[str, Any, int | None]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = f"{prefix}.{key.value}" if prefix else str(key.value)
            yield from _walk_node(value, name)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk_node(item, f"{prefix}[{i}]")
    else:
        yield prefix, node.value, node.start_mark.line + 1


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key paths of every leaf (lists indexed ``a.b[0]``)."""
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            out |= flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out |= flatten(v, f"{prefix}[{i}]")
    else:
        out[prefix] = doc
    return out
