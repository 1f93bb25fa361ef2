"""Small in-memory plans and plugin hosts for engine unit tests (no YAML, no entry points)."""
from __future__ import annotations

from golive import hookimpl
from golive.model import (
    Category, CheckRef, CheckResult, CheckSpec, CoveredBy, Phase, Plan, Requirement, Section, Threshold,
)
from golive.pluginmanager import create_host


def make_plan(reqs: list[Requirement]) -> Plan:
    sections: dict[str, Section] = {}
    for r in reqs:
        sections.setdefault(r.section, Section(id=r.section, phase=r.phase, title=f"Section {r.section}",
                                               plan_lines=(1, 50))).requirements.append(r)
    return Plan(
        id="test-plan", title="Test Plan", version="1", source_lines=100,
        phases=[Phase(1, "one", "Phase One", (1, 50)), Phase(2, "two", "Phase Two", (51, 100))],
        categories=[Category("cat-a", "Category A"), Category("cat-b", "Category B")],
        priorities={"P1": "critical", "P2": "important", "P3": "nice"},
        bands={"well": 0.75, "partial": 0.25}, sections=list(sections.values()), digest="0" * 64,
    )


def req(rid: str, *, section: str = "SEC", phase: int = 1, category: str = "cat-a", priority: str = "P1",
        check: tuple[str, str] | None = None, params: dict | None = None, thresholds=(), manual=False,
        markers=(), timeout=None, min_period=None, max_age=None) -> Requirement:
    return Requirement(
        id=rid, title=f"title {rid}", statement=f"statement {rid}", category=category, priority=priority,
        plan_lines=(1, 2), section=section, phase=phase,
        check=CheckRef(check[0], check[1], params or {}, timeout) if check else None,
        thresholds=tuple(Threshold(*t) if isinstance(t, tuple) else t for t in thresholds),
        covered_by=CoveredBy(markers=tuple(markers)), manual=manual, min_period=min_period, max_age=max_age,
    )


class FakeChecks:
    """A checker family registered like any plugin: checks that pass metrics through, crash,
    hang or return the wrong type."""

    def __init__(self):
        self.calls: list[str] = []

    @hookimpl
    def golive_checks(self):
        return [
            CheckSpec("fake", "metrics", self.metrics, metrics=("latency_p99", "uptime", "cost")),
            CheckSpec("fake", "boom", self.boom),
            CheckSpec("fake", "hang", self.hang),
            CheckSpec("fake", "wrong_type", lambda r, c: {"status": "pass"}),
            CheckSpec("fake", "panic", self.panic),
            CheckSpec("fake", "declared", lambda r, c: CheckResult(status=c.params["status"], message="declared")),
            CheckSpec("fake", "observed", self.observed, metrics=("latency_p99", "uptime", "cost")),
        ]

    def observed(self, requirement, ctx):
        """Metrics, an optional declared status and ``observed`` exactly as the params say."""
        return CheckResult(status=ctx.params.get("status"), metrics=dict(ctx.params.get("metrics", {})),
                           observed=dict(ctx.params.get("observed", {})), message=ctx.params.get("message", ""),
                           configure=ctx.params.get("configure", ""))

    def metrics(self, requirement, ctx):
        self.calls.append(requirement.id)
        return CheckResult(metrics=dict(ctx.params.get("metrics", {})))

    def boom(self, requirement, ctx):
        raise RuntimeError("checker exploded")

    def hang(self, requirement, ctx):
        import threading
        threading.Event().wait(30)
        return CheckResult()

    def panic(self, requirement, ctx):
        class PanicException(BaseException):  # what pyo3 raises: not an Exception
            pass
        raise PanicException("rust panicked")


def make_host(*plugins):
    host = create_host(load_entry_points=True)
    for i, p in enumerate(plugins):
        host.register(p, f"test{i}")
    return host
