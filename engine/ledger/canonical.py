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


def to_jsonable(value: Any) -> Any:
    """Convert ``value`` into JSON-able data with the rules in the module docstring."""
    return _Converter().convert(value)


class _Converter:
    """One conversion pass. It also notes whether the result is in the subset where
    ``json.dumps(sort_keys=True)`` already writes RFC 8785 bytes (see ``canonical_bytes``)."""

    __slots__ = ("stdlib_ok",)

    def __init__(self) -> None:
        self.stdlib_ok = True

    def convert(self, value: Any) -> Any:
        if value is None or value is True or value is False or type(value) is str:
            return value
        if type(value) is int:
            return value if -MAX_SAFE_INT <= value <= MAX_SAFE_INT else str(value)
        if type(value) is float:
            return self.number(value)
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if type(key) is not str:
                    key = str(self.convert(key))
                if not key.isascii() and any(ord(c) > 0xFFFF for c in key):
                    self.stdlib_ok = False  # JCS sorts by UTF-16 units; differs beyond the BMP
                try:
                    out[key] = self.convert(item)
                except PayloadError as exc:
                    raise PayloadError(f".{key}{exc}") from None
            return out
        if isinstance(value, (list, tuple)):
            out_list = []
            for i, item in enumerate(value):
                try:
                    out_list.append(self.convert(item))
                except PayloadError as exc:
                    raise PayloadError(f"[{i}]{exc}") from None
            return out_list
        return self.other(value)

    def number(self, value: float) -> Any:
        if math.isnan(value) or math.isinf(value):
            return repr(value)  # "nan", "inf", "-inf": JSON has no number for them
        magnitude = abs(value)
        if value.is_integer() and magnitude <= MAX_SAFE_INT:
            return int(value)  # JCS writes 120.0 as 120; an int serialises identically
        if value.is_integer() or not 1e-4 <= magnitude < 1e16:
            self.stdlib_ok = False  # repr() and ECMAScript choose exponent form differently here
        return value

    def other(self, value: Any) -> Any:
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, enum.Enum):
            return self.convert(value.value)
        if isinstance(value, int):
            return self.convert(int(value))
        if isinstance(value, float):
            return self.number(float(value))
        if isinstance(value, str):
            return str(value)
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise PayloadError(f": naive datetime {value!r}; give it a time zone (UTC)")
            return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, PurePath):
            return value.as_posix()
        if isinstance(value, (bytes, bytearray, memoryview)):
            raise PayloadError(": raw bytes are not allowed in a payload; store a digest")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self.convert({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
        if isinstance(value, (set, frozenset)):
            items = [self.convert(item) for item in value]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        if hasattr(value, "item") and callable(value.item):  # numpy scalars
            return self.convert(value.item())
        raise PayloadError(f": {type(value).__name__} has no JSON form in a ledger payload")


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 bytes of ``value`` after :func:`to_jsonable`.

    For the usual payload (keys inside the Basic Multilingual Plane, floats whose shortest form
    has no exponent) the C-accelerated ``json.dumps`` with sorted keys writes exactly the JCS
    bytes, several times faster than the pure-Python ``rfc8785`` package, which handles the
    rest; a property test checks the two agree.
    """
    converter = _Converter()
    try:
        data = converter.convert(value)
    except PayloadError as exc:
        raise PayloadError(f"payload field ${exc}") from None
    if converter.stdlib_ok:
        try:
            return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 report it
    try:
        return rfc8785.dumps(data)
    except rfc8785.CanonicalizationError as exc:  # e.g. lone surrogates in a string
        raise PayloadError(f"payload cannot be canonicalised: {exc}") from exc


def jcs_reference(value: Any) -> bytes:
    """Canonical bytes through the ``rfc8785`` package only (the reference implementation)."""
    return rfc8785.dumps(to_jsonable(value))


def _ijson_int(text: str) -> int | float:
    # JCS models every number as a double: an integer-looking number beyond 2**53 (how JCS
    # writes a large float) reads back as that double.
    value = int(text)
    return value if abs(value) <= MAX_SAFE_INT else float(text)


def parse(data: bytes | str) -> Any:
    """Parse canonical JSON with JCS number semantics (see ``_ijson_int``)."""
    return json.loads(data, parse_int=_ijson_int)


def is_canonical(data: bytes) -> bool:
    """True when ``data`` is JSON already in canonical form (parsing then re-serialising
    gives the same bytes)."""
    try:
        return rfc8785.dumps(parse(data)) == data
    except (ValueError, rfc8785.CanonicalizationError):
        return False
