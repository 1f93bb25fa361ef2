"""Reading the target's JSON-lines logs with errors that name the file, the line and the field.

Timestamps may be ISO-8601 strings (a missing offset means UTC) or integer nanoseconds since
the epoch; both become UTC ``datetime``. Field contracts: ``docs/feed-artifacts.md``.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator


class LogFormatError(Exception):
    """A log line that does not match its documented contract."""


def parse_ts(value: Any, where: str, field: str = "ts") -> datetime:
    if isinstance(value, bool):
        raise LogFormatError(f"{where}: field '{field}' must be a timestamp, got {value!r}")
    if isinstance(value, int):
        return datetime.fromtimestamp(value / 1e9, tz=timezone.utc)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise LogFormatError(f"{where}: field '{field}' is not an ISO-8601 time: {value!r}") from None
        return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    raise LogFormatError(f"{where}: field '{field}' must be an ISO-8601 string or epoch ns, "
                         f"got {type(value).__name__}")


def read_jsonl(path: Path, required: dict[str, type | tuple[type, ...]]) -> Iterator[tuple[str, dict]]:
    """Yield ``(where, record)`` for each non-blank line; ``where`` is ``file:line``.

    ``required`` maps field names to the accepted types; ``ts`` is parsed into ``record["_ts"]``.
    """
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LogFormatError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise LogFormatError(f"{where}: each line must be a JSON object")
            for name, types in required.items():
                if name not in rec:
                    raise LogFormatError(f"{where}: missing field '{name}'")
                if not isinstance(rec[name], types) or isinstance(rec[name], bool) and bool not in (
                        types if isinstance(types, tuple) else (types,)):
                    raise LogFormatError(f"{where}: field '{name}' has type "
                                         f"{type(rec[name]).__name__}, expected {_names(types)}")
            if "ts" in rec:
                rec["_ts"] = parse_ts(rec["ts"], where)
            yield where, rec


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
