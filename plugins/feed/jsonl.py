"""Reading the target's JSON-lines logs with errors that name the file, the line and the field.

Timestamps may be ISO-8601 strings (a missing offset means UTC) or integer nanoseconds since
the epoch; both become UTC ``datetime``. Field contracts: ``docs/feed-artifacts.md``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from golive.plugins.monitoring.jsonlines import BadLine, json_lines_at


class LogFormatError(Exception):
    """A log line that does not match its documented contract."""


def parse_ts(value: Any, where: str, field: str = "ts") -> datetime:
    if isinstance(value, bool):
        raise LogFormatError(f"{where}: field '{field}' must be a timestamp, got {value!r}")
    if isinstance(value, int):
        try:
            return datetime.fromtimestamp(value / 1e9, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise LogFormatError(f"{where}: field '{field}' is not a time in epoch ns: {value!r}") from None
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise LogFormatError(f"{where}: field '{field}' is not an ISO-8601 time: {value!r}") from None
        return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    raise LogFormatError(f"{where}: field '{field}' must be an ISO-8601 string or epoch ns, "
                         f"got {type(value).__name__}")


def read_jsonl(path: Path, required: dict[str, type | tuple[type, ...]]) -> Iterator[tuple[str, dict]]:
    """Yield ``(where, record)`` for each non-blank line, one line at a time; ``where`` is
    ``file:line``.

    ``required`` maps field names to the accepted types; ``ts`` is parsed into ``record["_ts"]``.
    """
    for where, _, _, rec in checked(path, required):
        yield where, rec


def checked(path: Path, required: dict[str, type | tuple[type, ...]]) -> Iterator[tuple[str, int, int, dict]]:
    """:func:`read_jsonl` with each line's number and byte offset: ``(where, line, offset, record)``
    (see :mod:`.event_log`)."""
    try:
        for n, offset, rec in json_lines_at(path):
            where = f"{path}:{n}"
            for name, types in required.items():
                if name not in rec:
                    raise LogFormatError(f"{where}: missing field '{name}'")
                if not isinstance(rec[name], types) or isinstance(rec[name], bool) and bool not in (
                        types if isinstance(types, tuple) else (types,)):
                    raise LogFormatError(f"{where}: field '{name}' has type "
                                         f"{type(rec[name]).__name__}, expected {_names(types)}")
            if "ts" in rec:
                rec["_ts"] = parse_ts(rec["ts"], where)
            yield where, n, offset, rec
    except BadLine as exc:
        raise LogFormatError(f"{path}:{exc.line}: {exc.problem}") from None


def _names(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(t.__name__ for t in types)


def rel_to(path: Path, root: Path) -> str:
    """``path`` relative to the target root when inside it (messages and evidence stay
    free of machine-specific prefixes)."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)
