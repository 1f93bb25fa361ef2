"""Run history: every run's results document, kept beside its evidence.

``<store>/runs/<started>_<run id>.json`` holds the results document of each recorded run, so
that ``golive report RUN`` can render any past run, ``golive run --report`` can show the changes
since the previous run and a trend over past runs, and ``golive history`` can list them.

Comparisons (changes since the previous run, the trend) only ever pair runs of one *series*:
the same plan digest, the same tailoring and the same selection. A scheduled slice
(``--only RISK-*``) is its own series, so it never reads as 92 requirements "added" or a dip of
the whole plan's trend (:func:`series_key`, :func:`incomparable`).

These documents are derived data, not evidence: the ledger is the source of truth, and each
document carries the signed ledger head it was produced with (``run.ledger``), which
``golive evidence verify --checkpoint DOCUMENT`` proves the ledger still extends.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from golive.results import write_document

RUNS = "runs"


class HistoryError(LookupError):
    """No such run, or several runs match a prefix."""


def store_path(store_dir: Path | str | None) -> Path:
    return Path(store_dir or os.environ.get("GOLIVE_STORE") or "evidence")


def save(store_dir: Path | str | None, doc: dict[str, Any]) -> Path:
    run = doc["run"]
    stamp = str(run["started"]).replace(":", "").replace("-", "")[:15]
    return write_document(doc, store_path(store_dir) / RUNS / f"{stamp}_{run['id']}.json")


def _files(store_dir) -> list[Path]:
    folder = store_path(store_dir) / RUNS
    if not folder.is_dir():
        return []
    # names start with the start time, to the second; runs started within one second keep the
    # order they were saved in
    return sorted(folder.glob("*.json"), key=lambda p: (p.name.split("_", 1)[0], p.stat().st_mtime_ns, p.name))


def load(store_dir, run_prefix: str) -> dict[str, Any]:
    matches = [p for p in _files(store_dir) if p.stem.split("_", 1)[-1].startswith(run_prefix)]
    if not matches:
        raise HistoryError(f"no run {run_prefix!r} in {store_path(store_dir) / RUNS}; `golive history` lists the runs")
    if len(matches) > 1:
        raise HistoryError(f"run prefix {run_prefix!r} matches {len(matches)} runs; give more characters")
    return json.loads(matches[0].read_text(encoding="utf-8"))


def series_key(doc: dict[str, Any]) -> tuple[str, str, str, tuple[str, ...]]:
    """(plan id, plan digest, tailoring digest, selection): runs with equal keys are comparable."""
    run = doc.get("run") or {}
    plan = run.get("plan") or {}
    return (str(plan.get("id") or ""), str(plan.get("digest") or ""), str(run.get("tailoring_digest") or ""),
            tuple(sorted(str(s) for s in run.get("selection") or ())))


def series_label(doc: dict[str, Any]) -> str:
    """``all`` or the selection (``RISK-*, OPS-01``), with a short plan digest: for listings."""
    plan_id, digest, tailoring, selection = series_key(doc)
    text = ", ".join(selection) if selection else "all"
    text += f" @{digest[:8]}" if digest else ""
    return text + (f" +tailoring {tailoring[:8]}" if tailoring else "")


def incomparable(doc: dict[str, Any], other: dict[str, Any]) -> str | None:
    """Why ``other`` cannot be compared with ``doc`` (None when it can)."""
    a, b = series_key(doc), series_key(other)
    if a[0] != b[0]:
        return f"it ran another plan ({b[0] or 'unknown'}, this run: {a[0] or 'unknown'})"
    if a[1] != b[1]:
        return f"it ran another version of the plan (digest {b[1][:12] or 'unknown'}, this run: {a[1][:12] or 'unknown'})"
    if a[2] != b[2]:
        return "it ran with a different tailoring"
    if a[3] != b[3]:
        return (f"it covered another selection ({', '.join(b[3]) or 'the whole plan'}; this run: "
                f"{', '.join(a[3]) or 'the whole plan'})")
    return None


def past_runs(store_dir, doc: dict[str, Any] | None = None, limit: int = 12) -> list[dict[str, Any]]:
    """Earlier documents, oldest first; with ``doc``, only runs of the same target and series
    (plan digest, tailoring, selection) started before it: a trend mixes nothing else."""
    docs = []
    for p in _files(store_dir):
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a damaged history file must not stop a run; verify reads the ledger
        if doc is not None:
            same = d["run"].get("target") == doc["run"].get("target") and incomparable(doc, d) is None
            if not same or d["run"]["id"] == doc["run"]["id"] or d["run"]["started"] > doc["run"]["started"]:
                continue
        docs.append(d)
    return docs[-limit:]


def rates(doc: dict[str, Any]) -> tuple[float, float]:
    """(coverage rate, verification rate) of a results document: ``summary.coverage_rate``, or
    ``compliance_rate`` (its schema-1 name), else counted from ``results[]``."""
    summary = doc.get("summary") or {}
    coverage = summary.get("coverage_rate", summary.get("compliance_rate"))
    if coverage is not None and summary.get("verification_rate") is not None:
        return float(coverage), float(summary["verification_rate"])
    results = [r for r in doc.get("results") or () if not r.get("not_applicable")]
    if not results:
        return 0.0, 0.0
    covered = sum(1 for r in results if r.get("covered", r.get("implemented")))
    return covered / len(results), sum(1 for r in results if r.get("status") == "pass") / len(results)


def summary_rows(store_dir) -> list[dict[str, Any]]:
    """One row per recorded run, oldest first: its verdict, series, figures and rates.
    A document from before the readiness verdict (schema 1) has ``verdict`` None."""
    rows = []
    for d in past_runs(store_dir, limit=10_000):
        s = d["summary"]
        coverage, verification = rates(d)
        figures = s.get("figures") or {}
        rows.append({"run": d["run"]["id"], "started": d["run"]["started"], "target": d["run"].get("target", ""),
                     "verdict": (s.get("verdict") or {}).get("state"), "series": series_label(d),
                     "selection": d["run"].get("selection") or [], "requirements": s["requirements"],
                     "covered": figures.get("covered", s.get("covered", s.get("implemented"))),
                     "verified": figures.get("verified", s.get("verified")),
                     "failing": figures.get("failing", s["by_status"].get("fail", 0) + s["by_status"].get("error", 0)),
                     "coverage_rate": coverage,
                     "verification_rate": verification, "by_status": s["by_status"]})
    return rows
