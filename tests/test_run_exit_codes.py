"""What `golive run` exits with, and how that relates to the readiness verdict (issue 14).

--gate verified (default, unchanged): 0 when every selected requirement passes or is waived --
never with NOT READY, and with INCOMPLETE only when the scope or the signature is all that keeps
the run from READY. --gate ready: 0 only for READY. 2 for input errors, before any verdict.
"""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from golive.cli import EXIT_GAPS, EXIT_INPUT, EXIT_OK, cli
from golive.cli_run import gate_exit_code
from golive.run.scoring import exit_code

from test_report_truth import documents

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_exit_codes_follow_the_verdict(doc):
    verdict = doc["summary"]["verdict"]
    strict = exit_code(doc["results"])
    verified = gate_exit_code(doc, "verified", strict)
    ready = gate_exit_code(doc, "ready", strict)
    assert verified == strict and verified in (EXIT_OK, EXIT_GAPS) and ready in (EXIT_OK, EXIT_GAPS)
    assert (ready == EXIT_OK) == (verdict["state"] == "READY")
    if verified == EXIT_OK:
        assert verdict["state"] != "NOT READY"
        if verdict["state"] == "INCOMPLETE":  # only the scope or the signature stands in the way
            assert verdict["pending"] == [] and verdict["reasons"]
            assert all(r.startswith(("partial scope:", "unsigned:")) for r in verdict["reasons"])
    if verdict["state"] == "NOT READY":
        assert verified == ready == EXIT_GAPS


def test_run_exit_codes_on_the_reference_workspace(tmp_path):
    # PRE-PIPE-01 passes there: an unsigned partial run of it is INCOMPLETE
    out = tmp_path / "one.json"
    res = invoke("run", "--target", WORKSPACE, "--only", "PRE-PIPE-01", "--no-evidence", "--json", out)
    assert res.exit_code == EXIT_OK, res.output
    verdict = json.loads(out.read_text())["summary"]["verdict"]
    assert verdict["state"] == "INCOMPLETE" and "verdict: INCOMPLETE" in res.output
    gated = invoke("run", "--target", WORKSPACE, "--only", "PRE-PIPE-01", "--no-evidence", "--gate", "ready", "-q")
    assert gated.exit_code == EXIT_GAPS
    # failures: 1 under both gates, with NOT READY
    for gate in ("verified", "ready"):
        res = invoke("run", "--target", WORKSPACE, "--only", "PRE-PIPE", "--no-evidence", "--gate", gate,
                     "--json", out)
        assert res.exit_code == EXIT_GAPS and json.loads(out.read_text())["summary"]["verdict"]["state"] == "NOT READY"
    # input errors: 2, and no verdict is printed
    for args in (("--gate", "green"), ("--only", "NOPE-99"), ("--target", tmp_path / "absent")):
        res = invoke("run", "--target", WORKSPACE, "--no-evidence", *args)
        assert res.exit_code == EXIT_INPUT and "verdict:" not in res.output, args


def test_help_says_what_each_exit_code_means():
    text = " ".join(invoke("run", "--help").output.split())
    assert "Exit codes, for CI:" in text
    for phrase in ("0 --gate verified (default): every selected requirement passes or is waived",
                   "Never with NOT READY", "--gate ready: the verdict is READY",
                   "1 anything else", "2 input errors"):
        assert phrase in text, phrase
