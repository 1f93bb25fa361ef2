"""Every field `golive report RUN` prints comes from the ledger or from the run's plan, or its
digest is in the run-finished entry; only warnings added after the run closed are named as
unverified (issue 15.4; golive.ledger.bound).

One real run of the reference workspace is recorded; each test edits one field of
<store>/runs/<run>.json the way a forger would and shows the report either refuses it (exit 3,
naming the field and the entry) or renders the ledger's value, never the edit.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tamper_summary import tamper_case
from test_report_bound import invoke, run_file, store  # noqa: F401 -- `store` copies this module's `recorded`

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """One recorded run of the reference workspace (a plain key, no waivers)."""
    store = tmp_path_factory.mktemp("fields") / "evidence"
    assert invoke("keys", "init", "--store", store).exit_code == 0
    assert invoke("run", "--target", WORKSPACE, "--store", store, "-q").exit_code == 1  # the workspace has gaps
    return store


def dig(doc, path):
    for step in path:
        doc = doc[step]
    return doc


def put(doc, path, value):
    dig(doc, path[:-1])[path[-1]] = value


FLIP = "<the other boolean>"  # the recorded value depends on the checkout (clean in CI, edited locally)

# (path in the document, a forged value that still matches the results schema)
FORGED = [
    (("run", "started"), "2020-01-01T00:00:00+00:00"),
    (("run", "finished"), "2020-01-01T00:09:00+00:00"),
    (("run", "target"), "/srv/the-audited-system"),
    (("run", "host"), "prod-box-1"),
    (("run", "golive_version"), "9.9.9"),
    (("run", "plan", "version"), "9"),
    (("run", "plan", "requirements"), 12),
    (("run", "plan", "title"), "A smaller plan"),
    (("run", "selection"), ["PRE-PIPE"]),
    (("run", "tailoring_digest"), "sha256:" + "0" * 64),
    (("run", "provenance", "git", "commit"), "0" * 40),
    (("run", "provenance", "git", "dirty"), FLIP),
    (("run", "provenance", "user"), "auditor"),
    (("run", "jobs"), 64),
    (("run", "ledger", "key_protection"), "agent"),
    (("run", "ledger", "key_protected"), True),
    (("summary", "not_applicable"), 40),
    (("summary", "covered"), 99),
    (("summary", "selected"), 10),
    (("summary", "how_computed"), "covered = every requirement"),
    (("summary", "verdict", "policy", "verified"), []),
    (("coverage", "by_section", 0, "failing_ids"), ["PRE-PIPE-01"]),
    (("coverage", "by_section", 0, "title"), "Renamed section"),
    (("tests", 0, "outcome"), "failed"),
    (("tests", 1, "name"), "renamed_test"),
    (("tests", 0, "covers"), ["RISK-01"]),
    (("summary", "test_files"), 0),
    (("run", "tests_sha256"), "0" * 64),
]


@pytest.mark.parametrize("path,forged", FORGED, ids=[".".join(map(str, p)) for p, _ in FORGED])
def test_an_edited_field_is_refused_or_rendered_from_the_ledger(store, tmp_path, path, forged):
    doc = json.loads(run_file(store).read_text())
    truth = dig(doc, path)
    if forged == FLIP:
        forged = not truth
    assert truth != forged, "the edit must change something"
    put(doc, path, forged)
    run_file(store).write_text(json.dumps(doc))
    out = tmp_path / "report.json"
    res = invoke("report", doc["run"]["id"], "--store", store, "-f", "json", "-o", out)
    held = res.exit_code == 3 or (res.exit_code == 0 and dig(json.loads(out.read_text()), path) == truth)
    tamper_case(f"runs/<run>.json {'.'.join(map(str, path))} edited: report refuses it or renders the ledger's", held)
    if res.exit_code == 3:
        name = "tests[]" if path[0] == "tests" else ".".join(str(p) for p in path if not isinstance(p, int))
        assert name.split(".")[-1] in res.output and "entry" in res.output, res.output
        return
    assert res.exit_code == 0, res.output
    rendered = json.loads(out.read_text())
    assert dig(rendered, path) == truth, f"{path} rendered as the edit, not the ledger's value"


def test_run_facts_are_refused_naming_the_entry(store):
    doc = json.loads(run_file(store).read_text())
    doc["run"]["target"] = "/srv/elsewhere"
    run_file(store).write_text(json.dumps(doc))
    res = invoke("report", doc["run"]["id"], "--store", store, "-f", "json", "-o", store / "r.json")
    assert res.exit_code == 3
    assert "run.target" in res.output and "run-started entry" in res.output and "--from-ledger" in res.output


def _first(doc, field):
    return next(r for r in doc["results"] if r.get(field))


# what the document says beyond results, counts, run facts and tests: the run-finished entry
# records a digest of each part (results.extras_sha256); (label in the message, edit)
EXTRAS_EDITS = [
    ("additional tests", lambda d: d["additional_tests"].append("tests/test_forged.py::test_forged")),
    ("additional test files", lambda d: d["additional_test_files"][0].update(path="tests/test_ForgedTestName.py")),
    ("'covered via' reasons", lambda d: _first(d, "covered_via")["covered_via"].update({"t::x": "marker FORGED"})),
    ("suggested links", lambda d: _first(d, "suggested").update(suggested=[])),
    ("'if confirmed' figures", lambda d: d["summary"]["if_confirmed"].update(implemented=99)),
    ("plugin list", lambda d: d["plugins"].pop("broker")),
    ("tailoring summary", lambda d: d.update(tailoring={"id": "forged", "title": "Forged", "file": "t.yaml",
                                                          "digest": "sha256:" + "0" * 64, "changes": []})),
    ("run warnings", lambda d: d["run"].update(extras_warnings=1) or d["warnings"].append("forged")),
]


@pytest.mark.parametrize("label,edit", EXTRAS_EDITS, ids=[label for label, _ in EXTRAS_EDITS])
def test_an_edited_part_with_no_entry_of_its_own_is_refused(store, tmp_path, label, edit):
    doc = json.loads(run_file(store).read_text())
    edit(doc)
    run_file(store).write_text(json.dumps(doc))
    res = invoke("report", doc["run"]["id"], "--store", store, "-f", "md", "-o", tmp_path / "r.md")
    tamper_case(f"runs/<run>.json {label} edited: report refuses it (digest in the run-finished entry)",
                res.exit_code == 3)
    assert res.exit_code == 3, res.output
    assert ("run warnings" if label == "run warnings" else label) in res.output or "extras_warnings" in res.output
    assert "run-finished entry" in res.output and "--from-ledger" in res.output, res.output


def test_a_report_of_a_fresh_run_names_nothing_unverified(store, tmp_path):
    doc = json.loads(run_file(store).read_text())
    res = invoke("report", doc["run"]["id"], "--store", store, "-f", "md", "-f", "html", "-o", tmp_path / "r")
    assert res.exit_code == 0, res.output
    for ext in (".md", ".html"):
        text = (tmp_path / "r").with_suffix(ext).read_text()
        assert "(unverified)" not in text and "not recorded in the ledger" not in text
        assert "tests/algorithm/ifd/test_pattern_recognition.py" in text  # the additional test files, rendered


def test_a_warning_added_after_the_run_closed_is_named_unverified(store, tmp_path):
    doc = json.loads(run_file(store).read_text())
    doc["warnings"].append("witness w1 did not answer")  # as sealing and notifications add them
    run_file(store).write_text(json.dumps(doc))
    res = invoke("report", doc["run"]["id"], "--store", store, "-f", "md", "-o", tmp_path / "r.md")
    assert res.exit_code == 0, res.output
    text = (tmp_path / "r.md").read_text()
    assert "1 warning(s) added after the run closed" in text and "unverified" in text


def test_from_ledger_leaves_out_changed_parts_and_says_so(store, tmp_path):
    doc = json.loads(run_file(store).read_text())
    doc["additional_test_files"][0]["path"] = "tests/test_ForgedTestName.py"
    doc["plugins"].pop("broker")
    run_file(store).write_text(json.dumps(doc))
    out = tmp_path / "r.json"
    res = invoke("report", doc["run"]["id"], "--store", store, "--from-ledger", "-f", "json", "-f", "md", "-o", out)
    assert res.exit_code == 0, res.output
    rendered = json.loads(out.read_text())
    assert rendered["additional_test_files"] == [] and rendered["plugins"] == {}
    assert "ForgedTestName" not in out.with_suffix(".md").read_text()
    assert ("the stored additional test files and plugin list differ from the digests the ledger recorded and are "
            "left out") in out.with_suffix(".md").read_text()


def test_a_malformed_waivers_or_tailoring_block_is_refused_as_input(store):
    for field, value in (("waivers", ["forged"]), ("tailoring", ["forged"])):
        doc = json.loads(run_file(store).read_text())
        original = doc[field]
        doc[field] = value
        run_file(store).write_text(json.dumps(doc))
        res = invoke("report", doc["run"]["id"], "--store", store, "-f", "json", "-o", store / "r.json")
        assert res.exit_code == 2 and field in res.output, res.output
        doc[field] = original
        run_file(store).write_text(json.dumps(doc))


def test_from_ledger_leaves_out_a_changed_test_list(store, tmp_path):
    doc = json.loads(run_file(store).read_text())
    doc["tests"][0]["outcome"] = "failed"
    run_file(store).write_text(json.dumps(doc))
    out = tmp_path / "r.json"
    assert invoke("report", doc["run"]["id"], "--store", store, "-f", "json", "-o", out).exit_code == 3
    res = invoke("report", doc["run"]["id"], "--store", store, "--from-ledger", "-f", "json", "-f", "md", "-o", out)
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["tests"] == []
    assert "the stored test list differs from the digest the ledger recorded" in out.with_suffix(".md").read_text()


def test_a_changed_run_id_is_refused_naming_the_file_that_was_read(store):
    path = run_file(store)
    doc = json.loads(path.read_text())
    real = doc["run"]["id"]
    doc["run"]["id"] = "FORGED-RUN"
    path.write_text(json.dumps(doc))
    res = invoke("report", real, "--store", store, "-f", "json", "-o", store / "r.json")
    assert res.exit_code == 3 and f"runs/{path.name} claims run 'FORGED-RUN'" in res.output, res.output
