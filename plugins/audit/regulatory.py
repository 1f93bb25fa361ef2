"""Regulatory reports are produced on schedule, complete and in the required format.

Plan lines 191-217: "Regulatory reporting" (AUD-05).

The report manifest ``logs/regulatory_reports.jsonl`` records each report produced:
``report`` (name), ``period`` (the trading day, YYYY-MM-DD), ``generated_at``, ``path`` and
``sha256``. For every report configured in ``reports`` (default: a daily ``trades`` report of
``records/fills`` identified by ``fill_id``) a report is expected for every day on which the
records hold rows. Each expected report must be in the manifest, exist with the recorded
sha256, be a CSV with the ``columns`` the format requires, list exactly the record keys of its
day (complete, nothing extra), and be generated within ``deadline_h`` hours of the day's end.
"""
from __future__ import annotations

import csv
from datetime import date, datetime, timedelta, timezone

from golive.digest import file_sha256
from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.monitoring.observation import observe
from golive.plugins.monitoring.opslog import input_path, read_jsonl
from golive.plugins.records.stream import scan

from . import auditlog

DEFAULT_REPORTS = [{"name": "trades", "records": "fills", "id_column": "fill_id", "deadline_h": 24,
                    "columns": ["ts", "fill_id", "order_id", "symbol", "side", "qty", "price", "fees"]}]


def report_problems(ctx, entry, spec: dict, expected_keys: set[str], day: date) -> list[str]:
    issues = []
    path = ctx.target.root / str(entry.get("path", ""))
    if not entry.get("path") or not path.is_file():
        return [f"report file {entry.get('path')!r} not found"]
    ctx.record_artifact(path)
    if entry.get("sha256") and file_sha256(path) != entry["sha256"]:
        issues.append("file differs from the sha256 in the manifest")
    deadline = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc).timestamp() \
        + float(spec.get("deadline_h", 24)) * 3600
    if entry.get("_generated_at") is None:
        issues.append("no generated_at in the manifest")
    elif entry["_generated_at"] > deadline:
        issues.append(f"generated {(entry['_generated_at'] - deadline) / 3600:.1f} h after the deadline")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            table = csv.DictReader(fh)
            header = table.fieldnames or []
            # streamed: the report's keys are all the comparison needs
            keys = {r[spec["id_column"]] for r in table} if spec["id_column"] in header else set()
    except (csv.Error, UnicodeDecodeError) as exc:
        return issues + [f"not a readable CSV: {exc}"]
    absent_cols = [c for c in spec.get("columns", []) if c not in header]
    if absent_cols:
        issues.append(f"format: missing column(s) {', '.join(absent_cols)}")
        return issues
    if keys != expected_keys:
        issues.append(f"incomplete: {len(expected_keys - keys)} record(s) missing, {len(keys - expected_keys)} extra")
    return issues


def _days(records, id_column: str):
    """(day, the day's record keys) in day order, holding one day's keys at a time: the reader
    refuses rows out of time order, so a day's rows are consecutive."""
    day, keys = None, set()
    for frame in records:
        for ts, key in zip(frame["ts"], frame[id_column]):
            d = ts.date()
            if d != day:
                if day is not None:
                    yield day, keys
                day, keys = d, set()
            keys.add(str(key))
    if day is not None:
        yield day, keys


@auditlog.records_guarded
def regulatory_reporting(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    manifest_path = input_path(ctx, "manifest", "logs/regulatory_reports.jsonl")
    manifest = read_jsonl(manifest_path, required=("report", "period", "path"), ts_fields=("generated_at",))
    ctx.record_artifact(manifest_path)
    expected = produced = 0
    problems, missing, days = [], [], []
    for spec in ctx.params.get("reports", DEFAULT_REPORTS):
        records = scan(ctx, spec["records"], need=["ts", spec["id_column"]])  # validated now, streamed below
        entries = {str(e["period"]): e for e in manifest if e["report"] == spec["name"]}
        for day, keys in _days(records, spec["id_column"]):
            expected += 1
            days.append(day)
            entry = entries.get(day.isoformat())
            if entry is None:
                missing.append({"report": spec["name"], "period": day.isoformat()})
                continue
            issues = report_problems(ctx, entry, spec, keys, day)
            if issues:
                problems.append({"report": spec["name"], "period": day.isoformat(), "at": entry.where, "problems": issues})
            else:
                produced += 1
    if expected == 0:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: the records hold no trading day to report")
    late = sum(any("deadline" in p for p in x["problems"]) for x in problems)
    incomplete = sum(any(p.startswith(("incomplete", "format")) for p in x["problems"]) for x in problems)
    return observe(CheckResult(
        metrics={"reports_expected": expected, "reports_missing": len(missing), "reports_late": late,
                 "reports_incomplete": incomplete, "reports_defective": len(problems),
                 "reports_on_time_ratio": Quantity(round(produced / expected, 6), "ratio")},
        message=f"{produced}/{expected} expected reports produced on time, complete and well-formed",
        details={"missing": missing[:100], "defective": problems[:100],
                 "rule": "one report per trading day with records; manifest entry, file with matching sha256, "
                         "required columns, exactly the day's record keys, generated within the deadline"},
    ), "trading days to report", days)


SCHEMA = {
    "type": "object",
    "properties": {
        "manifest": {"type": "string"},
        "files": {"type": "object", "additionalProperties": {"type": "string"}},
        "reports": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name", "records", "id_column"],
            "properties": {"name": {"type": "string"}, "records": {"enum": ["fills", "orders", "positions", "signals"]},
                           "id_column": {"type": "string"}, "deadline_h": {"type": "number", "minimum": 0},
                           "columns": {"type": "array", "items": {"type": "string"}}},
            "additionalProperties": False}},
    },
    "additionalProperties": False,
}
METRICS = ("reports_expected", "reports_missing", "reports_late", "reports_incomplete", "reports_defective",
           "reports_on_time_ratio")
