"""JSON-lines files read one line at a time, with a size warning for large inputs.

Every log reader of the plugins goes through :func:`json_lines`, so no reader holds a file's
text or its parsed lines in memory: a 400 MB log costs what the check keeps, not 30x the
file. Lines are parsed with orjson (a dependency already) and, only when it refuses one,
again with the standard library, so what is accepted and the error wording are the
stdlib's. A bad line raises :class:`BadLine` with its 1-based number; callers turn it into
their own error class naming the file.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterator

import orjson

LARGE_INPUT_BYTES = 64 * 1024 * 1024  # above this, a run says which inputs were large
log = logging.getLogger("golive.plugins.inputs")
_warned: set[tuple[str, int]] = set()
_streamed: dict[str, int] = {}  # resolved path -> size, for the large files read here


class BadLine(ValueError):
    """A line that is not a JSON object (``line`` is 1-based)."""

    def __init__(self, line: int, problem: str):
        self.line, self.problem = line, problem
        super().__init__(f"line {line}: {problem}")


def size_note(path: Path, shown: str | None = None) -> str | None:
    """``"logs/x.jsonl is 400 MB: read streaming"`` for an input above
    :data:`LARGE_INPUT_BYTES` (logged once per file and size as a run warning), else None."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return None
    if size <= LARGE_INPUT_BYTES:
        return None
    note = _note(shown or str(path), size)
    _streamed[str(Path(path).resolve())] = size
    if (str(path), size) not in _warned:
        _warned.add((str(path), size))
        log.warning(note)
    return note


def streamed_note(path: Path, shown: str) -> str | None:
    """The note for ``path`` (named ``shown``) if a streaming reader of this process found it
    large, else None: a large file read some other way gets no "read streaming" note."""
    size = _streamed.get(str(Path(path).resolve()))
    return None if size is None else _note(shown, size)


def _note(shown: str, size: int) -> str:
    return f"{shown} is {size / 1e6:,.0f} MB: read streaming"


def _loads(raw: bytes, number: int) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:  # the stdlib accepts a little more (NaN, huge integers) and words the errors
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadLine(number, f"not valid UTF-8 (byte {exc.start + 1})") from None
    except json.JSONDecodeError as exc:
        raise BadLine(number, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise BadLine(number, "not valid JSON (nested too deeply)") from None


def json_lines(path: Path, comments: bool = False) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line of ``path``, read one line at a time.

    With ``comments``, lines starting with ``#`` are skipped too. A line that is not a JSON
    object raises :class:`BadLine`.
    """
    for number, _, data in json_lines_at(path, comments):
        yield number, data


def json_lines_at(path: Path, comments: bool = False) -> Iterator[tuple[int, int, dict]]:
    """:func:`json_lines` with each line's byte offset, so a reader that keeps only columns
    can re-read the few lines a message shows."""
    with open(path, "rb") as fh:
        offset = 0
        for number, raw in enumerate(fh, start=1):
            at, offset = offset, offset + len(raw)
            text = raw.strip()
            if not text or comments and text.startswith(b"#"):
                continue
            data = _loads(text, number)
            if not isinstance(data, dict):
                raise BadLine(number, "each line must be a JSON object")
            yield number, at, data
