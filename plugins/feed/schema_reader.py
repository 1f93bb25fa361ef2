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
from typing import Iterator

import databento_dbn
import numpy as np

from .dbn_reader import ControlRecord, DbnReader, OtherSchemaError, read_records

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


@dataclass
class RecordRun:
    """Consecutive data records; ``first_index`` is the position of the first one among all
    records of the file (0-based, gateway records included)."""

    records: np.ndarray
    first_index: int


def record_dtype(version: int, schema: str, ts_out: bool = False) -> np.dtype:
    base = DTYPES[(min(max(version, 1), 3), schema)]
    return np.dtype(base.descr + [("ts_out", "u8")]) if ts_out else base


class SchemaReader(DbnReader):
    """Iterates a DBN file of one supported schema as :class:`RecordRun` and
    :class:`~.dbn_reader.ControlRecord` items; ``metadata``, ``schema``, ``dtype`` are set
    once iteration starts, ``bytes_read`` counts the (decompressed) bytes after the header."""

    def __init__(self, path: str | Path, chunk_records: int = 1 << 16):
        super().__init__(path, chunk_records)
        self.schema = ""
        self.version = 0
        self.dtype: np.dtype | None = None

    def __iter__(self) -> Iterator[RecordRun | ControlRecord]:
        with self._opened() as (stream, meta_bytes):
            schema = self.metadata.schema
            if schema is None:
                raise OtherSchemaError(self.path, "mixed record types (schema None, a live capture):"
                                                  " read it with the MBO reader")
            self.schema = str(getattr(schema, "value", schema))
            if self.schema not in SCHEMA_CLASSES:
                raise OtherSchemaError(self.path, f"schema is {self.schema}: not one of the "
                                                  "non-MBO schemas this reader supports")
            # the header byte, not meta.version: Metadata.decode upgrades to the newest version
            self.version = meta_bytes[3]
            self.dtype = record_dtype(self.version, self.schema, bool(self.metadata.ts_out))
            yield from read_records(self, stream, meta_bytes, self.dtype, RTYPES[self.schema],
                                    self.schema, RecordRun)
