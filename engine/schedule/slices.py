"""What a scheduled job does: run a slice of the plan exactly as ``golive run`` would.

:class:`GoliveSliceRunner` calls :func:`golive.cli_run.execute_run` -- the same loading,
tailoring, runner, ledger recording, waivers and history as the CLI -- with ``--only`` set to
the job's requirement ids. A report job runs the whole plan and renders the report into
``<reports>/<period>/report-<date|week|month>.<format>`` (``golive.report.render_to`` through
``execute_run``'s ``report_path``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from golive.schedule.jobs import JobSpec

REPORT_FORMATS = ("pdf", "html", "md", "json")


class SliceRunError(RuntimeError):
    """The slice could not run (bad plan, target or store); the message says what to fix."""


@dataclass
class GoliveSliceRunner:
    target_dir: Path
    plan_path: Path | None = None
    store_dir: Path | None = None
    db_url: str | None = None
    tailoring_path: Path | None = None
    jobs: int = 2
    timeout_s: float = 300.0
    reports_dir: Path | None = None
    report_format: str = "pdf"

    def report_path(self, spec: JobSpec, scheduled_for: datetime | None) -> Path:
        tz = ZoneInfo(str(spec.schedule.get("timezone") or "UTC"))
        day = (scheduled_for or datetime.now(tz)).astimezone(tz).date()
        label = {"weekly": f"{day.isocalendar()[0]}-W{day.isocalendar()[1]:02d}",
                 "monthly": f"{day:%Y-%m}"}.get(spec.period or "", day.isoformat())
        from golive.history import store_path

        base = self.reports_dir or store_path(self.store_dir) / "reports"  # --store, then GOLIVE_STORE
        return base / (spec.period or "daily") / f"report-{label}.{self.report_format}"

    def __call__(self, spec: JobSpec, scheduled_for: datetime | None) -> dict:
        from golive.cli import InputError
        from golive.cli_run import execute_run

        only = spec.requirements if spec.kind == "checks" else ()
        report = self.report_path(spec, scheduled_for) if spec.kind == "report" else None
        if report is not None:
            report.parent.mkdir(parents=True, exist_ok=True)
        try:
            doc, code = execute_run(self.target_dir, self.plan_path, tuple(only), self.jobs, None, self.tailoring_path,
                                    self.timeout_s, quiet=True, report_path=report, store_dir=self.store_dir,
                                    db_url=self.db_url, evidence=True)
        except InputError as exc:
            raise SliceRunError(exc.message) from None
        return {"run_id": doc["run"]["id"], "exit_code": code, "report": str(report) if report else None,
                "summary": slice_summary(doc)}


def slice_summary(doc: dict) -> dict:
    """What the schedule records of a run: its verdict, series and figures (coverage beside
    verification; a slice is its own series, never compared with the whole plan's runs)."""
    from golive.history import rates, series_label

    s = doc["summary"]
    coverage, verification = rates(doc)
    return {"verdict": (s.get("verdict") or {}).get("state"), "series": series_label(doc),
            "requirements": s["requirements"], "by_status": {k: v for k, v in s["by_status"].items() if v},
            "coverage_rate": coverage, "verification_rate": verification}
