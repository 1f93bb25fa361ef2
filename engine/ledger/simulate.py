"""Synthetic runs through the real recorder, for tests, benchmarks and crash drills.

``record_run`` drives :class:`LedgerRecorder` exactly as the runner does (run started, one
result per requirement, run finished) with outcomes built from golive's own dataclasses, so
what lands in the ledger has the shape of real evidence: metrics as decimals and floats,
evaluated thresholds, artifact digests and copies.

Run as a module it records runs into a store, optionally slowly (for the kill -9 drill)::

    python -m golive.ledger.simulate STORE [--runs N] [--results N] [--delay S]
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from golive import __version__
from golive.ledger.recorder import LedgerRecorder
from golive.ledger.keys import Signer
from golive.ledger.store import Store
from golive.model import Artifact, CheckRef, Outcome, Requirement, Status, ThresholdResult

STATUSES = (Status.PASS, Status.PASS, Status.FAIL, Status.PARTIAL, Status.MISSING, Status.SKIPPED)


def make_outcome(i: int, artifacts: list[Artifact] | None = None) -> Outcome:
    req = Requirement(id=f"SIM-REQ-{i:05d}", title=f"Simulated requirement {i}",
                      statement="Pipeline completes in under 2 minutes.", category="core-pipeline",
                      priority="P1", plan_lines=(3, 15), section="pre-live-pipeline", phase=1,
                      check=CheckRef(plugin="monitoring", name="pipeline_duration"))
    status = STATUSES[i % len(STATUSES)]
    observed = Decimal("84.125") + i
    return Outcome(
        requirement=req, status=status, reason="" if status is Status.PASS else "simulated",
        implemented=True, covered_by=[f"tests/test_pipeline.py::test_timing_{i}"],
        metrics={"duration_p95": observed, "runs": 20 + i % 7, "fees_usd": Decimal("8.00"),
                 "hit_ratio": 0.8125},
        thresholds=[ThresholdResult(metric="duration_p95", op="<", value=120, unit="s",
                                    observed=observed, passed=observed < 120)],
        artifacts=artifacts or [], duration_s=0.002, checker="monitoring.pipeline_duration",
        checker_version="1")


def run_header(target: Path | str = ".") -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "finished": None, "golive_version": __version__, "target": str(target),
            "plan": {"id": "golive-sim", "version": "1", "digest": "sha256:" + "ab" * 32},
            "selection": [], "tailoring_digest": None}


def record_run(recorder: LedgerRecorder, results: int, target: Path | str = ".",
               artifacts: dict[int, list[Artifact]] | None = None, delay_s: float = 0.0,
               finish: bool = True, progress=None) -> dict[str, Any]:  # noqa: ANN001
    """Record one run of ``results`` outcomes; returns the run header."""
    run = run_header(target)
    recorder.golive_run_started(run=run)
    outcomes = []
    for i in range(results):
        outcome = make_outcome(i, (artifacts or {}).get(i))
        recorder.golive_result(outcome=outcome, run=run)
        outcomes.append(outcome)
        if progress:
            progress(i + 1)
        if delay_s:
            time.sleep(delay_s)
    if finish:
        run["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        recorder.golive_run_finished(run=run, outcomes=outcomes)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--results", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    from golive.ledger.keyring import default_signer

    store = Store(args.store)
    signer: Signer = default_signer(store, announce=lambda m: None)
    recorder = LedgerRecorder(store, signer)
    for _ in range(args.runs):
        record_run(recorder, args.results, delay_s=args.delay,
                   progress=lambda n: print(f"result {n}", flush=True))
        print(f"head {recorder.head['size']} {recorder.head['head']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
