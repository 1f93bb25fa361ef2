"""The ``feed.mbo_quality`` check: every DBN file of the target through :mod:`.dbn_quality`.

Files are found by glob (default ``**/*.dbn`` and ``**/*.dbn.zst`` under the target's data
folder), checked one per process when ``workers`` > 1, and merged: counts add up, latency
percentiles come from the merged histograms. A file that cannot be read is listed with its
problem and makes the result ``error``; the other files are still checked and reported.
The files are one dataset (:mod:`.dataset_files`): the same data stored twice (``.dbn`` and
``.dbn.zst``) is checked and counted once, overlapping files are reported, and sequence gaps
between files are looked for between consecutive distinct files only. The ``schemas`` param
selects the files that feed the requirement (by the schema in their metadata; a live capture
of mixed records counts as ``mbo``); a file of another schema is noted, never an error. Files
of a selected schema other than MBO go to :mod:`.schema_quality` when it is installed (else
they are listed as not used). No MBO record at all makes the result ``missing``; data whose
newest record is older than ``max_age`` makes it ``skipped`` (data is stale). A figure that
cannot be judged (sequence numbers of symbol-filtered data, a limit hit, overlapping files) is
reported as the text ``not judged: <why>`` instead of a count, so its threshold cannot pass.
Per-file results are memoised for the process (same path, size and mtime), so the streaming
and reconnection checks of the same run reuse them instead of decoding the data again. Rows,
findings and notes for the report: :mod:`.quality_report`.
"""
from __future__ import annotations

import functools
import json
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path

import databento_dbn
import numpy as np

from golive.model import CheckResult, Quantity, Status
from golive.plan.units import UnitError, duration_seconds
from golive.plugins.monitoring.observation import observe
from golive.run.target import inside_only

from .dataset_files import OVERLAP_NOT_JUDGED, distinct_results, drop_copies, identify
from .dbn_quality import LATENCY_BINS, SEQUENCE_METRICS, QualityOptions, check_file, percentile_ms
from .dbn_reader import DBNFileError
from .quality_report import (dataset_findings, file_details, is_mbo, rel, unreadable_message,
                             usage_notes, used)

try:  # checks of the other schemas (trades, mbp-1, ohlcv, definition, ...)
    from .schema_quality import DEFECT_METRICS as _OTHER_DEFECTS, SUPPORTED_SCHEMAS, check_other_file
except ImportError:  # not installed: such files are listed as not used
    check_other_file, SUPPORTED_SCHEMAS, _OTHER_DEFECTS = None, (), ()

DEFAULT_GLOBS = ("**/*.dbn", "**/*.dbn.zst")
SCHEMAS = tuple(s.value for s in databento_dbn.Schema.variants())
SUMMED = ("records", "mbo_records", "ts_recv_regressions", "ts_event_regressions",
          "ts_event_after_recv", "sequence_gaps", "missing_sequences", "late_records",
          "duplicates_adjacent", "duplicates_exact", "undefined_prices", "non_positive_prices",
          "zero_sizes", "price_jumps", "bad_ts_recv_flags", "maybe_bad_book_flags", "heartbeats",
          "slow_reader_warnings", "skipped_records_errors", "gateway_errors", "crossed_episodes",
          "locked_episodes", "crossed_checks", "locked_checks", "unknown_order_events",
          "reused_order_ids", "snapshot_records", "side_none_fills", "auction_crossed_episodes",
          "auction_locked_episodes", "continuous_records", "pre_open_records", "halted_records",
          "status_records", "records_not_selected", "pre_open_crossed_episodes",
          "pre_open_locked_episodes")
# figures measured on continuous trading only (:mod:`.sessions`): without a continuous record
# they observed nothing, so they are "not judged" rather than a passing 0
CONTINUOUS_ONLY = ("ts_recv_regressions", "ts_event_regressions", "ts_event_after_recv",
                   "crossed_episodes", "locked_episodes")
