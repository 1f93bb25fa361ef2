"""Framework catalogs (requirements/frameworks/): schema, mapping to the plan, the plan loader
left alone, `golive frameworks`, and the coverage rules over a run's results."""
from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from golive.cli import cli
from golive.plan import load
from golive.plan.catalog import (
    CatalogError, CatalogItem, catalog_folder, framework_mapping, load_catalogs, read_catalogs,
    requirement_index,
)
from golive.plan.framework_coverage import (
    FAILING, MET, NO_EVIDENCE, NOT_MET, PARTLY_MET, SATISFIED, UNOBSERVED, conclude, framework_coverage,
    requirement_state,
)

REPO = Path(__file__).resolve().parent.parent
FRAMEWORKS = REPO / "requirements" / "frameworks"
SAMPLE_RESULTS = REPO / "tests" / "data" / "report" / "sample-results.json"
EXPECTED = {"rts6", "sec-15c3-5", "finra-15-09"}


@pytest.fixture(scope="module")
def plan():
    return load(None)


@pytest.fixture(scope="module")
def packaged(plan):
    return load_catalogs(None, plan)


def write_catalog(folder: Path, name: str, items: str, pattern: str = r"^Rule [0-9]+$",
                  framework_id: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(f"""\
        framework:
          id: {framework_id or name}
          title: Test framework
          source: Test source
          reference_pattern: '{pattern}'
        items:
        """) + textwrap.indent(textwrap.dedent(items), "  "), encoding="utf-8")
    return path


GOOD_ITEMS = """\
- id: T-1
  reference: Rule 1
  title: Kill switch
  text: Stop everything at once.
  requirements: [RISK-04]
- id: T-2
  reference: Rule 2
  title: Surveillance
  text: Watch for manipulation.
  gap: Nothing in the plan covers it.
"""


# --- the packaged catalogs -----------------------------------------------------------------

def test_packaged_catalogs_load_and_sit_beside_the_plan(packaged):
    assert {fw.id for fw in packaged} == EXPECTED
    assert catalog_folder(None).resolve() == FRAMEWORKS.resolve()
    for fw in packaged:
        assert Path(fw.file).name == f"{fw.id}.yaml"


