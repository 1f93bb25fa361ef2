"""Run history: every run's results document, kept beside its evidence.

``<store>/runs/<started>_<run id>.json`` holds the results document of each recorded run, so
that ``golive report RUN`` can render any past run, ``golive run --report`` can show the changes
since the previous run and a trend over past runs, and ``golive history`` can list them.

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
    return sorted(folder.glob("*.json")) if folder.is_dir() else []  # names sort by start time


def load(store_dir, run_prefix: str) -> dict[str, Any]:
    matches = [p for p in _files(store_dir) if p.stem.split("_", 1)[-1].startswith(run_prefix)]
    if not matches:
        raise HistoryError(f"no run {run_prefix!r} in {store_path(store_dir) / RUNS}; `golive history` lists the runs")
    if len(matches) > 1:
        raise HistoryError(f"run prefix {run_prefix!r} matches {len(matches)} runs; give more characters")
    return json.loads(matches[0].read_text(encoding="utf-8"))


def past_runs(store_dir, doc: dict[str, Any] | None = None, limit: int = 12) -> list[dict[str, Any]]:
    """Earlier documents, oldest first; with ``doc``, only runs of the same target and plan
    started before it (a trend mixes nothing else)."""
    docs = []
    for p in _files(store_dir):
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a damaged history file must not stop a run; verify reads the ledger
        if doc is not None:
            same = (d["run"].get("target") == doc["run"].get("target")
                    and d["run"]["plan"].get("id") == doc["run"]["plan"].get("id"))
            if not same or d["run"]["id"] == doc["run"]["id"] or d["run"]["started"] > doc["run"]["started"]:
                continue
        docs.append(d)
    return docs[-limit:]


def summary_rows(store_dir) -> list[dict[str, Any]]:
    rows = []
    for d in past_runs(store_dir, limit=10_000):
        s = d["summary"]
        rows.append({"run": d["run"]["id"], "started": d["run"]["started"], "target": d["run"].get("target", ""),
                     "requirements": s["requirements"], "compliance_rate": s["compliance_rate"],
                     "verification_rate": s["verification_rate"], "by_status": s["by_status"],
                     "selection": d["run"].get("selection") or []})
    return rows