# the other schemas' own figures (quotes, bars, definitions, ...), summed over their files
SUMMED += tuple(k for k in (*_OTHER_DEFECTS, "auction_quote_crossed", "auction_quote_locked")
                if k not in SUMMED) if _OTHER_DEFECTS else ()
QUALITY_METRICS = SUMMED + ("files", "files_unreadable", "files_not_mbo", "files_without_mbo",
                            "duplicates", "latency_p50_ms",
                            "latency_p99_ms", "latency_max_ms", "cross_file_sequence_gaps",
                            "cross_file_missing_sequences", "files_duplicate_coverage",
                            "files_overlapping", "files_not_selected")
_MEMO: dict[tuple, dict] = {}
_MEMO_SIZE = 256
# the runner runs checks in threads: the streaming, quality and reconnection checks of one run
# would decode the same files at once; the second waits for the first and reuses its results
_LOCK = threading.Lock()


def find_files(ctx, globs=None) -> list[Path]:
    base = ctx.target.path("data") if not ctx.params.get("files") else ctx.target.root
    patterns = ctx.params.get("files") or globs or DEFAULT_GLOBS
    found = {p for pat in patterns for p in base.glob(pat) if p.is_file()}
    return inside_only(ctx.target.root, sorted(found))  # never a file linked out of the target


def options_from(params) -> QualityOptions:
    # only the options' own names are looked up: the plan's params are tracked by what a check
    # reads, and iterating them all would mark every one as used
    return QualityOptions(**{k: params[k] for k in QualityOptions.__dataclass_fields__ if k in params})


def _one(path: str, opts: dict) -> dict:
    try:
        res = check_file(path, QualityOptions(**opts))
        if "not_used" in res and res.get("schema") in SUPPORTED_SCHEMAS:
            other = check_other_file(path, QualityOptions(**opts))
            if opts.get("instruments") is not None and "instruments_not_found" not in other:
                # the other schemas' checks do not filter instruments: judging every instrument
                # would not be what the plan asked for
                res["not_used"] = (f"schema is {res['schema']}: the instruments param applies to "
                                   "MBO files only")
                return res
            return other
        return res
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
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns, json.dumps(opts, sort_keys=True, default=str))
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


def _info_only(r: dict) -> tuple[str, ...]:
    """Figures of a file that say nothing about the dataset: sequence numbers of another schema
    skip by design (its records are a subset of the channel's messages)."""
    return () if is_mbo(r) else SEQUENCE_METRICS


class DatasetResults(list):
    """The per-file results of the distinct files that feed the requirement (a list, as the
    checks iterate it), with what was left out: ``findings`` (copies counted once, overlaps,
    :mod:`.dataset_files`), ``not_selected`` (files of schemas the requirement does not use)
    and ``found`` (how many files the globs found)."""

    def __init__(self, results, findings=(), not_selected=(), found: int | None = None):
        super().__init__(results)
        self.findings, self.not_selected = list(findings), list(not_selected)
        self.found = len(self) if found is None else found


