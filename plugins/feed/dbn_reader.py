"""Chunked, validating reader for Databento DBN files (plain or zstd), MBO schema.

The metadata header is decoded by ``databento_dbn``; MBO records are viewed in place with the
MBO dtype taken once at import (databento 0.88 mutates the shared ``MBOMsg._dtypes`` when
``to_ndarray(schema=...)`` meets a ``ts_out`` file, so a later copy could be wrong). Records
are validated one by one by their ``length``/``rtype`` header, so files recorded from a live
session, where heartbeats (``SystemMsg``) and gateway errors (``ErrorMsg``) sit between MBO
records, read correctly; those rare records are decoded with ``databento_dbn.DBNDecoder``.
Memory stays flat: the file is read in blocks of ``chunk_records`` records.

Every problem with the bytes raises :class:`DBNFileError` naming the file and the byte offset.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

import databento_dbn
import numpy as np

MBO_DTYPE = np.dtype(list(databento_dbn.MBOMsg._dtypes))
MBO_TS_OUT_DTYPE = np.dtype(list(databento_dbn.MBOMsg._dtypes) + [("ts_out", "u8")])
RTYPE_MBO = 160
RTYPE_ERROR = int(databento_dbn.RType.ERROR.value)
RTYPE_SYSTEM = int(databento_dbn.RType.SYSTEM.value)
RTYPE_STATUS = int(databento_dbn.RType.STATUS.value)
_STATUS_LAYOUT = struct.Struct("<2xHIQQH4xc")  # StatusMsg: publisher .. ts_recv, action, is_trading
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


class DBNFileError(Exception):
    """A DBN file that cannot be read: corrupt, truncated, empty or not DBN."""

    def __init__(self, path: Path | str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = str(path), problem


class OtherSchemaError(DBNFileError):
    """A readable DBN file of another schema (trades, mbp-1, ...): not MBO data, not corrupt."""


@dataclass
class MboRun:
    """Consecutive MBO records; ``first_index`` is the position of the first one among all
    records of the file (0-based, heartbeats and errors included)."""

    records: np.ndarray
    first_index: int
    # file positions of the records when they are not consecutive (an instrument selection)
    index: np.ndarray | None = None

    def at(self, where):
        """File positions of the records at run positions ``where`` (an int or an array)."""
        return self.index[where] if self.index is not None else self.first_index + where

    def part(self, a: int, b: int) -> "MboRun":
        """Records ``a:b`` of the run."""
        if self.index is not None:
            return MboRun(self.records[a:b], int(self.index[a]) if b > a else self.first_index,
                          self.index[a:b])
        return MboRun(self.records[a:b], self.first_index + a)

    def select(self, keep: np.ndarray) -> "MboRun":
        """The records where ``keep`` is true, with their file positions."""
        where = np.flatnonzero(keep)
        return MboRun(self.records[where], self.first_index, self.at(where))


@dataclass
class ControlRecord:
    """A non-MBO record in the stream: a gateway ``SystemMsg`` or ``ErrorMsg``, a ``StatusMsg``
    (``instrument_id``, ``ts_recv``, ``action``, ``is_trading`` set) or another record type,
    kept by its ``rtype``."""

    index: int
    rtype: int
    ts_event: int
    code: str = ""
    text: str = ""
    instrument_id: int = 0
    ts_recv: int = 0
    action: int = 0
    is_trading: str = "~"


def _open_stream(path: Path) -> BinaryIO:
    raw = path.open("rb")
    magic = raw.read(4)
    raw.seek(0)
    if magic == ZSTD_MAGIC:
        import zstandard

        # 1 MiB compressed reads: the default (128 KiB) costs ~40 % more time per byte here
        return zstandard.ZstdDecompressor().stream_reader(raw, read_size=1 << 20, closefd=True)
    return raw


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        block = stream.read(n - got)
        if not block:
            break
        parts.append(block)
        got += len(block)
    return b"".join(parts)


def _decode_metadata(path: Path, stream: BinaryIO) -> tuple[databento_dbn.Metadata, bytes]:
    try:
        head = _read_exact(stream, 8)
    except BaseException as exc:  # zstd errors are not always Exceptions we know
        if isinstance(exc, _PASS_THROUGH):
            raise
        raise DBNFileError(path, f"cannot read the file: {exc}") from None
    if len(head) == 0:
        raise DBNFileError(path, "empty file (no DBN metadata header)")
    if len(head) < 8 or head[:3] != b"DBN":
        raise DBNFileError(path, "not a DBN file (missing 'DBN' signature at byte 0)")
    version, length = head[3], struct.unpack("<I", head[4:8])[0]
    if not 1 <= version <= databento_dbn.DBN_VERSION:
        raise DBNFileError(path, f"unsupported DBN version {version}")
    body = _read_exact(stream, length)
    if len(body) < length:
        raise DBNFileError(path, f"truncated metadata header ({len(body)} of {length} bytes)")
    try:
        meta = databento_dbn.Metadata.decode(head + body)
    except BaseException as exc:  # pyo3 PanicException derives from BaseException
        if isinstance(exc, _PASS_THROUGH):
            raise
        raise DBNFileError(path, f"corrupt metadata header: {type(exc).__name__}: {exc}") from None
    return meta, head + body


def read_metadata(path: str | Path) -> databento_dbn.Metadata:
    path = Path(path)
    with _open_stream(path) as stream:
        return _decode_metadata(path, stream)[0]


class DbnMboReader:
    """Iterates a DBN file as :class:`MboRun` and :class:`ControlRecord` items.

    >>> reader = DbnMboReader("data/glbx-mbo-2026-11-02.dbn.zst")
    >>> for item in reader:  # doctest: +SKIP
    ...     if isinstance(item, MboRun): ...
    """

    def __init__(self, path: str | Path, chunk_records: int = 1 << 16):
        self.path = Path(path)
        self.chunk_records = chunk_records
        self.metadata: databento_dbn.Metadata | None = None
        self.bytes_read = 0

    def __iter__(self) -> Iterator[MboRun | ControlRecord]:
        with _open_stream(self.path) as stream:
            meta, meta_bytes = _decode_metadata(self.path, stream)
            self.metadata = meta
            schema = meta.schema
            if schema is not None and schema != databento_dbn.Schema.MBO:
                raise OtherSchemaError(self.path, f"schema is {getattr(schema, 'value', schema)}, "
                                                  "not MBO")
            dtype = MBO_TS_OUT_DTYPE if meta.ts_out else MBO_DTYPE
            yield from self._records(stream, dtype, meta_bytes, len(meta_bytes))

    def _records(self, stream: BinaryIO, dtype: np.dtype, meta_bytes: bytes,
                 offset: int) -> Iterator[MboRun | ControlRecord]:
        size, words = dtype.itemsize, dtype.itemsize // 4
        buf, pos, index, eof = b"", 0, 0, False
        while True:
            if not eof and len(buf) - pos < size * self.chunk_records:
                try:
                    block = stream.read(size * self.chunk_records)
                except BaseException as exc:
                    if isinstance(exc, _PASS_THROUGH):
                        raise
                    raise DBNFileError(self.path, f"cannot decompress/read at byte "
                                                  f"{offset + self.bytes_read}: {exc}") from None
                eof = not block
                # whole-record chunks leave nothing behind: skip the copy in the common case
                buf = block if pos >= len(buf) else buf[pos:] + block
                self.bytes_read += len(block)
                offset += pos
                pos = 0
            if pos >= len(buf):
                if eof:
                    return
                continue
            n_full = (len(buf) - pos) // size
            view = np.frombuffer(buf, dtype=dtype, count=n_full, offset=pos)
            good = (view["length"] == words) & (view["rtype"] == RTYPE_MBO)
            n_good = n_full if good.all() else int(np.argmin(good))
            if n_good:
                yield MboRun(view[:n_good], index)
                index += n_good
                pos += n_good * size
                continue
            # an odd record (or a partial one) at `pos`
            length = buf[pos] * 4
            if length == 0:
                raise DBNFileError(self.path, f"corrupt record header at byte {offset + pos} "
                                              f"(record {index}): length 0")
            if len(buf) - pos < length:
                if eof:
                    raise DBNFileError(self.path, f"truncated: the last record at byte "
                                                  f"{offset + pos} (record {index}) has "
                                                  f"{len(buf) - pos} of {length} bytes")
                offset += pos
                buf, pos = buf[pos:], 0  # read more first
                continue
            rtype = buf[pos + 1]
            if rtype == RTYPE_MBO:
                raise DBNFileError(self.path, f"corrupt MBO record at byte {offset + pos} "
                                              f"(record {index}): length {length}, expected {size}")
            yield self._control(buf[pos:pos + length], rtype, index, meta_bytes, offset + pos)
            index += 1
            pos += length

    def _control(self, raw: bytes, rtype: int, index: int, meta_bytes: bytes,
                 at: int) -> ControlRecord:
        ts_event = struct.unpack_from("<Q", raw, 8)[0] if len(raw) >= 16 else 0
        if rtype == RTYPE_STATUS and len(raw) >= _STATUS_LAYOUT.size:
            _, inst, _, ts_recv, action, trading = _STATUS_LAYOUT.unpack_from(raw)
            return ControlRecord(index, rtype, ts_event, instrument_id=inst, ts_recv=ts_recv,
                                 action=action, is_trading=trading.decode("latin-1"))
        if rtype not in (RTYPE_SYSTEM, RTYPE_ERROR):
            return ControlRecord(index, rtype, ts_event)
        expected = 80 if self.metadata.version == 1 else 320
        if len(raw) != expected:  # checked first: the decoder panics on a short record
            raise DBNFileError(self.path, f"corrupt gateway record at byte {at} (record {index}): "
                                          f"{len(raw)} bytes, expected {expected}")
        decoder = databento_dbn.DBNDecoder()
        try:
            decoder.write(meta_bytes + raw)
            rec = [r for r in decoder.decode() if not isinstance(r, databento_dbn.Metadata)][0]
            code = getattr(rec, "code", None)
            text = getattr(rec, "msg", None) or getattr(rec, "err", "") or ""
        except BaseException as exc:  # DBNError on bad text; pyo3 PanicException is no Exception
            if isinstance(exc, _PASS_THROUGH):
                raise
            raise DBNFileError(self.path, f"corrupt gateway record at byte {at} (record {index}):"
                                          f" {type(exc).__name__}: {exc}"[:300]) from None
        return ControlRecord(index, rtype, ts_event, getattr(code, "name", str(code or "")), text)


def symbols_by_instrument(meta) -> dict[str, str]:
    """Instrument id -> raw symbol from the metadata's symbology (when it maps to ids)."""
    out: dict[str, str] = {}
    try:
        for raw, intervals in (meta.mappings or {}).items():
            for iv in intervals:
                out.setdefault(str(iv["symbol"]), raw)
    except (AttributeError, KeyError, TypeError):  # other stype_out layouts: ids only
        return {}
    return out
