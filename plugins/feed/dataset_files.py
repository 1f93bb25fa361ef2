"""The DBN files of a target as one dataset: the same data stored twice is counted once, and
files whose data overlap are reported.

Each file is identified by its metadata header (:func:`.dbn_reader.read_metadata`, no record
is read): ``(dataset, schema, symbols, stype_in, start, end)``. A live capture has no request
range (start 0, no end): its identity takes the first and last ``ts_recv`` of its records
instead (and its record count), once the file has been checked.

* **Identical coverage** — two files with the same identity *and* the same record bytes (a
  BLAKE2b digest of the decompressed bytes after the metadata header, so ``day.dbn`` and
  ``day.dbn.zst`` of one download match, and a re-download whose records differ does not). The
  digest is computed only for files whose identities collide, before any file is checked, so
  the copy is never decoded twice. The first file in path order is counted; a finding names
  both. Same identity with different records is an overlap (below), not a copy.
* **Overlapping coverage** — files of one dataset and schema (a live capture, schema none,
  matches any) whose records' ``ts_recv`` ranges intersect and whose instruments intersect
  (the instruments seen in the records; without them, the metadata's symbols). Both files stay
  counted: cutting the overlap out of one would mean re-checking it from the middle of its
  book, and the records there may differ. So the figures the overlap makes meaningless are
  not judged (:data:`OVERLAP_NOT_JUDGED`: duplicates between the files are never compared, a
  sequence gap of one file may be filled by the other, the files have no order), and the
  finding says that record counts include the overlap twice. A defect found in either file is
  a defect of the stored data, so the other defect counts stay judged. The fix is a file
  selection (``files``) without the overlap.
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .dbn_reader import _open_stream, read_metadata

UNDEF_TIMESTAMP = 2**64 - 1
ALL_SYMBOLS = "ALL_SYMBOLS"
OVERLAP_NOT_JUDGED = ("duplicates", "duplicates_adjacent", "duplicates_exact", "sequence_gaps",
                      "missing_sequences", "late_records", "cross_file_sequence_gaps",
                      "cross_file_missing_sequences")
_DIGEST_BLOCK = 1 << 20
_CACHE: dict[tuple, object] = {}  # (kind, path, size, mtime) -> Coverage or digest
_CACHE_SIZE = 1024


@dataclass(frozen=True)
class Coverage:
    """What a file holds, from its metadata. ``schema`` is '' for a file of mixed record types
    (a live capture); ``start``/``end`` (ns, end exclusive) are None until known from records."""

    file: str
    dataset: str
    schema: str
    symbols: tuple[str, ...]
    stype_in: str
    start: int | None
    end: int | None
    mapped_ids: frozenset[str] = frozenset()  # instrument ids of the metadata's symbology

    @property
    def from_records(self) -> bool:
        return self.start is None or self.end is None

    def identity(self) -> tuple:
        return (self.dataset, self.schema, self.symbols, self.stype_in, self.start, self.end)

    def describe(self) -> dict:
        return {"dataset": self.dataset, "schema": self.schema or "mixed (live capture)",
                "symbols": list(self.symbols), "stype_in": self.stype_in,
                "start": _iso(self.start), "end": _iso(self.end)}


def _cached(kind: str, path: Path, compute):
    st = path.stat()
    key = (kind, str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = compute(path)
    return _CACHE[key]


def identify(path: str | Path) -> Coverage:
    """The file's coverage from its metadata header; raises ``DBNFileError`` on bad bytes."""
    return _cached("coverage", Path(path), _identify)


def _identify(path: Path) -> Coverage:
    meta = read_metadata(path)
    start = meta.start or None  # a live capture writes 0
    end = meta.end if meta.end not in (None, UNDEF_TIMESTAMP) else None
    if start is None or end is None:
        start = end = None
    ids = set()
    try:
        for intervals in (meta.mappings or {}).values():
            ids.update(str(iv["symbol"]) for iv in intervals)
    except (AttributeError, KeyError, TypeError):
        ids = set()
    return Coverage(str(path), meta.dataset or "", _value(meta.schema), tuple(sorted(meta.symbols or [])),
                    _value(meta.stype_in), start, end, frozenset(ids))


def content_digest(path: str | Path) -> str:
    """BLAKE2b of the decompressed record bytes (everything after the metadata header)."""
    return _cached("digest", Path(path), _digest)


def _digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with _open_stream(path) as stream:
        head = stream.read(8)
        skip = struct.unpack("<I", head[4:8])[0] if len(head) == 8 else 0
        while skip > 0:  # zstd streams cannot seek: read past the metadata
            got = stream.read(min(skip, _DIGEST_BLOCK))
            if not got:
                break
            skip -= len(got)
        while block := stream.read(_DIGEST_BLOCK):
            h.update(block)
    return h.hexdigest()


