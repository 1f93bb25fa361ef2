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
from contextlib import contextmanager
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


TRUNCATED_HINT = "download the file again (an interrupted download or copy leaves a partial record)"


@contextmanager
def _file_error(path: Path, what: str, hint: str = ""):
    """Any failure inside becomes a :class:`DBNFileError` ``what: <error>`` (zstd errors and
    pyo3 panics are not always an ``Exception``; interrupts pass through)."""
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, _PASS_THROUGH + (DBNFileError,)):
            raise
        raise DBNFileError(path, f"{what}: {type(exc).__name__}: {exc}"[:300] + hint) from None


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
    with _file_error(path, "cannot read the file"):
        head = _read_exact(stream, 8)
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
    with _file_error(path, "corrupt metadata header"):
        meta = databento_dbn.Metadata.decode(head + body)
    return meta, head + body


def read_metadata(path: str | Path) -> databento_dbn.Metadata:
    path = Path(path)
    with _open_stream(path) as stream:
        return _decode_metadata(path, stream)[0]


class DbnReader:
    """What the DBN readers share: the file, records per block, its metadata (once iteration
    starts) and the (decompressed) bytes read after the header."""

    def __init__(self, path: str | Path, chunk_records: int = 1 << 16):
        self.path = Path(path)
        self.chunk_records = max(int(chunk_records), 1)
        self.metadata: databento_dbn.Metadata | None = None
        self.bytes_read = 0

    @contextmanager
    def _opened(self) -> Iterator[tuple[BinaryIO, bytes]]:
        """The stream after the header, and the header's bytes (``metadata`` is set)."""
        with _open_stream(self.path) as stream:
            self.metadata, meta_bytes = _decode_metadata(self.path, stream)
            yield stream, meta_bytes


class DbnMboReader(DbnReader):
    """Iterates a DBN file as :class:`MboRun` and :class:`ControlRecord` items.

    >>> reader = DbnMboReader("data/glbx-mbo-2026-11-02.dbn.zst")
    >>> for item in reader:  # doctest: +SKIP
    ...     if isinstance(item, MboRun): ...
    """

    def __iter__(self) -> Iterator[MboRun | ControlRecord]:
        with self._opened() as (stream, meta_bytes):
            meta = self.metadata
            if meta.schema is not None and meta.schema != databento_dbn.Schema.MBO:
                raise OtherSchemaError(self.path, f"schema is {getattr(meta.schema, 'value', meta.schema)}, "
                                                  "not MBO")
            dtype = MBO_TS_OUT_DTYPE if meta.ts_out else MBO_DTYPE
            yield from read_records(self, stream, meta_bytes, dtype, RTYPE_MBO, "MBO", MboRun)


