"""Chunked, validating reader for DBN files of one non-MBO schema (trades, mbp-1, ohlcv-1m, ...).

The metadata header is decoded by ``databento_dbn`` (through :mod:`.dbn_reader`, which also
opens plain or zstd files); records are viewed in place with the record dtype of the file's
DBN version (``databento_dbn.v1``/``v2``/``v3``: definition and statistics records changed
layout between versions), captured once at import because databento mutates the shared
``_dtypes`` lists when it meets a ``ts_out`` file. Every record is validated by its
``length``/``rtype`` header; gateway records (heartbeats, errors, symbol mappings of a live
capture) between data records are returned as :class:`~.dbn_reader.ControlRecord`. Memory
stays flat: the file is read ``chunk_records`` records at a time.

Every problem with the bytes raises :class:`~.dbn_reader.DBNFileError` naming the file, the
byte offset and what to do.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

import databento_dbn
import numpy as np

from .dbn_reader import (_PASS_THROUGH, ControlRecord, DBNFileError, DbnMboReader,
                         OtherSchemaError, _decode_metadata, _open_stream)

# schema -> record class name in databento_dbn.v1/v2/v3
SCHEMA_CLASSES = {
    "trades": "TradeMsg", "tbbo": "TBBOMsg", "mbp-1": "MBP1Msg", "mbp-10": "MBP10Msg",
    "cmbp-1": "CMBP1Msg", "cbbo-1s": "CBBO1SMsg", "cbbo-1m": "CBBO1MMsg", "tcbbo": "TCBBOMsg",
    "bbo-1s": "BBO1SMsg", "bbo-1m": "BBO1MMsg", "ohlcv-1s": "OHLCVMsg", "ohlcv-1m": "OHLCVMsg",
    "ohlcv-1h": "OHLCVMsg", "ohlcv-1d": "OHLCVMsg", "ohlcv-eod": "OHLCVMsg",
    "definition": "InstrumentDefMsg", "statistics": "StatMsg", "status": "StatusMsg",
    "imbalance": "ImbalanceMsg",
}
DTYPES = {(version, schema): np.dtype(list(getattr(module, name)._dtypes))
          for version, module in ((1, databento_dbn.v1), (2, databento_dbn.v2), (3, databento_dbn.v3))
          for schema, name in SCHEMA_CLASSES.items()}
RTYPES = {schema: int(databento_dbn.RType.from_schema(databento_dbn.Schema(schema)).value)
          for schema in SCHEMA_CLASSES}
TRUNCATED_HINT = "download the file again (an interrupted download or copy leaves a partial record)"


@dataclass
class RecordRun:
    """Consecutive data records; ``first_index`` is the position of the first one among all
    records of the file (0-based, gateway records included)."""

    records: np.ndarray
    first_index: int


def record_dtype(version: int, schema: str, ts_out: bool = False) -> np.dtype:
    base = DTYPES[(min(max(version, 1), 3), schema)]
    return np.dtype(base.descr + [("ts_out", "u8")]) if ts_out else base


class SchemaReader:
    """Iterates a DBN file of one supported schema as :class:`RecordRun` and
    :class:`~.dbn_reader.ControlRecord` items; ``metadata``, ``schema``, ``dtype`` are set
    once iteration starts, ``bytes_read`` counts the (decompressed) bytes after the header."""

    def __init__(self, path: str | Path, chunk_records: int = 1 << 16):
        self.path = Path(path)
        self.chunk_records = max(int(chunk_records), 1)
        self.metadata: databento_dbn.Metadata | None = None
        self.schema = ""
        self.version = 0
        self.dtype: np.dtype | None = None
        self.bytes_read = 0

    def __iter__(self) -> Iterator[RecordRun | ControlRecord]:
        with _open_stream(self.path) as stream:
            meta, meta_bytes = _decode_metadata(self.path, stream)
            self.metadata = meta
            schema = meta.schema
            if schema is None:
                raise OtherSchemaError(self.path, "mixed record types (schema None, a live capture):"
                                                  " read it with the MBO reader")
            self.schema = str(getattr(schema, "value", schema))
            if self.schema not in SCHEMA_CLASSES:
                raise OtherSchemaError(self.path, f"schema is {self.schema}: not one of the "
                                                  "non-MBO schemas this reader supports")
            # the header byte, not meta.version: Metadata.decode upgrades to the newest version
            self.version = meta_bytes[3]
            self.dtype = record_dtype(self.version, self.schema, bool(meta.ts_out))
            yield from self._records(stream, meta_bytes)

    def _records(self, stream: BinaryIO, meta_bytes: bytes) -> Iterator[RecordRun | ControlRecord]:
        size, rtype_want = self.dtype.itemsize, RTYPES[self.schema]
        window = _Window(self, stream, len(meta_bytes))
        index = 0
        while window.fill(size * self.chunk_records):
            records = window.whole(self.dtype)
            ok = (records["length"] == size // 4) & (records["rtype"] == rtype_want)
            n_ok = len(ok) if ok.all() else int(np.argmin(ok))
            if n_ok:
                yield RecordRun(records[:n_ok], index)
                index += n_ok
                window.skip(n_ok * size)
                continue
            # not a whole data record here: a gateway message, a partial or a broken record
            length, rtype = window.header()
            where = f"at byte {window.offset} (record {index})"
            if length == 0:
                raise DBNFileError(self.path, f"corrupt record header {where}: length 0; the "
                                              f"file is damaged, {TRUNCATED_HINT}")
            if rtype == rtype_want and length != size:
                raise DBNFileError(self.path, f"corrupt {self.schema} record {where}: length "
                                              f"{length}, expected {size}; {TRUNCATED_HINT}")
            raw = window.take(length)
            if raw is None:
                raise DBNFileError(self.path, f"truncated: the last record {where} has "
                                              f"{window.left()} of {length} bytes; {TRUNCATED_HINT}")
            yield self._control(raw, rtype, index, meta_bytes, window.offset - length)
            index += 1

    def _control(self, raw: bytes, rtype: int, index: int, meta_bytes: bytes, at: int) -> ControlRecord:
        # gateway records are decoded exactly as in MBO files
        mbo_reader = DbnMboReader(self.path)
        mbo_reader.metadata = self.metadata
        return mbo_reader._control(raw, rtype, index, meta_bytes, at)


class _Window:
    """The unread bytes of the stream from file offset ``offset`` on, refilled in blocks."""

    def __init__(self, reader: SchemaReader, stream: BinaryIO, offset: int):
        self.reader, self.stream = reader, stream
        self.buf, self.pos, self.offset, self.eof = b"", 0, offset, False

    def left(self) -> int:
        return len(self.buf) - self.pos

    def _more(self, want: int) -> None:
        try:
            block = self.stream.read(want)
        except BaseException as exc:  # zstd errors are not always Exceptions we know
            if isinstance(exc, _PASS_THROUGH):
                raise
            raise DBNFileError(self.reader.path, f"cannot decompress/read at byte "
                                                 f"{self.offset + self.left()}: {exc}; "
                                                 f"{TRUNCATED_HINT}") from None
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
