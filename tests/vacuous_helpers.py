"""Shared by tests/test_vacuous_*.py: run one requirement of the real plan on a small workspace.

The engine judges the result (thresholds, the no-pass-without-evidence rule, min_period and
max_age), so a test sees the verdict a ``golive run`` would give.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from golive.plan import load
from golive.pluginmanager import create_host
from golive.plugins import audit, broker, business, monitoring, risk
from golive.run.runner import RunOptions, run_plan
from golive.run.target import load_target

FAMILIES = {"monitoring": monitoring, "audit": audit, "risk": risk, "broker": broker, "business": business}
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=timezone.utc)


@lru_cache(maxsize=1)
def _plan_and_host():
    return load(), create_host(load_entry_points=False, extra=list(FAMILIES.items()))


def outcome(root: Path, req_id: str, now: datetime = NOW):
    plan, host = _plan_and_host()
    report = run_plan(plan, load_target(root), host, RunOptions(only=(req_id,), jobs=1, clock=lambda: now))
    (result,) = report.outcomes
    return result


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def settings(root: Path, **values) -> None:
    """A golive.toml with a [settings] table (lists of strings only, enough here)."""
    lines = [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    (root / "golive.toml").write_text("[settings]\n" + "\n".join(lines) + "\n", encoding="utf-8")


def commit(root: Path, message: str, who: str = "alice", when: str = "2026-11-10T10:00:00+00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": f"{who}@desk.example", "GIT_COMMITTER_NAME": who,
           "GIT_COMMITTER_EMAIL": f"{who}@desk.example", "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if not (root / ".git").exists():
        subprocess.run(["git", "-C", str(root), "init", "-q", "-b", "main"], check=True, env=env, capture_output=True)
    for args in (("add", "-A"), ("commit", "-q", "-m", message)):
        subprocess.run(["git", "-C", str(root), "-c", "commit.gpgsign=false", *args], check=True, env=env,
                       capture_output=True, timeout=30)