def merge(results: list[dict]) -> dict:
    """Whole-dataset metrics from per-file results. A metric some file could not judge is the
    text ``not judged: <why> (<file>)`` (its threshold then fails instead of passing on a count
    that means nothing); the counts of the judged files stay in the file details. Results of
    other schemas add their counts of the same name (records, ts_recv regressions, prices)."""
    ok = used(results)
    why: dict[str, str] = {}
    for r in ok:
        for k, reason in r.get("not_judged", {}).items():
            # an empty file is noted as such (never a pass, see usage_notes), not as a figure
            if k not in _info_only(r) and k != "records":
                why.setdefault(k, f"not judged: {reason} ({Path(r['file']).name})")
    findings = getattr(results, "findings", [])
    overlaps = [f for f in findings if f["kind"] == "overlap"]
    for f in overlaps[:1]:
        names = " and ".join(Path(p).name for p in f["files"])
        for k in OVERLAP_NOT_JUDGED:
            why.setdefault(k, f"not judged: {names} overlap ({f['from']} to {f['to']})")
    out = {k: sum(r["metrics"].get(k, 0) for r in ok if k not in _info_only(r)) for k in SUMMED}
    out["files"] = getattr(results, "found", len(results))
    out["files_unreadable"] = sum("error" in r for r in results)
    out["files_not_mbo"] = sum("not_used" in r or ("error" not in r and not is_mbo(r)) for r in results)
    out["files_without_mbo"] = sum(not r["metrics"]["mbo_records"] for r in ok if is_mbo(r))
    out["files_duplicate_coverage"] = sum(f["kind"] == "same_coverage" for f in findings)
    out["files_overlapping"] = len({p for f in overlaps for p in f["files"]})
    out["files_not_selected"] = len(getattr(results, "not_selected", []))
    out["duplicates"] = out["duplicates_adjacent"] + out["duplicates_exact"]
    judged = [r for r in ok if is_mbo(r) and not any(k in r.get("not_judged", {}) for k in SEQUENCE_METRICS)]
    out["cross_file_sequence_gaps"], out["cross_file_missing_sequences"] = _cross_file_gaps(judged)
    for k in ("cross_file_sequence_gaps", "cross_file_missing_sequences"):
        if "sequence_gaps" in why:
            why.setdefault(k, why["sequence_gaps"])
    if "duplicates_adjacent" in why or "duplicates_exact" in why:
        why.setdefault("duplicates", why.get("duplicates_exact") or why["duplicates_adjacent"])
    out.update(why)
    hist = np.zeros(LATENCY_BINS + 1, dtype=np.int64)
    mbo = [r for r in ok if is_mbo(r)]
    for r in mbo:
        np.add.at(hist, r["latency_hist"]["bins"], r["latency_hist"]["counts"])
    lat_max = max((r["metrics"]["latency_max_ms"] for r in mbo), default=0.0)
    out["latency_p50_ms"] = Quantity(percentile_ms(hist, 0.50, lat_max), "ms")
    out["latency_p99_ms"] = Quantity(percentile_ms(hist, 0.99, lat_max), "ms")
    out["latency_max_ms"] = Quantity(lat_max, "ms")
    if mbo and out["mbo_records"] and not out["continuous_records"]:
        why = (f"not judged: no MBO record in continuous trading ({out['snapshot_records']} snapshot, "
               f"{out['pre_open_records']} pre-open/auction, {out['halted_records']} halted)")
        for k in (*CONTINUOUS_ONLY, "latency_p50_ms", "latency_p99_ms", "latency_max_ms"):
            out[k] = why
    return out


def _cross_file_gaps(ok: list[dict]) -> tuple[int, int]:
    """Sequence numbers lost between consecutive distinct files of a dataset (files sorted by
    their first record): a channel's first number in a file should follow its last in the
    previous one. A lower first number is a reset (a new week or session), not a gap."""
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


def dataset_results(ctx, paths: list[Path], default_schemas=("mbo",)) -> tuple[DatasetResults, list[str]]:
    """Select the files by schema, check each distinct file once, and find copies and overlaps
    (:mod:`.dataset_files`). Returns the results and the files that were read."""
    schemas = list(ctx.params.get("schemas") or default_schemas)
    coverages, selected, not_selected = {}, [], []
    for p in map(str, paths):
        try:
            coverages[p] = identify(p)
        except DBNFileError:
            coverages[p] = None  # checking it reports the problem
        schema = coverages[p].schema if coverages[p] is not None else ""
        if (schema or "mbo") in schemas:  # a live capture of mixed records is read as MBO
            selected.append(p)
        else:
            not_selected.append({"file": p, "schema": schema, "not_selected":
                                 f"schema {schema} is not among the requirement's schemas ({', '.join(schemas)})"})
    kept, copies = drop_copies({p: coverages[p] for p in selected})
    results = run_files([Path(p) for p in kept], options_from(ctx.params), ctx.params.get("workers", 1))
    by_result = {r["file"]: coverages[p] for p, r in zip(kept, results)}
    distinct, findings = distinct_results(results, by_result)
    return DatasetResults(distinct, copies + findings, not_selected, len(paths)), selected