def test_every_item_is_mapped_or_a_gap_and_well_referenced(packaged, plan):
    known = {r.id for r in plan.requirements}
    for path in sorted(FRAMEWORKS.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        pattern = re.compile(raw["framework"]["reference_pattern"])
        for item in raw["items"]:
            assert ("requirements" in item) != ("gap" in item), (path.name, item["id"])
            assert "uncovered" not in item or "requirements" in item, (path.name, item["id"])
            assert pattern.fullmatch(item["reference"]), (path.name, item["reference"])
            assert set(item.get("requirements", [])) <= known, (path.name, item["id"])


def test_rts6_catalogues_articles_1_to_18_and_annex_i(packaged):
    rts6 = next(fw for fw in packaged if fw.id == "rts6")
    articles = {int(m.group(1)) for i in rts6.items if (m := re.match(r"RTS 6 Art\. (\d+)", i.reference))}
    assert articles == set(range(1, 19))
    assert {i.reference for i in rts6.items if "Annex" in i.reference} == {
        "RTS 6 Annex I(1)", "RTS 6 Annex I(2)", "RTS 6 Annex I(3)"}


def test_market_access_and_finra_cover_what_the_issue_names(packaged):
    sec = next(fw for fw in packaged if fw.id == "sec-15c3-5")
    refs = {i.reference for i in sec.items}
    assert {"Rule 15c3-5(c)(1)(i)", "Rule 15c3-5(c)(1)(ii)", "Rule 15c3-5(c)(2)(i)", "Rule 15c3-5(e)(1)",
            "Rule 15c3-5(e)(2)"} <= refs
    assert any("Duplicate" in i.title for i in sec.items)
    finra = next(fw for fw in packaged if fw.id == "finra-15-09")
    areas = {i.reference.removeprefix("FINRA 15-09 ") for i in finra.items}
    assert areas == {"General Risk Assessment and Response", "Software/Code Development and Implementation",
                     "Software Testing and System Validation", "Trading Systems", "Compliance"}


def test_one_requirement_serves_several_frameworks(packaged, plan):
    index = requirement_index(packaged)
    assert {entry.split(":")[0] for entry in index["RISK-04"]} == {"rts6", "finra-15-09"}
    assert {entry.split(":")[0] for entry in index["AUD-07"]} == {"rts6", "sec-15c3-5"}
    mapping = {m["id"]: m for m in framework_mapping(packaged, plan)}
    for m in mapping.values():
        assert m["items"] == m["mapped"] + m["gaps"] and m["gaps"] > 0 and m["mapped"] > 0
        assert m["mapped_in_part"] <= m["mapped"]
    kill = next(e for e in mapping["rts6"]["entries"] if e["id"] == "RTS6-ART12")
    assert kill["requirements"][0] == {"id": "RISK-04", "title": kill["requirements"][0]["title"], "priority": "P1",
                                       "check": "risk.kill_switch", "manual": False}
    # the drill per venue and order traceability the regulation adds (section REG)
    assert [(r["id"], r["check"]) for r in kill["requirements"][1:]] == [
        ("REG-02", "regulatory.kill_drills"), ("REG-03", "regulatory.order_traceability")]
    assert {entry.split(":")[0] for entry in index["REG-04"]} == {"rts6", "sec-15c3-5", "finra-15-09"}


# --- the plan loader is unaffected --------------------------------------------------------

def test_plan_loader_ignores_the_frameworks_folder(plan):
    # the firm's 94 and the 6 of section REG (source: regulation); no catalog item among them
    assert len(plan.requirements) == 100
    assert sum(len(s.requirements) for s in plan.sections if s.origin == "plan") == 94
    assert not any("frameworks" in s.file for s in plan.sections)
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    assert "100 requirements" in result.output


# --- validation: problems name file, line and item ----------------------------------------

def test_unknown_requirement_is_refused_naming_file_and_item(tmp_path, plan):
    path = write_catalog(tmp_path, "acme", """\
        - id: T-1
          reference: Rule 1
          title: Kill switch
          text: Stop everything.
          requirements: [RISK-04, RISK-99]
        """)
    with pytest.raises(CatalogError) as caught:
        load_catalogs(tmp_path, plan)
    (problem,) = caught.value.problems
    assert problem.file == str(path) and problem.line is not None
    assert problem.field == "items[T-1].requirements[1]"
    assert "unknown requirement 'RISK-99'" in problem.message


@pytest.mark.parametrize("extra, expected", [
    ("", "it has neither requirements nor gap; an item has either 'requirements'"),
    ("  requirements: [RISK-04]\n  gap: also a gap\n", "it has 'requirements' and 'gap'"),
    ("  gap: none\n  uncovered: part\n", "it has 'uncovered' and 'gap'"),
    ("  requirements: []\n", "plan requirement ids"),
    ("  requirements: [RISK-04, RISK-04]\n", "list each once"),
    ("  gap: '   '\n", "why no plan requirement"),
])
def test_an_item_is_mapped_or_a_gap_by_schema(tmp_path, plan, extra, expected):
    write_catalog(tmp_path, "acme", "- id: T-1\n  reference: Rule 1\n  title: A\n  text: B\n" + extra)
    frameworks, problems = read_catalogs(tmp_path, plan)
    assert frameworks == []
    assert any(p.field.startswith("items[T-1]") and expected in p.message for p in problems), problems


def test_references_must_match_the_frameworks_pattern(tmp_path, plan):
    write_catalog(tmp_path, "acme", GOOD_ITEMS.replace("reference: Rule 2", "reference: Article two"))
    _, problems = read_catalogs(tmp_path, plan)
    assert [(p.field, "not well-formed for acme" in p.message) for p in problems] == [("items[T-2].reference", True)]
    write_catalog(tmp_path, "acme", GOOD_ITEMS, pattern="^Rule (")
    _, problems = read_catalogs(tmp_path, plan)
    assert [p.field for p in problems] == ["framework.reference_pattern"]


def test_duplicate_item_ids_are_refused_within_and_across_files(tmp_path, plan):
    write_catalog(tmp_path, "acme", GOOD_ITEMS + GOOD_ITEMS.split("- id: T-2")[0])
    _, problems = read_catalogs(tmp_path, plan)
    assert any("duplicate item id 'T-1'" in p.message for p in problems)
    shutil.rmtree(tmp_path)
    write_catalog(tmp_path, "acme", GOOD_ITEMS)
    write_catalog(tmp_path, "other", GOOD_ITEMS.replace("T-2", "T-3"))
    frameworks, problems = read_catalogs(tmp_path, plan)
    assert [fw.id for fw in frameworks] == ["acme"]
    assert len(problems) == 1 and "acme.yaml" in problems[0].message and problems[0].file.endswith("other.yaml")


def test_framework_id_names_its_file_and_bad_yaml_is_a_problem(tmp_path, plan):
    write_catalog(tmp_path, "acme", GOOD_ITEMS, framework_id="not-acme")
    _, problems = read_catalogs(tmp_path, plan)
    assert [p.field for p in problems] == ["framework.id"] and "rename" in problems[0].message
    (tmp_path / "acme.yaml").write_text("framework: {id: a\nitems: [", encoding="utf-8")
    _, problems = read_catalogs(tmp_path, plan)
    assert len(problems) == 1 and problems[0].file.endswith("acme.yaml")
    with pytest.raises(CatalogError, match="no framework catalogs found"):
        load_catalogs(tmp_path / "empty", plan)


# --- golive frameworks ------------------------------------------------------------------

def test_cli_lists_items_requirements_and_gaps():
    result = CliRunner().invoke(cli, ["frameworks"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for fw in EXPECTED:
        assert fw in result.output
    assert "RTS6-ART12" in result.output and "RISK-04" in result.output and "gap:" in result.output


def test_cli_json_matches_the_mapping(packaged, plan):
    result = CliRunner().invoke(cli, ["frameworks", "--json", "--framework", "sec-15c3-5"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["plan"]["digest"] == plan.digest
    sec = [fw for fw in packaged if fw.id == "sec-15c3-5"]
    assert payload["frameworks"] == json.loads(json.dumps(framework_mapping(sec, plan)))
    assert "coverage" not in payload


def test_cli_exit_2_on_invalid_catalog_unknown_framework_and_bad_results(tmp_path):
    path = write_catalog(tmp_path / "cats", "acme", GOOD_ITEMS.replace("RISK-04", "RISK-404"))
    runner = CliRunner()
    result = runner.invoke(cli, ["frameworks", "--catalogs", str(tmp_path / "cats")])
    assert result.exit_code == 2
    assert str(path) in result.output and "RISK-404" in result.output and "Traceback" not in result.output
    result = runner.invoke(cli, ["frameworks", "--framework", "basel"])
    assert result.exit_code == 2 and "unknown framework basel" in result.output
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    result = runner.invoke(cli, ["frameworks", "--results", str(tmp_path / "bad.json")])
    assert result.exit_code == 2 and "not valid JSON" in result.output
    (tmp_path / "foreign.json").write_text('{"results": []}', encoding="utf-8")
    result = runner.invoke(cli, ["frameworks", "--results", str(tmp_path / "foreign.json")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_cli_catalogs_beside_a_custom_plan(tmp_path):
    plan_dir = tmp_path / "plan"
    shutil.copytree(REPO / "requirements", plan_dir, ignore=shutil.ignore_patterns("__pycache__", "frameworks"))
    result = CliRunner().invoke(cli, ["frameworks", "--plan", str(plan_dir)])
    assert result.exit_code == 2 and "no framework catalogs found" in result.output
    write_catalog(plan_dir / "frameworks", "acme", GOOD_ITEMS)
    result = CliRunner().invoke(cli, ["frameworks", "--plan", str(plan_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert [fw["id"] for fw in json.loads(result.output)["frameworks"]] == ["acme"]


def test_cli_results_conclude_each_item_and_exit_1_when_one_is_not_met(packaged):
    document = json.loads(SAMPLE_RESULTS.read_text(encoding="utf-8"))
    result = CliRunner().invoke(cli, ["frameworks", "--json", "--results", str(SAMPLE_RESULTS)])
    payload = json.loads(result.output)
    expected = json.loads(json.dumps(framework_coverage(packaged, document)))
    assert payload["coverage"] == expected
    assert result.exit_code == (1 if any(c["conclusions"][NOT_MET] for c in expected) else 0)
    statuses = {r["requirement_id"]: r["status"] for r in document["results"]}
    for fw in expected:
        for entry in fw["entries"]:
            if entry["conclusion"] == MET:
                assert all(statuses[r["id"]] == "pass" for r in entry["requirements"]) and not entry["uncovered"]
            if entry["gap"]:
                assert entry["conclusion"] == NO_EVIDENCE
    text = CliRunner().invoke(cli, ["frameworks", "--results", str(SAMPLE_RESULTS)], env={"COLUMNS": "200"})
    assert text.exit_code == result.exit_code and "no evidence:" in text.output
    # the catalog's 'uncovered' text is labelled as the catalog's, never read as a finding of the run
    flat = " ".join(text.output.split())
    assert "catalog note, not a finding of this run: Not covered by the plan:" in flat
    assert "uncovered:" not in flat


def test_uncovered_notes_say_what_is_not_covered_not_what_a_run_found():
    """An 'uncovered' note is shown beside a run's conclusion: written as a present fact ("REG-01
    shows the inventory complete") it reads as a finding. It opens with what the plan does not
    cover, and says what the mapped requirements ask for, never what they show."""
    for path in sorted(FRAMEWORKS.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]:
            note = item.get("uncovered")
            if note is None:
                continue
            assert note.startswith("Not covered by the plan: "), (path.name, item["id"], note)
            assert not re.search(r"\b(shows?|evidences|are checked|is checked|are covered|are tracked)\b", note), \
                (path.name, item["id"], note)


# --- coverage rules ------------------------------------------------------------------------

STATUSES = ["pass", "fail", "partial", "error", "missing", "skipped", "waived-valid", "waived-expired", None]
RUN_END = "2026-11-25T18:00:00+00:00"


def _result(status: str | None, recorded: str) -> dict | None:
    if status is None:
        return None
    if status.startswith("waived"):
        expires = "2026-12-31" if status == "waived-valid" else "2026-11-24"
        return {"status": "waived", "recorded_status": recorded,
                "waiver": {"approver": "cro", "reason": "r", "expires": expires}}
    return {"status": status}


@settings(max_examples=300, deadline=None)
@given(statuses=st.lists(st.tuples(st.sampled_from(STATUSES), st.sampled_from(["fail", "missing", "pass"])),
                         min_size=1, max_size=6),
       uncovered=st.booleans())
def test_an_item_is_never_met_without_evidence(statuses, uncovered):
    ids = tuple(f"R-{n}" for n in range(len(statuses)))
    item = CatalogItem(id="T-1", reference="Rule 1", title="t", text="t", requirements=ids,
                       uncovered="part" if uncovered else None)
    from golive.plan.framework_coverage import _moment
    states = [requirement_state(_result(s, rec), _moment(RUN_END))[0] for s, rec in statuses]
    conclusion = conclude(item, states)
    satisfied = [s == SATISFIED for s in states]
    for (status, recorded), state in zip(statuses, states):
        if status in ("pass", "waived-valid"):
            assert state == SATISFIED
        elif status in ("fail", "partial", "error") or (status == "waived-expired" and recorded == "fail"):
            assert state == FAILING
        elif status != "waived-expired" or recorded != "pass":
            assert state == UNOBSERVED
    if conclusion == MET:
        assert all(satisfied) and not uncovered
    if FAILING in states:
        assert conclusion == NOT_MET
    elif all(satisfied):
        assert conclusion == (PARTLY_MET if uncovered else MET)
    elif any(satisfied):
        assert conclusion == PARTLY_MET
    else:
        assert conclusion == NO_EVIDENCE


def test_gap_items_and_empty_runs_have_no_evidence(packaged):
    gap = CatalogItem(id="T-2", reference="Rule 2", title="t", text="t", gap="none")
    assert conclude(gap, []) == NO_EVIDENCE
    empty = framework_coverage(packaged, {"run": {"finished": RUN_END}, "results": []})
    for fw in empty:
        assert fw["conclusions"][NO_EVIDENCE] == fw["items"]


def test_a_waiver_without_expiry_or_run_time_does_not_satisfy():
    from golive.plan.framework_coverage import _moment
    undated = {"status": "waived", "recorded_status": "fail", "waiver": {"approver": "a", "reason": "r"}}
    assert requirement_state(undated, _moment(RUN_END)) == (FAILING, "waiver expired or undated (recorded status fail)")
    valid = {"status": "waived", "waiver": {"approver": "a", "reason": "r", "expires": "2027-01-01T00:00:00Z"}}
    assert requirement_state(valid, _moment(RUN_END))[0] == SATISFIED
    assert requirement_state(valid, None)[0] == UNOBSERVED


def test_docs_state_the_catalog_sizes(packaged, plan):
    """docs/frameworks.md's table gives items, mapped (in part) and gaps per catalog as built."""
    page = (REPO / "docs" / "frameworks.md").read_text(encoding="utf-8")
    for m in framework_mapping(packaged, plan):
        row = next(line for line in page.splitlines() if line.startswith(f"| `{m['id']}.yaml` |"))
        assert row.endswith(f"| {m['items']} | {m['mapped']} ({m['mapped_in_part']}) | {m['gaps']} |"), row


def test_frameworks_takes_the_names_assess_takes():
    """`golive assess --framework 15c3-5` worked while `golive frameworks --framework 15c3-5` said
    'unknown framework' (seen in the real-repository trial): both take the id without its issuer."""
    runner = CliRunner()
    short = runner.invoke(cli, ["frameworks", "--framework", "15c3-5", "--json"])
    assert short.exit_code == 0, short.output
    assert [fw["id"] for fw in json.loads(short.output)["frameworks"]] == ["sec-15c3-5"]
    both = runner.invoke(cli, ["frameworks", "--framework", "RTS6", "--framework", "sec-15c3-5", "--json"])
    assert both.exit_code == 0 and {fw["id"] for fw in json.loads(both.output)["frameworks"]} == {"rts6", "sec-15c3-5"}
