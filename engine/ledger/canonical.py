"""Canonical JSON for ledger payloads: RFC 8785 (JCS) through the ``rfc8785`` package.

A payload is hashed and signed as bytes, so it must have exactly one serialisation. Before
canonicalising, :func:`to_jsonable` turns golive's Python values into plain JSON values:

* ``Decimal`` (money, prices, quantities) becomes a decimal *string*, never a float, so no
  precision is lost; integers outside the I-JSON range (|n| > 2**53 - 1) become strings too.
* floats stay JSON numbers: JCS writes the shortest representation that reads back to the
  same double, which is lossless; NaN and infinities (which JSON cannot hold) become strings.
* enums become their value, datetimes ISO 8601 in UTC, paths and bytes-like digests strings,
  dataclasses dicts, tuples and sets lists (sets sorted, so their order is stable).
"""
from __future__ import annotations

import dataclasses
import enum
import json
import math
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import rfc8785

MAX_SAFE_INT = 2**53 - 1


class PayloadError(ValueError):
    """A payload holds a value that has no faithful JSON form."""


def to_jsonable(value: Any, _where: str = "$") -> Any:
    """Convert ``value`` into JSON-able data with the rules in the module docstring."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, _where)
    if isinstance(value, int):
        return value if abs(value) <= MAX_SAFE_INT else str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)  # "nan", "inf", "-inf": JSON has no number for them
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PayloadError(f"{_where}: naive datetime {value!r}; give it a time zone (UTC)")
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise PayloadError(f"{_where}: raw bytes are not allowed in a payload; store a digest")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name), f"{_where}.{f.name}")
                for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                key = str(to_jsonable(key, _where))
            out[key] = to_jsonable(item, f"{_where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item, f"{_where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(item, _where) for item in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    raise PayloadError(f"{_where}: {type(value).__name__} has no JSON form in a ledger payload")


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value`` after :func:`to_jsonable`."""
    try:
        return rfc8785.dumps(to_jsonable(value))
    except rfc8785.CanonicalizationError as exc:  # e.g. lone surrogates in a string
        raise PayloadError(f"payload cannot be canonicalised: {exc}") from exc


def is_canonical(data: bytes) -> bool:
    """True when ``data`` is JSON already in canonical form (parsing then re-serialising
    gives the same bytes). Used by verify on entries it parses anyway."""
    try:
        return rfc8785.dumps(json.loads(data)) == data
    except (ValueError, rfc8785.CanonicalizationError):
        return False
