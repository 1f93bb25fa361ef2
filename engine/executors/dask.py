"""Run checks on a Dask cluster: a ``distributed.LocalCluster`` when no address is given, else
the scheduler at ``address`` (``tcp://host:8786``; a bare ``host:port`` means tcp).

Each check is one task: its function, requirement and context are pickled (cloudpickle) to a
worker, which returns the ``CheckResult``, the artifacts the check recorded and any warnings it
logged. The runner turns these into outcomes in the main process and hands them to the
observers there, so evidence has a single writer however many workers run checks.

Requirements of a remote cluster: the workers run the same golive and plugin versions, and see
the target workspace at the same absolute path (a shared file system): checks read the files
on the worker, and the ledger re-reads artifacts in the main process to hash and copy them.

A check that exceeds its timeout is reported as an ``error`` and its task cancelled; a task
already running on a worker thread cannot be interrupted and finishes in the background.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterable

from golive.run.params import mark_read

log = logging.getLogger("golive.executors.dask")

POLL_S = 0.005


class _WarningCapture(logging.Handler):
    """Warnings a check logs on a worker in another process, to re-log in the main process
    (where the runner collects them into the results). Only this task's thread is captured."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append((record.name, record.getMessage()))


def run_check_task(func: Callable, requirement: Any, ctx: Any, submitter_pid: int) -> dict[str, Any]:
    """The task a worker runs: one check, isolated like the local runner's ``_execute``."""
    capture = None
    if os.getpid() != submitter_pid:  # in the submitting process the runner already listens
        capture = _WarningCapture()
        logging.getLogger("golive").addHandler(capture)
    out: dict[str, Any] = {"result": None, "crash": "", "artifacts": [], "warnings": []}
    try:
        from golive.model import CheckResult

        res = func(requirement, ctx)
        if not isinstance(res, CheckResult):
            raise TypeError(f"check returned {type(res).__name__}, not CheckResult")
        out["result"] = res
    except BaseException as exc:  # noqa: BLE001 - pyo3 panics derive from BaseException
        if isinstance(exc, KeyboardInterrupt):
            raise
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
        out["crash"] = f"{type(exc).__name__}: {exc}{where}"
    finally:
        if capture is not None:
            logging.getLogger("golive").removeHandler(capture)
            out["warnings"] = capture.messages
    out["artifacts"] = list(ctx.artifacts)
    out["params_read"] = sorted(getattr(ctx.params, "read", ()))
    return out


class DaskExecutor:
    """Sends checks to a Dask cluster. Use as a context manager, or call :meth:`close`;
    the cluster (when it made one) and the client are started on first use."""

    def __init__(self, address: str | None = None, n_workers: int | None = None,
                 threads_per_worker: int = 1, processes: bool = True, connect_timeout_s: float = 10) -> None:
        if address and "://" not in address:
            address = f"tcp://{address}"
        self.address = address
        self.n_workers = n_workers or min(4, os.cpu_count() or 1)
        self.threads_per_worker = threads_per_worker
        self.processes = processes
        self.connect_timeout_s = connect_timeout_s
        self._cluster = None
        self._client = None

    def __repr__(self) -> str:
        where = self.address or f"LocalCluster({self.n_workers} workers)"
        return f"DaskExecutor({where})"

    @property
    def name(self) -> str:
        return f"dask://{self.address}" if self.address else "dask"

    @property
    def client(self):
        if self._client is None:
            self.start()
        return self._client

    def start(self) -> "DaskExecutor":
        from distributed import Client, LocalCluster

        from golive.executors import ExecutorError

        if self._client is not None:
            return self
        try:
            if self.address:
                self._client = Client(self.address, timeout=f"{self.connect_timeout_s}s")
            else:
                self._cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=self.threads_per_worker,
                                             processes=self.processes, dashboard_address=None)
                self._client = Client(self._cluster)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise ExecutorError(f"cannot reach the Dask scheduler at {self.address or 'a new LocalCluster'}: "
                                f"{exc}") from None
        return self

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> "DaskExecutor":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def threads(self) -> int:
        """Worker threads in the cluster now (0 while no worker has joined)."""
        info = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return sum(int(w.get("nthreads", 1)) for w in info.values())

    def run_jobs(self, jobs: list, width: int, finish: Callable) -> Iterable:
        """Yield outcomes as checks finish on the cluster, at most ``width`` in flight
        (the runner's ``--jobs``). ``finish(job, elapsed, timed_out)`` is the runner's."""
        client = self.client
        pid = os.getpid()
        # a check's timeout runs from its submission: never queue more checks than the cluster
        # has threads, or a check waiting for a free thread could time out without running
        width = max(1, min(width, self.threads() or width))
        pending = list(reversed(jobs))
        running: list[tuple[Any, Any]] = []
        while pending or running:
            while pending and len(running) < width:
                job = pending.pop()
                job.started = time.monotonic()
                fut = client.submit(run_check_task, job.spec.func, job.requirement, job.ctx, pid,
                                    pure=False, key=f"golive-check-{job.requirement.id}-{id(job):x}")
                running.append((job, fut))
            time.sleep(POLL_S)
            still = []
            for job, fut in running:
                elapsed = time.monotonic() - job.started
                if fut.done():
                    self._collect(job, fut)
                    yield finish(job, elapsed)
                elif elapsed > job.timeout_s:
                    fut.cancel()
                    job.crash = f"timed out after {job.timeout_s:g} s (the task was cancelled)"
                    yield finish(job, elapsed, timed_out=True)
                else:
                    still.append((job, fut))
            running = still

    @staticmethod
    def _collect(job, fut) -> None:
        try:
            out = fut.result()
        except BaseException as exc:  # noqa: BLE001 -- a worker died or could not unpickle the task
            if isinstance(exc, KeyboardInterrupt):
                raise
            job.crash = f"Dask task failed ({type(exc).__name__}: {exc})"
            return
        job.result, job.crash = out["result"], out["crash"]
        # the check ran on a copy of the context: bring back the files it recorded
        job.ctx.artifacts[:] = out["artifacts"]
        mark_read(job.ctx.params, out.get("params_read", ()))
        for logger_name, message in out["warnings"]:
            logging.getLogger(logger_name).warning("%s", message)
