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


class ReadsManyFiles:
    """A check that reads many documents, as documentation_freshness does."""

    @hookimpl
    def golive_checks(self):
        def read_docs(requirement, ctx):
            for i in range(30):
                ctx.record_artifact(f"docs/doc{i}.md")
            return CheckResult(metrics={"cost": 1})
        return [CheckSpec("docs", "read_docs", read_docs, metrics=("cost",))]


def test_many_artifacts_are_stored_in_order_redacted_and_verify(tmp_path):
    target = tmp_path / "target"
    (target / "docs").mkdir(parents=True)
    for i in range(30):  # doc 7 holds a key, docs 10 and 11 share their content
        body = "api_key = db-" + "A" * 29 + "\n" if i == 7 else f"# doc {min(i, 10) if i in (10, 11) else i}\n"
        (target / "docs" / f"doc{i}.md").write_text(body)
    host = make_host(ReadsManyFiles())
    recorder = attach(host, tmp_path / "evidence")
    report = run_plan(make_plan([req("D-01", check=("docs", "read_docs"))]), Target(root=target), host, RunOptions())
    verified = verify_store(recorder.store)
    assert verified.ok, verified.problems
    assert verified.blobs == 29  # 30 files, two with the same content
    with recorder.store.read() as conn:
        [payload] = [json.loads(p) for (p,) in conn.exec_driver_sql(
            "SELECT payload FROM ledger_entries WHERE kind = 'result'")]
    stored = payload["blobs"]
    assert [a["path"] for a in stored] == [f"docs/doc{i}.md" for i in range(30)]  # the check's order
    assert [a["redacted"] for a in stored].count(True) == 1 and stored[7]["redacted"]
    copies = "".join(p.read_text() for p in (recorder.store.path / "objects").rglob("*") if p.is_file())
    assert "db-" + "A" * 29 not in copies
    assert report.outcomes[0].status.value == "pass"
