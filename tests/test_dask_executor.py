"""Checks run on a real ``distributed.LocalCluster`` (2 worker processes): the same plan on the
same workspace gives the same results as the local thread executor, with the ledger written
once in the main process; crashes and timeouts on a worker become ``error`` outcomes; per-file
DBN work spreads over the workers."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import cloudpickle
import pytest

from golive.executors import ExecutorError, executor_from_spec, map_per_file
from golive.executors.dask import DaskExecutor
from golive.model import CheckContext, CheckResult, CheckSpec, Requirement, Status, Target
from golive.run.runner import RunOptions, _Job, run_jobs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.dbn_fixtures import write_mbo_file  # noqa: E402

# the worker processes cannot import this test module: ship its functions by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

# per-run values that legitimately differ between two runs of the same plan
VOLATILE_RUN = ("id", "started", "finished", "executor", "ledger")


@pytest.fixture(scope="module")
def cluster():
    with DaskExecutor(n_workers=2, threads_per_worker=1) as executor:
        yield executor


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from golive.demo import build

    return build(tmp_path_factory.mktemp("demo") / "ws", "healthy").root


class FixedClock:
    """One instant for every check of both runs: ages (of logs, backups, drills) must not
    differ by the time between the two runs."""

    def __init__(self) -> None:
        from datetime import datetime, timezone
        self.now = datetime.now(timezone.utc)

    def __call__(self):
        return self.now


def run_demo(root: Path, executor, store_dir: Path, clock=None):
    from golive.ledger import attach
    from golive.plan import load
    from golive.pluginmanager import create_host
    from golive.results import build_document
    from golive.run.target import load_target

    host = create_host()
    recorder = attach(host, store_dir, None)
    report = __import__("golive.run.runner", fromlist=["run_plan"]).run_plan(
        load(), load_target(root), host, RunOptions(jobs=4, executor=executor, clock=clock))
    doc = build_document(report, ledger_head=recorder.head)
    recorder.store.close()
    return doc, recorder


def normalised(doc: dict) -> dict:
    run = {k: v for k, v in doc["run"].items() if k not in VOLATILE_RUN}
    results = []
    for r in doc["results"]:
        results.append({k: v for k, v in r.items() if k not in ("duration_s",)})
    return {"run": run, "results": results, "summary": doc.get("summary"), "coverage": doc.get("coverage")}


def test_demo_plan_gives_identical_results_on_dask_and_locally(cluster, demo, tmp_path):
    from golive.ledger import Store, verify_store

    clock = FixedClock()
    local, _ = run_demo(demo, None, tmp_path / "local-store", clock)
    dask, recorder = run_demo(demo, cluster, tmp_path / "dask-store", clock)
    assert dask["run"]["executor"] == "dask"
    assert len(dask["results"]) == 100
    assert normalised(dask) == normalised(local)
    # the single writer in this process recorded every outcome, artifacts included
    report = verify_store(Store(tmp_path / "dask-store"))
    assert report.ok, report.problems
    assert report.entries == 1 + 100 + 3
    with_artifacts = [r for r in dask["results"] if r.get("artifacts")]
    assert with_artifacts, "no check recorded an artifact on the workers"


def _raises(requirement, ctx):
    raise RuntimeError(f"disk on fire under {ctx.target.root.name}")


def _sleeps(requirement, ctx):
    time.sleep(3)  # cannot be interrupted on the worker: keep short so the slot frees soon
    return CheckResult()


def _records(requirement, ctx):
    (ctx.target.root / "seen.txt").write_text("evidence\n")
    ctx.record_artifact("seen.txt")
    return CheckResult(metrics={"pid_differs": 1}, message="ran on a worker")


def _warns(requirement, ctx):
    ctx.log.warning("clock skew of %d ms on the feed host", 7)
    return CheckResult(message="ok with a warning")


def _job(tmp_path: Path, req_id: str, func, timeout_s: float = 60.0) -> _Job:
    req = Requirement(id=req_id, title=req_id, statement="s", category="c", priority="high", plan_lines=(1, 1))
    spec = CheckSpec("testing", func.__name__.strip("_"), func, "test check")
    ctx = CheckContext(target=Target(root=tmp_path), params={}, settings={},
                       log=__import__("logging").getLogger("golive.check.test"))
    return _Job(req, spec, ctx, timeout_s)


def test_crash_and_timeout_on_a_worker_are_error_outcomes_and_the_rest_completes(cluster, tmp_path):
    jobs = [_job(tmp_path, "T-CRASH", _raises), _job(tmp_path, "T-SLOW", _sleeps, timeout_s=0.5),
            _job(tmp_path, "T-OK", _records)]
    outcomes = {o.requirement.id: o for o in run_jobs(jobs, 3, cluster)}
    assert outcomes["T-CRASH"].status is Status.ERROR
    assert "RuntimeError: disk on fire" in outcomes["T-CRASH"].reason and "T-CRASH" in outcomes["T-CRASH"].reason
    assert outcomes["T-SLOW"].status is Status.ERROR and "timed out after 0.5 s" in outcomes["T-SLOW"].reason
    ok = outcomes["T-OK"]
    assert ok.status is Status.PASS, ok.reason
    assert [a.path for a in ok.artifacts] == ["seen.txt"]  # recorded on the worker, returned here


def test_warnings_logged_on_a_worker_process_reach_the_main_process(cluster, tmp_path, caplog):
    caplog.set_level("WARNING", logger="golive")
    [outcome] = list(run_jobs([_job(tmp_path, "T-WARN", _warns)], 1, cluster))
    assert outcome.status is Status.PASS
    assert [r.getMessage() for r in caplog.records if r.name == "golive.check.test"] == [
        "clock skew of 7 ms on the feed host"]


def test_per_file_work_spreads_over_the_workers(cluster, tmp_path):
    from golive.plugins.feed.dbn_quality import QualityOptions
    from golive.plugins.feed.quality_check import _one, run_files
    from dataclasses import asdict

    paths = []
    for i in range(4):
        p = tmp_path / f"day{i}.dbn"
        write_mbo_file(p, ("ESZ6",), 3_000, seed=i, defects=["gap"] if i == 2 else ())
        paths.append(str(p))
    opts = asdict(QualityOptions())

    def scan(files, options):
        from distributed import get_worker
        results = map_per_file(_one, files, options)
        return results, get_worker().address

    from distributed import get_task_stream

    with get_task_stream(client=cluster.client) as stream:
        remote, _addr = cluster.client.submit(scan, paths, opts, pure=False).result()
    per_file = [t for t in stream.data if "_one" in str(t["key"])]
    assert len(per_file) == len(paths)
    # which worker takes which file is Dask's choice (work stealing under load); one task per
    # file is what lets them spread -- the benchmark measures the speed-up on 2 workers
    assert {t["worker"] for t in per_file} <= set(cluster.client.scheduler_info()["workers"])
    local = run_files([Path(p) for p in paths], QualityOptions())
    assert remote is not None, "map_per_file did not use the cluster from inside a task"
    assert [r["metrics"] for r in remote] == [r["metrics"] for r in local]
    assert remote[2]["metrics"]["sequence_gaps"] >= 1
    # outside a Dask task the caller is told to do the work itself
    assert map_per_file(_one, paths, opts) is None


def test_executor_specs():
    assert executor_from_spec("local") is None and executor_from_spec(None) is None
    assert executor_from_spec("dask").address is None
    assert executor_from_spec("dask://10.1.2.3:8786").address == "tcp://10.1.2.3:8786"
    assert executor_from_spec("dask://tls://h:8786").address == "tls://h:8786"
    for bad in ("threads", "dask://"):
        with pytest.raises(ExecutorError):
            executor_from_spec(bad)


def test_unreachable_scheduler_is_a_clear_error():
    executor = DaskExecutor(address="127.0.0.1:1", connect_timeout_s=1)
    with pytest.raises(ExecutorError, match="127.0.0.1:1"):
        executor.start()
