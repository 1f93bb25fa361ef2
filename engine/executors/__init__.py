"""Where checks run: the local thread pool (``golive.run.runner``, the default) or a Dask cluster.

``executor_from_spec("local" | "dask" | "dask://ADDRESS")`` gives ``None`` for local (the
runner's own threads) or a :class:`~golive.executors.dask.DaskExecutor`; pass it as
``RunOptions(executor=...)``. Whatever runs the checks, outcomes come back to the main process,
where the runner hands them to the observer hooks -- so the ledger stays the single writer.

:func:`map_per_file` lets a data check spread its per-file work over the cluster when the
check itself runs on a Dask worker, and tells the caller to do the work itself otherwise.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

EXECUTOR_HELP = ("where checks run: local (threads in this process), dask (a LocalCluster on this "
                 "machine) or dask://ADDRESS (an existing Dask scheduler, e.g. dask://10.0.0.5:8786)")


class ExecutorError(ValueError):
    """An executor spec that cannot be used (unknown name, Dask not installed, cluster down)."""


def executor_from_spec(spec: str | None, workers: int | None = None):
    """``None`` for the local executor, else a (not yet started) ``DaskExecutor``."""
    spec = (spec or "local").strip()
    if spec == "local":
        return None
    if spec == "dask" or spec.startswith("dask://"):
        try:
            from golive.executors.dask import DaskExecutor
        except ImportError as exc:
            raise ExecutorError(f"--executor {spec} needs Dask: pip install 'dask[distributed]' ({exc})") from None
        address = spec[len("dask://"):] if spec.startswith("dask://") else None
        if address == "":
            raise ExecutorError("--executor dask:// needs an address, e.g. dask://10.0.0.5:8786, or plain 'dask'")
        return DaskExecutor(address=address, n_workers=workers)
    raise ExecutorError(f"unknown executor {spec!r}; use local, dask or dask://ADDRESS")


def map_per_file(func: Callable[..., Any], items: Sequence[Any], *args: Any) -> list[Any] | None:
    """``[func(item, *args) for item in items]`` as Dask tasks, one per item, when called from
    a check running on a Dask worker; ``None`` when not on a worker (the caller then does the
    work itself). Results are in ``items`` order; an exception in one item is raised here."""
    try:
        from distributed import get_worker, worker_client
    except ImportError:
        return None
    try:
        get_worker()
    except ValueError:  # not inside a Dask task
        return None
    if len(items) < 2:
        return None
    # worker_client secedes this task from the worker's thread pool while it waits, so the
    # per-file tasks can use that slot (no deadlock on a one-thread worker)
    with worker_client() as client:
        futures = client.map(func, list(items), *[[a] * len(items) for a in args], pure=False)
        return client.gather(futures)