def checked_files(ctx, default_schemas=("mbo",)) -> tuple[list[Path], list[dict], CheckResult | None]:
    """Find and check the data files; the CheckResult is set when there is nothing to check.
    The results are those of the distinct files (:class:`DatasetResults`)."""
    paths = find_files(ctx)
    if not paths:
        where = ctx.params.get("files") or [rel(str(ctx.target.path("data") / g), ctx.target.root)
                                            for g in DEFAULT_GLOBS]
        return [], [], CheckResult(status=Status.MISSING,
                                   message=f"no DBN files found ({', '.join(map(str, where))})")
    try:
        results, read = dataset_results(ctx, paths, default_schemas)
    except ValueError as exc:  # an option the plan set that QualityOptions rejects
        return paths, [], CheckResult(status=Status.ERROR, message=f"check parameter: {exc}")
    for p in read:
        ctx.record_artifact(p)
    return paths, results, None


def max_age_s(ctx) -> float | None:
    """The ``max_age`` param in seconds (None when not set); raises UnitError."""
    return duration_seconds(ctx.params["max_age"]) if "max_age" in ctx.params else None


def stale_message(ctx, results: list[dict], limit_s: float | None) -> str:
    """'data is stale: ...' when the newest record is older than ``limit_s`` by ctx's clock."""
    newest = max((r["last_ts_recv"] for r in used(results) if r.get("last_ts_recv") is not None),
                 default=None)
    if limit_s is None or newest is None:
        return ""
    when = datetime.fromtimestamp(newest / 1e9, tz=timezone.utc)
    age_s = (ctx.clock() - when).total_seconds()
    if age_s <= limit_s:
        return ""
    return (f"data is stale: the newest record ({when.isoformat()}) is {age_s / 86400:.1f} d old, "
            f"older than max_age {ctx.params['max_age']}")


def skip_when_stale(check):
    """Wrap a check that reads the recorded MBO data: ``skipped`` when the data is older than
    the ``max_age`` param (the check's own verdict is kept in the message)."""
    @functools.wraps(check)
    def run(requirement, ctx) -> CheckResult:
        try:
            limit = max_age_s(ctx)
        except UnitError as exc:
            return CheckResult(status=Status.ERROR, message=f"check parameter max_age: {exc}")
        result = check(requirement, ctx)
        if limit is None or result.status in (Status.ERROR, Status.MISSING, Status.SKIPPED):
            return result
        paths = find_files(ctx)
        why = stale_message(ctx, dataset_results(ctx, paths)[0], limit) if paths else ""
        if not why:
            return result
        return CheckResult(status=Status.SKIPPED, metrics=result.metrics, details=result.details,
                           message=f"{why}; {result.message}")
    return run