def read_records(reader, stream: BinaryIO, meta_bytes: bytes, dtype: np.dtype, rtype_want: int,
                 name: str, make_run) -> Iterator:
    """The records after the header: runs of whole data records (``make_run(records,
    first_index)``, viewed in place, each validated by its ``length``/``rtype`` header) and,
    between them, the other records as :class:`ControlRecord`. ``reader`` gives ``path``,
    ``chunk_records``, ``metadata`` and counts ``bytes_read``. Raises :class:`DBNFileError`
    naming the byte and record on a broken, partial or wrongly sized record."""
    size = dtype.itemsize
    window = ByteWindow(reader, stream, len(meta_bytes))
    index = 0
    while window.fill(size * reader.chunk_records):
        records = window.whole(dtype)
        ok = (records["length"] == size // 4) & (records["rtype"] == rtype_want)
        n_ok = len(ok) if ok.all() else int(np.argmin(ok))
        if n_ok:
            yield make_run(records[:n_ok], index)
            index += n_ok
            window.skip(n_ok * size)
            continue
        # not a whole data record here: a gateway message, a partial or a broken record
        length, rtype = window.header()
        where = f"at byte {window.offset} (record {index})"
        if length == 0:
            raise DBNFileError(reader.path, f"corrupt record header {where}: length 0; the "
                                            f"file is damaged, {TRUNCATED_HINT}")
        if rtype == rtype_want and length != size:
            raise DBNFileError(reader.path, f"corrupt {name} record {where}: length {length}, "
                                            f"expected {size}; {TRUNCATED_HINT}")
        raw = window.take(length)
        if raw is None:
            raise DBNFileError(reader.path, f"truncated: the last record {where} has "
                                            f"{window.left()} of {length} bytes; {TRUNCATED_HINT}")
        yield control_record(reader.path, reader.metadata, raw, rtype, index, meta_bytes,
                             window.offset - length)
        index += 1


def control_record(path: Path, metadata, raw: bytes, rtype: int, index: int, meta_bytes: bytes,
                   at: int) -> ControlRecord:
    """A non-data record: status fields read directly; gateway heartbeats and errors decoded
    with ``databento_dbn`` (checked for size first: the decoder panics on a short record)."""
    ts_event = struct.unpack_from("<Q", raw, 8)[0] if len(raw) >= 16 else 0
    if rtype == RTYPE_STATUS and len(raw) >= _STATUS_LAYOUT.size:
        _, inst, _, ts_recv, action, trading = _STATUS_LAYOUT.unpack_from(raw)
        return ControlRecord(index, rtype, ts_event, instrument_id=inst, ts_recv=ts_recv,
                             action=action, is_trading=trading.decode("latin-1"))
    if rtype not in (RTYPE_SYSTEM, RTYPE_ERROR):
        return ControlRecord(index, rtype, ts_event)
    expected = 80 if metadata.version == 1 else 320
    where = f"corrupt gateway record at byte {at} (record {index})"
    if len(raw) != expected:
        raise DBNFileError(path, f"{where}: {len(raw)} bytes, expected {expected}")
    decoder = databento_dbn.DBNDecoder()
    with _file_error(path, where):
        decoder.write(meta_bytes + raw)
        rec = [r for r in decoder.decode() if not isinstance(r, databento_dbn.Metadata)][0]
        code = getattr(rec, "code", None)
        text = getattr(rec, "msg", None) or getattr(rec, "err", "") or ""
    return ControlRecord(index, rtype, ts_event, getattr(code, "name", str(code or "")), text)


class ByteWindow:
    """The unread bytes of a stream from file offset ``offset`` on, refilled in blocks (a
    whole-record block leaves nothing behind, so the common case copies nothing)."""

    def __init__(self, reader, stream: BinaryIO, offset: int):
        self.reader, self.stream = reader, stream
        self.buf, self.pos, self.offset, self.eof = b"", 0, offset, False

    def left(self) -> int:
        return len(self.buf) - self.pos

    def _more(self, want: int) -> None:
        with _file_error(self.reader.path, f"cannot decompress/read at byte "
                                           f"{self.offset + self.left()}", f"; {TRUNCATED_HINT}"):
            block = self.stream.read(want)
        self.reader.bytes_read += len(block)
        self.eof = not block
        self.buf = self.buf[self.pos:] + block if self.left() else block
        self.pos = 0

    def fill(self, want: int) -> bool:
        """At least ``want`` bytes buffered when the stream has them; False when none is left."""
        while not self.eof and self.left() < want:
            self._more(want)
        return self.left() > 0

    def whole(self, dtype: np.dtype) -> np.ndarray:
        return np.frombuffer(self.buf, dtype=dtype, count=self.left() // dtype.itemsize,
                             offset=self.pos)

    def header(self) -> tuple[int, int]:
        """(length in bytes, rtype) of the record at the current position."""
        return self.buf[self.pos] * 4, (self.buf[self.pos + 1] if self.left() > 1 else -1)

    def skip(self, n: int) -> None:
        self.pos += n
        self.offset += n

    def take(self, n: int) -> bytes | None:
        """The next ``n`` bytes (None if the stream ends first)."""
        self.fill(n)
        if self.left() < n:
            return None
        raw = self.buf[self.pos:self.pos + n]
        self.skip(n)
        return raw


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
