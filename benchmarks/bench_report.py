"""Time the full-plan PDF report and split golive's own work from WeasyPrint's.

    /work/main/.venv/bin/python benchmarks/bench_report.py [RESULTS_JSON] [--repeat N]

Without RESULTS_JSON it uses the hand-made reference-fixture document in tests/data/report/
(94 requirements, 23 test files, 31 result files). The plan is the packaged one when its
digest matches the document's, else the reference outline. Prints, per stage, the median
over the repeats: render model, Jinja2 template, WeasyPrint layout, WeasyPrint PDF write,
then pages, total seconds and golive's share of the total. The first run is a warm-up
(imports, font discovery, template compilation) and is reported separately.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data" / "report"))


def _plan_for(document: dict):
    import report_samples

    try:
        from golive.plan import load

        plan = load()
        if plan.digest == document["run"]["plan"].get("digest"):
            return plan, "packaged plan"
    except Exception:  # the packaged plan may be mid-edit; the outline is always there
        pass
    return report_samples.reference_plan(), "reference outline (tests/data/report)"


def run_once(document: dict, plan) -> dict[str, float | int]:
    from golive.report import build_render_model
    from golive.report.fetcher import AssetOnlyFetcher
    from golive.report.html import render_html
    from golive.report.pdf import layout, write

    t0 = time.perf_counter()
    model = build_render_model(document, plan)
    t1 = time.perf_counter()
    html_text = render_html(model, for_pdf=True)
    t2 = time.perf_counter()
    pages, html_text, fetcher = layout(model, fetcher=AssetOnlyFetcher(), html_text=html_text)
    t3 = time.perf_counter()
    pdf = write(model, pages, html_text, fetcher)
    t4 = time.perf_counter()
    return {"model": t1 - t0, "template": t2 - t1, "layout": t3 - t2, "write": t4 - t3,
            "total": t4 - t0, "pages": len(pages.pages), "bytes": len(pdf)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path,
                        default=ROOT / "tests" / "data" / "report" / "sample-results.json")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    document = json.loads(args.results.read_text())
    plan, plan_source = _plan_for(document)

    t = time.perf_counter()
    warm = run_once(document, plan)
    cold = time.perf_counter() - t
    runs = [run_once(document, plan) for _ in range(args.repeat)]
    med = {k: statistics.median(r[k] for r in runs) for k in ("model", "template", "layout", "write", "total")}
    own = med["model"] + med["template"]
    print(f"input: {args.results} ({len(document['results'])} requirements), plan: {plan_source}")
    print(f"first run (imports, fonts, template compile): {cold:.2f} s")
    print(f"median of {args.repeat}: model {med['model']*1000:.1f} ms, template {med['template']*1000:.1f} ms, "
          f"layout {med['layout']:.2f} s, write {med['write']:.2f} s")
    print(f"pages {warm['pages']}, PDF {warm['bytes'] / 1024:.0f} KiB, total {med['total']:.2f} s, "
          f"golive's own work {own / med['total'] * 100:.1f}% of the total")


if __name__ == "__main__":
    main()
