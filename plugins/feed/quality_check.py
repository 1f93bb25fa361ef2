"""The ``feed.mbo_quality`` check: every DBN file of the target through :mod:`.dbn_quality`.

Files are found by glob (default ``**/*.dbn`` and ``**/*.dbn.zst`` under the target's data
folder), checked one per process when ``workers`` > 1, and merged: counts add up, latency
percentiles come from the merged histograms. A file that cannot be read is listed with its
problem and makes the result ``error``; the other files are still checked and reported. A DBN
file of another schema (trades, mbp-1, ...) is listed as not used, not an error; no MBO record
at all makes the result ``missing``. A figure that cannot be judged (sequence numbers of
symbol-filtered data, a limit hit) is reported as the text ``not judged: <why>`` instead of a
count, so its threshold cannot pass.
Per-file results are memoised for the process (same path, size and mtime), so the streaming
and reconnection checks of the same run reuse them instead of decoding the data again.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from golive.model import CheckResult, Quantity, Status

from .dbn_quality import LATENCY_BINS, SEQUENCE_METRICS, QualityOptions, check_file, percentile_ms
from .dbn_reader import DBNFileError

DEFAULT_GLOBS = ("**/*.dbn", "**/*.dbn.zst")
SUMMED = ("records", "mbo_records", "ts_recv_regressions", "ts_event_regressions",
          "ts_event_after_recv", "sequence_gaps", "missing_sequences", "late_records",
          "duplicates_adjacent", "duplicates_exact", "undefined_prices", "non_positive_prices",
          "zero_sizes", "price_jumps", "bad_ts_recv_flags", "maybe_bad_book_flags", "heartbeats",
          "slow_reader_warnings", "skipped_records_errors", "gateway_errors", "crossed_episodes",
          "locked_episodes", "crossed_checks", "locked_checks", "unknown_order_events",
          "reused_order_ids", "snapshot_records", "side_none_fills", "auction_crossed_episodes",
          "auction_locked_episodes")
QUALITY_METRICS = SUMMED + ("files", "files_unreadable", "files_not_mbo", "files_without_mbo",
                            "duplicates", "latency_p50_ms",
                            "latency_p99_ms", "latency_max_ms", "cross_file_sequence_gaps",
                            "cross_file_missing_sequences")
_MEMO: dict[tuple, dict] = {}
_MEMO_SIZE = 256
# the runner runs checks in threads: the streaming, quality and reconnection checks of one run
# would decode the same files at once; the second waits for the first and reuses its results
_LOCK = threading.Lock()


def find_files(ctx, globs=None) -> list[Path]:
    base = ctx.target.path("data") if not ctx.params.get("files") else ctx.target.root
    patterns = ctx.params.get("files") or globs or DEFAULT_GLOBS
    found = {p for pat in patterns for p in base.glob(pat) if p.is_file()}
    return sorted(found)


def options_from(params) -> QualityOptions:
    names = QualityOptions.__dataclass_fields__
    return QualityOptions(**{k: v for k, v in params.items() if k in names})


def _one(path: str, opts: dict) -> dict:
    try:
        return check_file(path, QualityOptions(**opts))
    except DBNFileError as exc:
        return {"file": path, "error": exc.problem}


def run_files(paths: list[Path], options: QualityOptions, workers: int | str = 1) -> list[dict]:
    """Per-file results in ``paths`` order; unreadable files give ``{"file", "error"}``.

    On a Dask worker the files become one task each across the cluster (``golive run --executor
    dask``), outside the memo lock: a check waiting for its file tasks must not hold a lock that
    another check on the same worker needs, or the worker's only thread deadlocks."""
    from golive.executors import map_per_file

    spread = map_per_file(_one, [str(p) for p in paths], asdict(options))
    if spread is not None:
        return spread
    with _LOCK:
        return _run_files(paths, options, workers)


