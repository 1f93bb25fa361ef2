"""Check params that a check never read.

A plan param the check silently ignores is worse than a typo: the plan says
``instruments: [ESZ6]`` and the verdict is about every instrument. The JSON Schema of a check
rejects unknown names at validation time; this module catches the rest at run time. The
runner hands each check its params as :class:`ReadTracker`; a check that returns a verdict
(pass, fail, partial) without reading every param it was given gets ``error`` naming the
ignored params, because its verdict may not be about what the plan asked for. A check that
stops early (missing data, skipped) may leave params unread: nothing was judged with them.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class ReadTracker(Mapping):
    """A read-only mapping that remembers which keys were read. Iterating or listing items
    counts as reading all of them (the check passed the whole mapping on)."""

    def __init__(self, data: Mapping[str, Any]):
        self._data = dict(data)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self._data.get(key, default)

    def __iter__(self) -> Iterator[str]:
        self.read.update(self._data)
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"ReadTracker({self._data!r})"

    def __reduce__(self):  # a copy sent to another process keeps what was read so far
        return (_rebuild, (self._data, sorted(self.read)))

    def unread(self) -> list[str]:
        return sorted(set(self._data) - self.read)


def _rebuild(data: dict, read: list[str]) -> ReadTracker:
    out = ReadTracker(data)
    out.read.update(read)
    return out


def unread_params(params: Mapping[str, Any]) -> list[str]:
    """Params of ``params`` never read (empty for a plain mapping: nothing was tracked)."""
    return params.unread() if isinstance(params, ReadTracker) else []


def mark_read(params: Mapping[str, Any], keys) -> None:
    """Copy what a check read in another process (a Dask worker) back to the local tracker."""
    if isinstance(params, ReadTracker):
        params.read.update(keys)
