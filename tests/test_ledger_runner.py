"""The recorder wired into the real runner: a run of the engine leaves a ledger that verifies,
whose results match the run's outcomes, and whose head is what the results document carries."""
from __future__ import annotations

import json

from golive import hookimpl
from golive.ledger import Checkpoint, attach, verify_store
from golive.ledger.show import run_results
from golive.model import CheckResult, CheckSpec, Target
from golive.run.runner import RunOptions, run_plan

from enginehelpers import FakeChecks, make_host, make_plan, req


class ReadsAFile:
    """A check that reads a target file and records it as an artifact."""

    @hookimpl
    def golive_checks(self):
        def read_config(requirement, ctx):
            ctx.record_artifact("config/production.toml")
            return CheckResult(metrics={"cost": 3})
        return [CheckSpec("files", "read_config", read_config, metrics=("cost",))]


def test_a_real_run_is_recorded_and_verifies(tmp_path):
    target = tmp_path / "target"
    (target / "config").mkdir(parents=True)
    (target / "config" / "production.toml").write_text('dataset = "GLBX.MDP3"\napi_key = "db-abc"\n')
    host = make_host(FakeChecks(), ReadsAFile())
    recorder = attach(host, tmp_path / "evidence")
    store = recorder.store
    plan = make_plan([
        req("R-01", check=("fake", "metrics"), params={"metrics": {"latency_p99": 80}},
            thresholds=[("latency_p99", "<", 100, "ms")]),
        req("R-02", check=("fake", "boom")),
        req("R-03", check=("files", "read_config"), thresholds=[("cost", "<=", 8, "USD")]),
        req("R-04", manual=True),
    ])
    report = run_plan(plan, Target(root=target), host, RunOptions(jobs=2))

    verified = verify_store(store)
    assert verified.ok, verified.problems
    assert verified.blobs == 1 and verified.incomplete_runs == []
    copies = [p.read_text() for p in (store.path / "objects").rglob("*") if p.is_file()]
    assert len(copies) == 1 and "GLBX.MDP3" in copies[0] and "db-abc" not in copies[0]
    head = Checkpoint.from_dict(recorder.head)
    assert (head.size, head.head) == (verified.entries, verified.head)

    run_id, rows = run_results(store, report.run["id"])
    recorded = {r["requirement_id"]: r["status"] for r in rows}
    assert recorded == {o.requirement.id: str(o.status) for o in report.outcomes}
    with store.read() as conn:
        payloads = [json.loads(p) for (p,) in conn.exec_driver_sql(
            "SELECT payload FROM ledger_entries WHERE kind = 'result'")]
    body = next(p for p in payloads if p["requirement_id"] == "R-01")
    assert body["plan"]["digest"] == plan.digest and body["environment"]["host"]
    assert body["thresholds"][0]["observed"] == 80 and body["thresholds"][0]["passed"] is True