def _run_files(paths: list[Path], options: QualityOptions, workers: int | str) -> list[dict]:
    opts = asdict(options)
    keys, todo = [], []
    for p in paths:
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns, tuple(sorted(opts.items())))
        keys.append(key)
        if key not in _MEMO:
            todo.append((p, key))
    n_workers = (os.cpu_count() or 1) if workers == "auto" else int(workers)
    n_workers = max(1, min(n_workers, len(todo)))
    if n_workers > 1:
        # spawn, not fork: the calling process may hold threads (live clients, schedulers)
        with ProcessPoolExecutor(n_workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_one, [str(p) for p, _ in todo], [opts] * len(todo)))
    else:
        results = [_one(str(p), opts) for p, _ in todo]
    for (_, key), res in zip(todo, results):
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = res
    return [_MEMO[k] for k in keys]


def _used(results: list[dict]) -> list[dict]:
    return [r for r in results if "error" not in r and "not_used" not in r]


def merge(results: list[dict]) -> dict:
    """Whole-dataset metrics from per-file results. A metric some file could not judge is the
    text ``not judged: <why> (<file>)`` (its threshold then fails instead of passing on a count
    that means nothing); the counts of the judged files stay in the file details."""
    ok = _used(results)
    why: dict[str, str] = {}
    for r in ok:
        for k, reason in r.get("not_judged", {}).items():
            why.setdefault(k, f"not judged: {reason} ({Path(r['file']).name})")
    out = {k: sum(r["metrics"].get(k, 0) for r in ok) for k in SUMMED}
    out["files"] = len(results)
    out["files_unreadable"] = sum("error" in r for r in results)
    out["files_not_mbo"] = sum("not_used" in r for r in results)
    out["files_without_mbo"] = sum(not r["metrics"]["mbo_records"] for r in ok)
    out["duplicates"] = out["duplicates_adjacent"] + out["duplicates_exact"]
    judged = [r for r in ok if not any(k in r.get("not_judged", {}) for k in SEQUENCE_METRICS)]
    out["cross_file_sequence_gaps"], out["cross_file_missing_sequences"] = _cross_file_gaps(judged)
    for k in ("cross_file_sequence_gaps", "cross_file_missing_sequences"):
        if "sequence_gaps" in why:
            why[k] = why["sequence_gaps"]
    if "duplicates_adjacent" in why or "duplicates_exact" in why:
        why["duplicates"] = why.get("duplicates_exact") or why["duplicates_adjacent"]
    out.update(why)
    hist = np.zeros(LATENCY_BINS + 1, dtype=np.int64)
    for r in ok:
        np.add.at(hist, r["latency_hist"]["bins"], r["latency_hist"]["counts"])
    lat_max = max((r["metrics"]["latency_max_ms"] for r in ok), default=0.0)
    out["latency_p50_ms"] = Quantity(percentile_ms(hist, 0.50, lat_max), "ms")
    out["latency_p99_ms"] = Quantity(percentile_ms(hist, 0.99, lat_max), "ms")
    out["latency_max_ms"] = Quantity(lat_max, "ms")
    return out


def _cross_file_gaps(ok: list[dict]) -> tuple[int, int]:
    """Sequence numbers lost between consecutive files of a dataset (files sorted by their
    first record): a channel's first number in a file should follow its last in the previous
    one. A lower first number is a reset (a new week or session), not a gap."""
    gaps = missing = 0
    by_dataset: dict[str, list[dict]] = {}
    for r in ok:
        if r.get("first_ts_recv") is not None:
            by_dataset.setdefault(r.get("dataset", ""), []).append(r)
    for files in by_dataset.values():
        files.sort(key=lambda r: r["first_ts_recv"])
        for prev, nxt in zip(files, files[1:]):
            for chan, (first, _) in nxt["channels"].items():
                if chan in prev["channels"] and first > prev["channels"][chan][1] + 1:
                    gaps += 1
                    missing += first - prev["channels"][chan][1] - 1
    return gaps, missing