def drop_copies(coverages: dict[str, Coverage]) -> tuple[list[str], list[dict]]:
    """Files to check (one of each set of identical copies) and a finding per copy left out.
    Only files with a request range in their metadata are compared here; live captures are
    compared after checking (:func:`distinct_results`)."""
    groups: dict[tuple, list[str]] = {}
    for path, cov in coverages.items():
        key = cov.identity() if cov is not None and not cov.from_records else ("file", path)
        groups.setdefault(key, []).append(path)
    dropped: dict[str, dict] = {}
    for paths in groups.values():
        for kept, copies in _same_bytes(paths):
            for copy in copies:
                dropped[copy] = _copy_finding(kept, copy, coverages[kept])
    return [p for p in coverages if p not in dropped], list(dropped.values())


def _same_bytes(paths: list[str]) -> list[tuple[str, list[str]]]:
    if len(paths) < 2:
        return []
    by_digest: dict[str, list[str]] = {}
    for p in sorted(paths):
        by_digest.setdefault(content_digest(p), []).append(p)
    return [(same[0], same[1:]) for same in by_digest.values() if len(same) > 1]


def _copy_finding(kept: str, copy: str, cov: Coverage) -> dict:
    return {"kind": "same_coverage", "files": [kept, copy], "counted": kept,
            "coverage": cov.describe(),
            "message": f"{Path(copy).name} holds the same records as {Path(kept).name} "
                       f"(same metadata, same record bytes): counted once, as {Path(kept).name}"}


def distinct_results(results: list[dict], coverages: dict[str, Coverage]) -> tuple[list[dict], list[dict]]:
    """Per-file results without live-capture copies, and the findings: copies left out and
    overlapping files. Results of overlapping files are returned as copies carrying
    ``overlaps`` (the other files), so memoised results are never changed."""
    findings: list[dict] = []
    seen: dict[tuple, dict] = {}
    out = []
    for r in results:
        cov = coverages.get(r["file"])
        if cov is not None and cov.from_records and r.get("first_ts_recv") is not None and "error" not in r:
            key = (cov.dataset, cov.schema, cov.symbols, r["first_ts_recv"], r["last_ts_recv"],
                   r["metrics"].get("records"))
            twin = seen.get(key)
            if twin is not None and content_digest(twin["file"]) == content_digest(r["file"]):
                findings.append(_copy_finding(twin["file"], r["file"], cov))
                continue
            seen[key] = r
        out.append(r)
    overlaps = find_overlaps(out, coverages)
    findings += overlaps
    partners: dict[str, list[str]] = {}
    for f in overlaps:
        a, b = f["files"]
        partners.setdefault(a, []).append(b)
        partners.setdefault(b, []).append(a)
    return [dict(r, overlaps=partners[r["file"]]) if r["file"] in partners else r for r in out], findings


def find_overlaps(results: list[dict], coverages: dict[str, Coverage]) -> list[dict]:
    """Pairs of files whose records intersect in time and instruments (see the module doc)."""
    spans = []
    for r in results:
        cov = coverages.get(r["file"])
        if cov is None or "error" in r or r.get("first_ts_recv") is None:
            continue
        spans.append((r["first_ts_recv"], r["last_ts_recv"], r, cov))
    spans.sort(key=lambda s: s[0])
    found = []
    for i, (lo_a, hi_a, ra, ca) in enumerate(spans):
        for lo_b, hi_b, rb, cb in spans[i + 1:]:
            if lo_b > hi_a:
                break  # sorted by start: no later file reaches back into this one
            if ca.dataset != cb.dataset or (ca.schema and cb.schema and ca.schema != cb.schema):
                continue
            shared = _shared_instruments(ra, ca, rb, cb)
            if not shared:
                continue
            lo, hi = max(lo_a, lo_b), min(hi_a, hi_b)
            found.append({
                "kind": "overlap", "files": [ra["file"], rb["file"]], "from": _iso(lo), "to": _iso(hi),
                "instruments": shared,
                "message": f"{Path(ra['file']).name} and {Path(rb['file']).name} both hold "
                           f"{', '.join(shared[:3])}{' ...' if len(shared) > 3 else ''} records "
                           f"from {_iso(lo)} to {_iso(hi)}: both counted, so record counts include "
                           "the overlap twice; duplicates, sequence gaps and cross-file gaps are "
                           "not judged (select files that do not overlap)"})
    return found


def _shared_instruments(ra: dict, ca: Coverage, rb: dict, cb: Coverage) -> list[str]:
    """Instruments both files hold: those seen in the records where both results list them,
    else the metadata's mapped instrument ids, else its symbols (ALL_SYMBOLS or none: any)."""
    seen_a, seen_b = set(ra.get("by_instrument") or ()), set(rb.get("by_instrument") or ())
    if seen_a and seen_b:
        return sorted(seen_a & seen_b)
    if ca.mapped_ids and cb.mapped_ids:
        return sorted(ca.mapped_ids & cb.mapped_ids)
    sym_a, sym_b = set(ca.symbols), set(cb.symbols)
    if not sym_a or not sym_b or ALL_SYMBOLS in sym_a or ALL_SYMBOLS in sym_b or ca.stype_in != cb.stype_in:
        return sorted((sym_a | sym_b) - {ALL_SYMBOLS}) or ["(any)"]  # cannot tell them apart
    return sorted(sym_a & sym_b)


def _value(x) -> str:
    return "" if x is None else str(getattr(x, "value", x))


def _iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat()
