from golive.model import Outcome, Status
from golive.run.scoring import band, coverage_by_category, coverage_by_phase, exit_code, summary

from enginehelpers import make_plan, req


def test_bands_follow_the_report():
    bands = {"well": 0.75, "partial": 0.25}
    assert [band(r, bands) for r in (0.9, 0.75, 0.74, 0.25, 0.2499, 0)] == \
        ["well", "well", "partial", "partial", "major", "major"]


def test_figures_are_per_requirement_and_exclude_not_applicable():
    reqs = [req("A-01", category="cat-a"), req("A-02", category="cat-a"), req("A-03", category="cat-a"),
            req("B-01", category="cat-b", phase=2, section="S2"), req("B-02", category="cat-b", phase=2, section="S2")]
    plan = make_plan(reqs)
    outs = [
        Outcome(reqs[0], Status.PASS, implemented=True),
        Outcome(reqs[1], Status.FAIL, implemented=True),
        Outcome(reqs[2], Status.MISSING),
        Outcome(reqs[3], Status.SKIPPED, not_applicable="n/a here"),
        Outcome(reqs[4], Status.MISSING),
    ]
    cats = {c["id"]: c for c in coverage_by_category(plan, outs)}
    assert cats["cat-a"]["requirements"] == 3 and cats["cat-a"]["implemented"] == 2
    # A-02 is a failing P1: a major gap whatever the rate (the reports apply the same rule)
    assert cats["cat-a"]["rate"] == round(2 / 3, 4) and cats["cat-a"]["band"] == "major"
    assert cats["cat-a"]["verified"] == 1
    assert cats["cat-b"]["requirements"] == 1 and cats["cat-b"]["band"] == "major"
    phases = {p["id"]: p for p in coverage_by_phase(plan, outs)}
    assert phases["2"]["requirements"] == 1
    s = summary(outs)
    assert (s["requirements"], s["not_applicable"], s["implemented"], s["verified"]) == (4, 1, 2, 1)
    assert s["compliance_rate"] == 0.5 and s["verification_rate"] == 0.25
    assert s["by_status"]["missing"] == 2 and s["by_status"]["skipped"] == 1
    docs = [{"status": o.status.value, "not_applicable": o.not_applicable or None} for o in outs]
    assert exit_code(docs) == 1
    assert exit_code([docs[0], docs[3]]) == 0
    assert exit_code([docs[0], {"status": "waived"}]) == 0