def file_details(results: list[dict], root: Path) -> list[dict]:
    rows = []
    for r in results:
        name = _rel(r["file"], root)
        if "error" in r:
            rows.append({"file": name, "error": r["error"]})
            continue
        if "not_used" in r:
            rows.append({"file": name, "schema": r.get("schema", ""), "not_used": r["not_used"]})
            continue
        rows.append({"file": name, "dataset": r.get("dataset", ""),
                     "metrics": {k: v for k, v in r["metrics"].items()},
                     "by_instrument": r["by_instrument"], "violations": r["violations"],
                     "limits_hit": r.get("limits_hit", []), "not_judged": r.get("not_judged", {}),
                     "sequence_judgement": r.get("sequence_judgement", {})})
    return rows


def _rel(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return path


def checked_files(ctx) -> tuple[list[Path], list[dict], CheckResult | None]:
    """Find and check the data files; the CheckResult is set when there is nothing to check."""
    paths = find_files(ctx)
    if not paths:
        where = ctx.params.get("files") or [_rel(str(ctx.target.path("data") / g), ctx.target.root)
                                            for g in DEFAULT_GLOBS]
        return [], [], CheckResult(status=Status.MISSING,
                                   message=f"no DBN files found ({', '.join(map(str, where))})")
    for p in paths:
        ctx.record_artifact(p)
    results = run_files(paths, options_from(ctx.params), ctx.params.get("workers", 1))
    return paths, results, None


def unreadable_message(results: list[dict], root: Path) -> str:
    bad = [r for r in results if "error" in r]
    return "; ".join(f"{_rel(r['file'], root)}: {r['error']}" for r in bad)


def check_mbo_quality(requirement, ctx) -> CheckResult:
    paths, results, early = checked_files(ctx)
    if early is not None:
        return early
    metrics = merge(results)
    details = {"files": file_details(results, ctx.target.root),
               "latency": "ts_recv - ts_event; percentiles from 1 us bins"}
    bad = unreadable_message(results, ctx.target.root)
    gaps = metrics["sequence_gaps"]
    summary = (f"{metrics['mbo_records']} MBO records in {len(paths)} file(s): "
               f"{gaps if isinstance(gaps, int) else 'sequence gaps ' + gaps}"
               f"{' sequence gaps' if isinstance(gaps, int) else ''}, "
               f"{metrics['duplicates']} duplicates, "
               f"{metrics['crossed_episodes']} crossed-book episodes")
    notes = usage_notes(results, ctx.target.root)
    if notes:
        summary += f"; {notes}"
    if bad:
        return CheckResult(status=Status.ERROR, metrics=metrics, details=details,
                           message=f"unreadable DBN file(s): {bad}; the others: {summary}")
    if not metrics["mbo_records"]:
        return CheckResult(status=Status.MISSING, metrics=metrics, details=details,
                           message=f"no MBO records to judge: {summary}")
    return CheckResult(status=Status.PARTIAL if metrics["files_without_mbo"] else None,
                       metrics=metrics, details=details, message=summary)


def usage_notes(results: list[dict], root: Path) -> str:
    """Files of another schema (not used) and MBO files without records (never a pass)."""
    parts = []
    other = [f"{_rel(r['file'], root)} ({r.get('schema') or r['not_used']})"
             for r in results if "not_used" in r]
    if other:
        parts.append(f"not used, not MBO: {', '.join(other)}")
    empty = [_rel(r["file"], root) for r in _used(results) if not r["metrics"]["mbo_records"]]
    if empty:
        parts.append(f"0 MBO records in {', '.join(empty)}")
    return "; ".join(parts)


QUALITY_SCHEMA = {
    "type": "object",
    "properties": {
        "files": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "chunk_records": {"type": "integer", "minimum": 1024},
        "jump_ratio": {"type": "number", "exclusiveMinimum": 0},
        "allow_negative_prices": {"type": "boolean"},
        # Databento numbers messages per channel: there is no per-instrument sequence to follow
        "sequence_scope": {"const": "channel"},
        "book": {"type": "boolean"},
        "max_violations": {"type": "integer", "minimum": 0},
        "workers": {"oneOf": [{"type": "integer", "minimum": 1}, {"const": "auto"}]},
    },
    "additionalProperties": False,
}
