"""Advisory work on the second core while the checks run on the first.

Link suggestions for a large repository cost about a second of pure Python; in a thread they
only fight the checks for the GIL (measured: the run got slower). A forked child computes them
from the parent's memory -- nothing is pickled on the way in -- and sends the result back
through a pipe; the parent collects it after the checks. Where fork is unavailable, or the
child dies, the work is done in this process instead: the answer never depends on the route.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from typing import Any, Callable

log = logging.getLogger("golive.run")


def _child(work: Callable[[], Any], writer) -> None:
    try:
        writer.send(("ok", work()))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which falls back
        writer.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        writer.close()


def start(work: Callable[[], Any], in_child: bool) -> Callable[[], Any]:
    """Begin ``work``; the returned function waits for and returns its result. With
    ``in_child`` (and fork available, and more than one core) it runs in a forked process."""
    if not (in_child and (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()):
        result = work()
        return lambda: result
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(work, writer), daemon=True, name="golive-background")
    try:
        process.start()
    except OSError as exc:
        log.warning("background process could not start (%s); working in this process", exc)
        result = work()
        return lambda: result
    writer.close()
    received: list[Any] = []

    def drain() -> None:  # read as the child writes, so a large answer never blocks it
        try:
            received.append(reader.recv())
        except (EOFError, OSError):
            pass
    drainer = threading.Thread(target=drain, daemon=True, name="golive-background-reader")
    drainer.start()

    def result() -> Any:
        drainer.join()
        process.join()
        if received and received[0][0] == "ok":
            return received[0][1]
        why = received[0][1] if received else f"exit code {process.exitcode}"
        log.warning("background process failed (%s); working in this process", why)
        return work()
    return result
