"""golive.run.background: the same answer whether the work runs in a forked child or here."""
from __future__ import annotations

import os

from golive.run import background


def test_child_and_inline_give_the_same_result():
    data = {"tests": [f"t{i}" for i in range(50_000)]}  # large: the pipe must not block the child
    work = lambda: (sorted(data["tests"], reverse=True), os.getpid())  # noqa: E731
    in_child, child_pid = background.start(work, in_child=True)()
    inline, own_pid = background.start(work, in_child=False)()
    assert in_child == inline and own_pid == os.getpid()
    if (os.cpu_count() or 1) > 1:
        assert child_pid != os.getpid()  # it really ran elsewhere


def test_a_failing_child_falls_back_to_working_here(caplog):
    calls = []

    def work():
        calls.append(os.getpid())
        if os.getpid() != parent:
            raise RuntimeError("the child broke")
        return "answer"
    parent = os.getpid()
    assert background.start(work, in_child=True)() == "answer"
    assert calls[-1] == parent
    if (os.cpu_count() or 1) > 1:
        assert "the child broke" in caplog.text


def test_a_child_that_dies_without_answering_falls_back(caplog):
    parent = os.getpid()

    def work():
        if os.getpid() != parent:
            os._exit(3)
        return 42
    assert background.start(work, in_child=True)() == 42
    if (os.cpu_count() or 1) > 1:
        assert "exit code 3" in caplog.text


def test_a_run_ranks_the_same_in_a_child(monkeypatch):
    from pathlib import Path

    from golive.plan import load
    from golive.pluginmanager import create_host
    from golive.run import runner
    from golive.run.target import load_target

    workspace = Path(__file__).parent / "fixtures" / "reference-workspace"
    plan, host = load(), create_host()

    def ranked(threshold):
        monkeypatch.setattr(runner, "BACKGROUND_SUGGEST_FROM", threshold)
        report = runner.run_plan(plan, load_target(workspace), host, runner.RunOptions(only=("PRE-ALGO-01",)))
        return [s.as_dict() for s in report.suggestions]
    in_child, inline = ranked(0), ranked(10**9)
    assert in_child == inline and in_child  # the reference workspace has unconfirmed suggestions
