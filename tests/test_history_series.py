"""Issue 14: changes and trends compare runs of one series only (plan digest, tailoring and
selection); a scheduled slice is its own series and never reads as requirements "added"."""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

from golive import history  # noqa: E402
from golive.report import build_render_model  # noqa: E402
from golive.report.markdown import render_markdown  # noqa: E402


@pytest.fixture()
def full():
    return json.loads(report_samples.SAMPLE.read_text())


def _run(doc: dict, run_id: str, started: str, selection=(), digest=None, tailoring=None) -> dict:
    d = copy.deepcopy(doc)
    d["run"].update(id=run_id, started=started, finished=started, selection=list(selection),
                    tailoring_digest=tailoring)
    if digest:
        d["run"]["plan"]["digest"] = digest
    if selection:  # a slice: only the RISK requirements
        d["results"] = [r for r in d["results"] if r["requirement_id"].startswith("RISK-")]
    return d


def test_series_key_and_reasons(full):
    base = _run(full, "a", "2026-11-01T00:00:00+00:00")
    assert history.incomparable(base, _run(full, "b", "2026-11-02T00:00:00+00:00")) is None
    sliced = _run(full, "c", "2026-11-03T00:00:00+00:00", selection=["RISK-*"])
    assert "another selection (RISK-*; this run: the whole plan)" in history.incomparable(base, sliced)
    assert "another version of the plan" in history.incomparable(base, _run(full, "d", "2026-11-04T00:00:00+00:00",
                                                                                digest="e" * 64))
    assert "different tailoring" in history.incomparable(base, _run(full, "e", "2026-11-05T00:00:00+00:00",
                                                                    tailoring="f" * 64))
    assert history.series_label(sliced).startswith("RISK-* @")
    # selection order does not make a new series
    a = _run(full, "f", "2026-11-06T00:00:00+00:00", selection=["RISK-*", "OPS-01"])
    b = _run(full, "g", "2026-11-07T00:00:00+00:00", selection=["OPS-01", "RISK-*"])
    assert history.series_key(a) == history.series_key(b)


def test_past_runs_keep_full_runs_and_slices_apart(tmp_path, full):
    store = tmp_path / "evidence"
    runs = [_run(full, "full-1", "2026-11-01T00:00:00+00:00"),
            _run(full, "risk-1", "2026-11-02T00:00:00+00:00", selection=["RISK-*"]),
            _run(full, "full-2", "2026-11-03T00:00:00+00:00"),
            _run(full, "risk-2", "2026-11-04T00:00:00+00:00", selection=["RISK-*"]),
            _run(full, "other-plan", "2026-11-05T00:00:00+00:00", digest="9" * 64)]
    for d in runs:
        history.save(store, d)
    current_full = _run(full, "full-3", "2026-11-06T00:00:00+00:00")
    current_slice = _run(full, "risk-3", "2026-11-06T00:00:00+00:00", selection=["RISK-*"])
    assert [d["run"]["id"] for d in history.past_runs(store, current_full)] == ["full-1", "full-2"]
    assert [d["run"]["id"] for d in history.past_runs(store, current_slice)] == ["risk-1", "risk-2"]
    assert {r["series"] for r in history.summary_rows(store)} >= {f"all @{full['run']['plan']['digest'][:8]}",
                                                                 f"RISK-* @{full['run']['plan']['digest'][:8]}"}


def test_a_slice_given_as_previous_is_not_diffed_and_not_in_the_trend(full):
    plan = report_samples.reference_plan()
    current = _run(full, "full-3", "2026-11-06T00:00:00+00:00")
    sliced = _run(full, "risk-2", "2026-11-04T00:00:00+00:00", selection=["RISK-*"])
    older_full = _run(full, "full-2", "2026-11-03T00:00:00+00:00")
    m = build_render_model(current, plan, previous=sliced, history=[older_full, sliced])
    assert m.changes.incomparable and not m.changes.added and not m.changes.plan_changed
    assert [p.run_id for p in m.history] == ["full-2", "full-3"]  # the slice is not a dip of the trend
    text = render_markdown(m)
    assert "is not compared: it covered another selection" in text and "- Added:" not in text
    # a previous run of the same series is compared as before
    assert build_render_model(current, plan, previous=older_full).changes.incomparable == ""