def check_mbo_quality(requirement, ctx) -> CheckResult:
    try:
        limit = max_age_s(ctx)
    except UnitError as exc:
        return CheckResult(status=Status.ERROR, message=f"check parameter max_age: {exc}")
    paths, results, early = checked_files(ctx, default_schemas=SCHEMAS)
    if early is not None:
        return early
    metrics = merge(results)
    details = {"files": file_details(results, ctx.target.root),
               "dataset": dataset_findings(results, ctx.target.root),
               "schemas": list(ctx.params.get("schemas") or ["all"]),
               "latency": "ts_recv - ts_event; percentiles from 1 us bins"}
    bad = unreadable_message(results, ctx.target.root)
    gaps = metrics["sequence_gaps"]
    other = metrics["records"] - sum(r["metrics"]["records"] for r in used(results) if is_mbo(r))
    summary = (f"{metrics['mbo_records']} MBO records"
               f"{f' and {other} records of other schemas' if other else ''} in {len(results)} distinct file(s): "
               f"{gaps if isinstance(gaps, int) else 'sequence gaps ' + gaps}"
               f"{' sequence gaps' if isinstance(gaps, int) else ''}, "
               f"{metrics['duplicates']} duplicates, "
               + (f"{metrics['crossed_episodes']} crossed-book episodes" if isinstance(metrics["crossed_episodes"], int)
                  else "crossed-book episodes not judged"))
    notes = usage_notes(results, ctx.target.root)
    if notes:
        summary += f"; {notes}"
    if bad:
        return CheckResult(status=Status.ERROR, metrics=metrics, details=details,
                           message=f"unreadable DBN file(s): {bad}; the others: {summary}")
    if not metrics["mbo_records"]:
        return CheckResult(status=Status.MISSING, metrics=metrics, details=details,
                           message=f"no MBO records to judge: {summary}")
    if not metrics["continuous_records"]:
        return CheckResult(status=Status.MISSING, metrics=metrics, details=details,
                           message=f"no MBO record in continuous trading, so latency, ordering and the "
                                   f"book cannot be judged ({metrics['snapshot_records']} snapshot, "
                                   f"{metrics['pre_open_records']} pre-open/auction, "
                                   f"{metrics['halted_records']} halted): {summary}")
    stale = stale_message(ctx, results, limit)
    if stale:
        return CheckResult(status=Status.SKIPPED, metrics=metrics, details=details,
                           message=f"{stale}; {summary}")
    empty = any(not is_mbo(r) and not r["metrics"].get("records") for r in used(results))
    # the records judged, dated by their receive times (ns) across the files
    bounds = [r[k] / 1e9 for r in used(results) for k in ("first_ts_recv", "last_ts_recv") if r.get(k) is not None]
    return observe(CheckResult(status=Status.PARTIAL if metrics["files_without_mbo"] or empty else None,
                               metrics=metrics, details=details, message=summary),
                   "DBN records", bounds, events=metrics["records"])


QUALITY_SCHEMA = {
    "type": "object",
    "properties": {
        "files": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        # the schemas of the files that feed the requirement (default: all; streaming: mbo)
        "schemas": {"type": "array", "items": {"enum": list(SCHEMAS)}, "minItems": 1, "uniqueItems": True},
        "chunk_records": {"type": "integer", "minimum": 1024},
        "jump_ratio": {"type": "number", "exclusiveMinimum": 0},
        "allow_negative_prices": {"type": "boolean"},
        # Databento numbers messages per channel: there is no per-instrument sequence to follow
        "sequence_scope": {"const": "channel"},
        "book": {"type": "boolean"},
        "max_violations": {"type": "integer", "minimum": 0},
        "workers": {"oneOf": [{"type": "integer", "minimum": 1}, {"const": "auto"}]},
        # data whose newest record is older than this is skipped ("92 d" or seconds)
        "max_age": {"type": ["string", "number"]},
    },
    "additionalProperties": False,
}
# params that QualityOptions reads, declared only where it has them (a param no check reads
# must not validate)
_OPTION_PARAMS = {
    # symbols (raw symbols of the metadata) or instrument ids: only these are checked
    "instruments": {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 1},
    # the plan's trading hours instead of the venue's calendar (.sessions)
    "sessions": {"type": "object", "additionalProperties": False, "properties": {
        "timezone": {"type": "string"}, "open": {"type": "string", "pattern": r"^\d\d:\d\d$"},
        "close": {"type": "string", "pattern": r"^\d\d:\d\d$"},
        "days": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}},
        "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
        "calendar": {"type": "string"}, "pre_open_minutes": {"type": "integer", "minimum": 0}}},
}
QUALITY_SCHEMA["properties"].update(
    {k: v for k, v in _OPTION_PARAMS.items() if k in QualityOptions.__dataclass_fields__})
